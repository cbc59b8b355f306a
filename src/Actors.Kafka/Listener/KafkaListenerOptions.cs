using System.Net;

namespace Actors.Kafka.Listener;

/// <summary>
/// The Kafka listener of a silo (configuration section "Actors:Kafka"). The Kafka names work too:
/// <c>listeners</c> (<c>PLAINTEXT://0.0.0.0:9092</c>) sets where it binds and <c>advertised.listeners</c> what clients
/// are told; when given they win over <see cref="BindAddress"/>/<see cref="Port"/> and
/// <see cref="AdvertisedHost"/>/<see cref="AdvertisedPort"/>.
/// </summary>
public sealed class KafkaListenerOptions
{
    /// <summary>Kafka's default port.</summary>
    public const int DefaultPort = 9092;

    /// <summary>Kafka's default for <c>queued.max.requests</c> per connection is larger; 32 bounds the memory one client can pin.</summary>
    public const int DefaultMaxInFlightRequestsPerConnection = 32;

    /// <summary>Whether the silo listens for Kafka clients at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The IP address to bind. Default 0.0.0.0 (every IPv4 interface).</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>The TCP port to bind; 0 takes a free one (tests). Default 9092.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The host clients are told to connect to; default the silo's advertised address.</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>The port clients are told to connect to; default the bound port.</summary>
    public int? AdvertisedPort { get; set; }

    /// <summary>Kafka's <c>listeners</c>: <c>PLAINTEXT://host:port</c> (an empty host binds every interface).</summary>
    public string? Listeners { get; set; }

    /// <summary>Kafka's <c>advertised.listeners</c>: <c>PLAINTEXT://host:port</c>.</summary>
    public string? AdvertisedListeners { get; set; }

    /// <summary>The largest request accepted, in bytes (Kafka's <c>socket.request.max.bytes</c>, default 100 MiB);
    /// a larger one closes its connection.</summary>
    public int MaxRequestBytes { get; set; } = KafkaFrameReader.DefaultMaxFrameBytes;

    /// <summary>Requests of one connection read but not yet answered; at the bound the connection is not read further
    /// until the oldest is answered. Default 32.</summary>
    public int MaxInFlightRequestsPerConnection { get; set; } = DefaultMaxInFlightRequestsPerConnection;

