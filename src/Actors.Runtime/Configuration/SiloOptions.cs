namespace Actors.Configuration;

/// <summary>Who a silo is and where it listens. Bound from the "Actors:Silo" configuration section.</summary>
public sealed class SiloOptions
{
    /// <summary>Default silo-to-silo port (the Orleans default).</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>Default client gateway port (the Orleans default).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>The silo's stable name (unique in the cluster; survives restarts). Default: the machine name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>The host name or IP other silos and clients use to reach this silo. Default 127.0.0.1.
    /// When it is an IP address the listeners bind to it, else to every address.</summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>Silo-to-silo TCP port. Default 11111.</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>Client gateway TCP port; 0 disables the gateway. Default 30000.</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>Folder for the silo's own files (storage providers put their files here). Default: "./data".</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Static membership only: other silos' "host:port" silo endpoints (used when no clustering provider is registered).</summary>
    public IList<string> Peers { get; } = new List<string>();
}
