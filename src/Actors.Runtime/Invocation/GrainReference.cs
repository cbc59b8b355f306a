namespace Actors.Invocation;

/// <summary>
/// The runtime side of a grain reference: delivers an invokable to the grain, wherever it lives.
/// Implemented by the silo (for calls made by grains) and by the cluster client.
/// </summary>
public interface IGrainCallRuntime
{
    /// <summary>Send the call and complete when its response arrives. On success the result is stored
    /// in <paramref name="call"/>; a grain exception is rethrown with its type when known
    /// (else <see cref="RemoteGrainException"/>); no response within the response timeout throws
    /// <see cref="GrainCallTimeoutException"/> naming the grain and the method.</summary>
    ValueTask InvokeAsync(GrainReference target, GrainInvokable call);

    /// <summary>Send a one-way call; completes once it is handed to the transport.</summary>
    void InvokeOneWay(GrainReference target, GrainInvokable call);

    /// <summary>The factory whose references route through this runtime.</summary>
    IGrainFactory GrainFactory { get; }
}

/// <summary>
/// Base class of generated grain proxies. A reference is the pair (grain id, interface) plus the
/// runtime that delivers its calls; it holds no connection and is cheap to create.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public abstract class GrainReference : IAddressable
{
    protected GrainReference(GrainId grainId, IGrainCallRuntime runtime)
    {
        GrainId = grainId;
        Runtime = runtime;
    }

    public GrainId GrainId { get; }

    /// <summary>Stable id of the interface this reference speaks.</summary>
    public abstract uint InterfaceId { get; }

    /// <summary>The interface's C# type.</summary>
    public abstract Type InterfaceType { get; }

    protected IGrainCallRuntime Runtime { get; }

    public override string ToString() => $"{InterfaceType.Name}:{GrainId}";

    public override bool Equals(object? obj) =>
        obj is GrainReference other && other.GrainId == GrainId && other.InterfaceId == InterfaceId;

    public override int GetHashCode() => HashCode.Combine(GrainId, InterfaceId);
}