    /// <summary>Bytes of requests read and not yet handled, across every connection (Kafka's
    /// <c>queued.max.request.bytes</c>); at the bound no connection is read further until requests finish. Default
    /// 128 MiB; at least <see cref="MaxRequestBytes"/> plus its size prefix.</summary>
    public long MaxQueuedRequestBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>A connection with no request in flight that sends nothing for this long is closed (Kafka's
    /// <c>connections.max.idle.ms</c>, default 10 minutes).</summary>
    public int ConnectionsMaxIdleMs { get; set; } = 600_000;

    /// <summary>Open connections the listener serves at once (Kafka's <c>max.connections</c>); a connection over the
    /// bound is closed at once. Default 4096.</summary>
    public int MaxConnections { get; set; } = 4096;

    /// <summary>Checks the options and works out where to bind and what to advertise.</summary>
    /// <param name="defaultAdvertisedHost">The silo's own advertised host, used when none is set here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public KafkaListenerEndpoints Resolve(string defaultAdvertisedHost)
    {
        Require(MaxRequestBytes > 0, $"Actors:Kafka:MaxRequestBytes (socket.request.max.bytes) must be positive; got {MaxRequestBytes}.");
        Require(MaxInFlightRequestsPerConnection > 0,
            $"Actors:Kafka:MaxInFlightRequestsPerConnection must be positive; got {MaxInFlightRequestsPerConnection}.");
        Require(MaxQueuedRequestBytes >= (long)MaxRequestBytes + KafkaFrameReader.SizePrefixBytes,
            $"Actors:Kafka:MaxQueuedRequestBytes (queued.max.request.bytes) must be at least MaxRequestBytes (socket.request.max.bytes) + 4 = {(long)MaxRequestBytes + KafkaFrameReader.SizePrefixBytes}; got {MaxQueuedRequestBytes}.");
        Require(ConnectionsMaxIdleMs > 0, $"Actors:Kafka:ConnectionsMaxIdleMs (connections.max.idle.ms) must be positive; got {ConnectionsMaxIdleMs}.");
        Require(MaxConnections > 0, $"Actors:Kafka:MaxConnections (max.connections) must be positive; got {MaxConnections}.");
        string bindHost = BindAddress;
        var port = Port;
        if (!string.IsNullOrWhiteSpace(Listeners))
        {
            (bindHost, port) = ListenerAddress.Parse(Listeners, "listeners (Actors:Kafka:Listeners)");
            bindHost = bindHost.Length == 0 ? "0.0.0.0" : bindHost;
        }

        Require(port is >= 0 and < 65536, $"Actors:Kafka:Port (--kafka-port) must be between 0 and 65535; got {port}.");
        if (!IPAddress.TryParse(bindHost, out var bind))
        {
            throw new ArgumentException(
                $"The Kafka bind address '{bindHost}' (Actors:Kafka:BindAddress or listeners) must be an IP address, e.g. 0.0.0.0.");
        }

        string? advertisedHost = AdvertisedHost;
        int? advertisedPort = AdvertisedPort;
        if (!string.IsNullOrWhiteSpace(AdvertisedListeners))
        {
            (advertisedHost, var parsedPort) = ListenerAddress.Parse(AdvertisedListeners, "advertised.listeners (Actors:Kafka:AdvertisedListeners)");
            Require(advertisedHost.Length > 0, $"advertised.listeners '{AdvertisedListeners}' must name a host clients can reach.");
            advertisedPort = parsedPort;
        }

        Require(advertisedPort is null or > 0 and < 65536,
            $"Actors:Kafka:AdvertisedPort (advertised.listeners) must be between 1 and 65535; got {advertisedPort}.");
        return new KafkaListenerEndpoints(
            new IPEndPoint(bind, port),
            string.IsNullOrWhiteSpace(advertisedHost) ? defaultAdvertisedHost : advertisedHost,
            advertisedPort);
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>Where the listener binds and what it advertises.</summary>
/// <param name="Bind">The local endpoint (port 0: any free port).</param>
/// <param name="AdvertisedHost">The host clients are told.</param>
/// <param name="AdvertisedPort">The port clients are told; null for the bound port.</param>
public sealed record KafkaListenerEndpoints(IPEndPoint Bind, string AdvertisedHost, int? AdvertisedPort);

/// <summary>Kafka's listener strings: <c>PLAINTEXT://host:port</c>, several separated by commas.</summary>
public static class ListenerAddress
{
    /// <summary>The host and port of the PLAINTEXT listener in <paramref name="value"/>; the host is empty when
    /// omitted (<c>PLAINTEXT://:9092</c>). IPv6 hosts are bracketed (<c>PLAINTEXT://[::1]:9092</c>).</summary>
    /// <exception cref="ArgumentException">Malformed, or no PLAINTEXT listener; the message names <paramref name="setting"/>.</exception>
    public static (string Host, int Port) Parse(string value, string setting)
    {
        ArgumentNullException.ThrowIfNull(value);
        var entries = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            throw new ArgumentException($"{setting} is empty; expected e.g. PLAINTEXT://0.0.0.0:9092.");
        }

        foreach (var entry in entries)
        {
            var separator = entry.IndexOf("://", StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new ArgumentException($"{setting}: '{entry}' is not of the form PLAINTEXT://host:port.");
            }

            if (!string.Equals(entry[..separator], "PLAINTEXT", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            return HostAndPort(entry[(separator + 3)..], entry, setting);
        }

        throw new ArgumentException(
            $"{setting} '{value}' has no PLAINTEXT listener; only PLAINTEXT://host:port is served (TLS and SASL are not yet).");
    }

    private static (string Host, int Port) HostAndPort(string address, string entry, string setting)
    {
        var colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port > 65535)
        {
            throw new ArgumentException($"{setting}: '{entry}' needs a port from 0 to 65535, as in PLAINTEXT://host:9092.");
        }

        var host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{setting}: '{entry}' has an IPv6 host without brackets; write PLAINTEXT://[::1]:9092.");
        }

        return (host, port);
    }
}
