namespace Actors.Configuration;

/// <summary>Cluster client settings. Bound from "Actors:Client".</summary>
public sealed class ClientOptions
{
    /// <summary>Gateway endpoints "host:port" used when no membership service is registered on the client.</summary>
    public IList<string> Gateways { get; } = new List<string>();

    /// <summary>How long <see cref="IClusterClient.ConnectAsync"/> keeps trying the gateways. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
