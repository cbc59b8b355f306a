namespace Actors;

/// <summary>Gets references to grains. References are cheap, serializable and valid on any silo or client.</summary>
public interface IGrainFactory
{
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey;

    TGrainInterface GetGrain<TGrainInterface>(long primaryKey)
        where TGrainInterface : IGrainWithIntegerKey;

    TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey)
        where TGrainInterface : IGrainWithGuidKey;

    /// <summary>A reference of interface <typeparamref name="TGrainInterface"/> to the grain <paramref name="grainId"/>.</summary>
    TGrainInterface GetGrain<TGrainInterface>(GrainId grainId)
        where TGrainInterface : IGrain;
}

/// <summary>A client connected to a cluster through its gateways (Orleans' IClusterClient).</summary>
public interface IClusterClient : IGrainFactory, IAsyncDisposable
{
    /// <summary>True once the client has connected to at least one gateway.</summary>
    bool IsConnected { get; }

    /// <summary>Connect to a gateway; retries within the configured connect timeout.</summary>
    Task ConnectAsync(CancellationToken cancellationToken = default);
}
