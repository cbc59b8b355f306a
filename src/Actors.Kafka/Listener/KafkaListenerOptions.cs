using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Actors.Kafka.Security;

namespace Actors.Kafka.Listener;

/// <summary>
/// The Kafka listener of a silo (configuration section "Actors:Kafka"). The Kafka names work too:
/// <c>listeners</c> (<c>PLAINTEXT://0.0.0.0:9092</c>) sets where it binds and <c>advertised.listeners</c> what clients
/// are told; when given they win over <see cref="BindAddress"/>/<see cref="Port"/> and
/// <see cref="AdvertisedHost"/>/<see cref="AdvertisedPort"/>.
/// </summary>
public sealed partial class KafkaListenerOptions
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

    /// <summary>Kafka's <c>listener.security.protocol.map</c>: <c>NAME:PROTOCOL</c> pairs for listener names other than
    /// the protocols' own (<c>INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL</c>).</summary>
    public string? SecurityProtocolMap { get; set; }

    /// <summary>Kafka's <c>sasl.enabled.mechanisms</c> on a SASL listener: any of SCRAM-SHA-256, SCRAM-SHA-512 and
    /// PLAIN. Default SCRAM-SHA-256,SCRAM-SHA-512.</summary>
    public string SaslEnabledMechanisms { get; set; } = "SCRAM-SHA-256,SCRAM-SHA-512";

    /// <summary>Kafka's <c>ssl.keystore.location</c> on an SSL listener: a PEM file holding the listener's certificate
    /// (with its chain) and its private key.</summary>
    public string? SslKeystoreLocation { get; set; }

    /// <summary>Kafka's <c>ssl.keystore.type</c>: PEM is the one served.</summary>
    public string SslKeystoreType { get; set; } = "PEM";

    /// <summary>Kafka's <c>ssl.key.password</c>: the password of an encrypted private key in the keystore file.</summary>
    public string? SslKeyPassword { get; set; }

    /// <summary>Kafka's <c>ssl.client.auth</c> on SSL listeners: <c>none</c> (default), <c>requested</c> (a client may
    /// present a certificate) or <c>required</c> (a client without a certificate signed by a CA of
    /// <see cref="SslTruststoreLocation"/> is refused). On an SSL listener the principal of a client with a certificate is
    /// <c>User:</c> and the certificate's subject (RFC 2253, e.g. <c>User:CN=alice,O=acme</c>). As in Kafka it applies to
    /// SASL_SSL listeners only through <see cref="ListenerSslClientAuth"/> (the principal there comes from SASL).</summary>
    public string SslClientAuth { get; set; } = "none";

    /// <summary>Kafka's <c>listener.name.&lt;listener&gt;.ssl.client.auth</c>: <c>ssl.client.auth</c> for one listener by
    /// name (<c>Actors:Kafka:ListenerSslClientAuth:SASL_SSL=required</c>), winning over <see cref="SslClientAuth"/>.</summary>
    public Dictionary<string, string> ListenerSslClientAuth { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Kafka's <c>ssl.truststore.location</c>: a PEM file with the CA certificates that sign the clients'
    /// certificates; needed when a listener asks for client certificates.</summary>
    public string? SslTruststoreLocation { get; set; }

    /// <summary>Kafka's <c>ssl.truststore.type</c>: PEM is the one served.</summary>
    public string SslTruststoreType { get; set; } = "PEM";

    /// <summary>A TLS handshake not finished within this is abandoned and the connection closed. Default 10 s.</summary>
    public int SslHandshakeTimeoutMs { get; set; } = 10_000;

    /// <summary>Checks the options and works out where the first listener binds and what it advertises (the only one
    /// unless <see cref="Listeners"/> names several; see <see cref="ResolveAll"/>).</summary>
    /// <param name="defaultAdvertisedHost">The silo's own advertised host, used when none is set here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public KafkaListenerEndpoints Resolve(string defaultAdvertisedHost) => ResolveAll(defaultAdvertisedHost)[0];

    /// <summary>Checks the options and works out, for each listener, where it binds, what it advertises and its
    /// security: one PLAINTEXT listener from <see cref="BindAddress"/>/<see cref="Port"/> unless <see cref="Listeners"/>
    /// names them (Kafka's <c>listeners=SASL_SSL://:9093,PLAINTEXT://127.0.0.1:9092</c>), in that order. Each listener
    /// advertises the <see cref="AdvertisedListeners"/> entry with its name, or the advertised host and its bound port.</summary>
    /// <param name="defaultAdvertisedHost">The silo's own advertised host, used when none is set here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public IReadOnlyList<KafkaListenerEndpoints> ResolveAll(string defaultAdvertisedHost)
    {
        Require(MaxRequestBytes > 0, $"Actors:Kafka:MaxRequestBytes (socket.request.max.bytes) must be positive; got {MaxRequestBytes}.");
        Require(MaxInFlightRequestsPerConnection > 0,
            $"Actors:Kafka:MaxInFlightRequestsPerConnection must be positive; got {MaxInFlightRequestsPerConnection}.");
        Require(MaxQueuedRequestBytes >= (long)MaxRequestBytes + KafkaFrameReader.SizePrefixBytes,
            $"Actors:Kafka:MaxQueuedRequestBytes (queued.max.request.bytes) must be at least MaxRequestBytes (socket.request.max.bytes) + 4 = {(long)MaxRequestBytes + KafkaFrameReader.SizePrefixBytes}; got {MaxQueuedRequestBytes}.");
        Require(ConnectionsMaxIdleMs > 0, $"Actors:Kafka:ConnectionsMaxIdleMs (connections.max.idle.ms) must be positive; got {ConnectionsMaxIdleMs}.");
        Require(MaxConnections > 0, $"Actors:Kafka:MaxConnections (max.connections) must be positive; got {MaxConnections}.");
        Authorizer();
        IReadOnlyList<(string Name, string Host, int Port)> listeners = string.IsNullOrWhiteSpace(Listeners)
            ? [("PLAINTEXT", BindAddress, Port)]
            : ListenerAddress.ParseAll(Listeners, "listeners (Actors:Kafka:Listeners)");
        var duplicate = listeners.GroupBy(l => l.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        Require(duplicate is null,
            $"listeners (Actors:Kafka:Listeners) '{Listeners}' names the listener {duplicate?.Key} twice; each listener needs its own name (map names to protocols with listener.security.protocol.map, e.g. INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL).");
        var fixedPorts = listeners.Where(l => l.Port != 0).GroupBy(l => (l.Host, l.Port)).FirstOrDefault(g => g.Count() > 1);
        Require(fixedPorts is null,
            $"listeners (Actors:Kafka:Listeners) '{Listeners}' binds two listeners to port {fixedPorts?.Key.Port}; give each its own port.");

        IReadOnlyList<(string Name, string Host, int Port)> advertised = string.IsNullOrWhiteSpace(AdvertisedListeners)
            ? []
            : ListenerAddress.ParseAll(AdvertisedListeners, "advertised.listeners (Actors:Kafka:AdvertisedListeners)");
        var result = new List<KafkaListenerEndpoints>(listeners.Count);
        foreach (var (listenerName, host, port) in listeners)
        {
            result.Add(ResolveOne(listenerName, host.Length == 0 ? "0.0.0.0" : host, port, advertised, defaultAdvertisedHost));
        }

        return result;
    }

    private KafkaListenerEndpoints ResolveOne(string listenerName, string bindHost, int port,
        IReadOnlyList<(string Name, string Host, int Port)> advertised, string defaultAdvertisedHost)
    {
        Require(port is >= 0 and < 65536, $"Actors:Kafka:Port (--kafka-port) must be between 0 and 65535; got {port}.");
        if (!IPAddress.TryParse(bindHost, out var bind))
        {
            throw new ArgumentException(
                $"The Kafka bind address '{bindHost}' (Actors:Kafka:BindAddress or listeners) must be an IP address, e.g. 0.0.0.0.");
        }

        string? advertisedHost = AdvertisedHost;
        int? advertisedPort = AdvertisedPort;
        if (advertised.Count > 0)
        {
            var mine = advertised.Where(a => a.Name == listenerName).ToList();
            Require(mine.Count <= 1,
                $"advertised.listeners (Actors:Kafka:AdvertisedListeners) '{AdvertisedListeners}' names the listener {listenerName} more than once.");
            if (mine.Count == 1)
            {
                (_, advertisedHost, var parsedPort) = mine[0];
                Require(advertisedHost.Length > 0, $"advertised.listeners '{AdvertisedListeners}' must name a host clients can reach.");
                advertisedPort = parsedPort;
            }
            else
            {
                // Not named there: the silo's own advertised host and the port bound.
                advertisedHost = AdvertisedHost;
                advertisedPort = null;
            }
        }

        Require(advertisedPort is null or > 0 and < 65536,
            $"Actors:Kafka:AdvertisedPort (advertised.listeners) must be between 1 and 65535; got {advertisedPort}.");
        return new KafkaListenerEndpoints(
            new IPEndPoint(bind, port),
            string.IsNullOrWhiteSpace(advertisedHost) ? defaultAdvertisedHost : advertisedHost,
            advertisedPort)
        {
            Security = ResolveSecurity(listenerName),
        };
    }

    /// <summary>The protocol of listener <paramref name="listenerName"/> and what it needs: the certificate loaded
    /// and the mechanisms checked now, so a bad setting stops the silo at start naming it.</summary>
    private ListenerSecurity ResolveSecurity(string listenerName)
    {
        var protocol = listenerName;
        if (!string.IsNullOrWhiteSpace(SecurityProtocolMap))
        {
            foreach (var pair in SecurityProtocolMap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                Require(colon > 0, $"listener.security.protocol.map: '{pair}' is not NAME:PROTOCOL, e.g. EXTERNAL:SASL_SSL.");
                if (string.Equals(pair[..colon], listenerName, StringComparison.OrdinalIgnoreCase))
                {
                    protocol = pair[(colon + 1)..].ToUpperInvariant();
                }
            }
        }

        var (tls, sasl) = protocol switch
        {
            "PLAINTEXT" => (false, false),
            "SSL" => (true, false),
            "SASL_PLAINTEXT" => (false, true),
            "SASL_SSL" => (true, true),
            _ => throw new ArgumentException(
                $"The listener {listenerName} has no security protocol: name it PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, or map it in listener.security.protocol.map."),
        };
        string[] mechanisms = [];
        if (sasl)
        {
            mechanisms = SaslEnabledMechanisms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(m => m.ToUpperInvariant()).Distinct().ToArray();
            Require(mechanisms.Length > 0, "sasl.enabled.mechanisms (Actors:Kafka:SaslEnabledMechanisms) is empty; give SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN.");
            var unknown = mechanisms.Where(m => !SaslMechanisms.Served.Contains(m)).ToList();
            Require(unknown.Count == 0,
                $"sasl.enabled.mechanisms (Actors:Kafka:SaslEnabledMechanisms) names {string.Join(", ", unknown)}; the mechanisms served are {string.Join(", ", SaslMechanisms.Served)}.");
        }

        X509Certificate2? certificate = null;
        if (tls)
        {
            Require(string.Equals(SslKeystoreType, "PEM", StringComparison.OrdinalIgnoreCase),
                $"ssl.keystore.type (Actors:Kafka:SslKeystoreType) is '{SslKeystoreType}'; PEM is the type served (a PEM file with the certificate and its key).");
            Require(!string.IsNullOrWhiteSpace(SslKeystoreLocation),
                $"The listener {listenerName} uses TLS ({protocol}): set ssl.keystore.location (Actors:Kafka:SslKeystoreLocation) to a PEM file with the certificate and its private key.");
            Require(File.Exists(SslKeystoreLocation),
                $"ssl.keystore.location (Actors:Kafka:SslKeystoreLocation) '{SslKeystoreLocation}' does not exist.");
            var path = SslKeystoreLocation!;
            try
            {
                certificate = string.IsNullOrEmpty(SslKeyPassword)
                    ? X509Certificate2.CreateFromPemFile(path)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, SslKeyPassword);
                if (!certificate.HasPrivateKey)
                {
                    throw new CryptographicException("the file has no private key for its certificate");
                }
            }
            catch (CryptographicException e)
            {
                throw new ArgumentException(
                    $"ssl.keystore.location (Actors:Kafka:SslKeystoreLocation) '{SslKeystoreLocation}' could not be read as a PEM certificate with its private key ({e.Message}); an encrypted key needs ssl.key.password.", e);
            }
        }

        var (clientAuth, trusted) = tls ? ResolveClientAuth(listenerName, protocol) : (ClientAuth.None, null);
        return new ListenerSecurity(listenerName, protocol, tls, sasl, mechanisms, certificate) { ClientAuth = clientAuth, Truststore = trusted };
    }

    /// <summary>Whether TLS listener <paramref name="listenerName"/> asks for client certificates, and the CAs that must
    /// sign them: its <c>listener.name.&lt;name&gt;.ssl.client.auth</c>, else <c>ssl.client.auth</c> on an SSL listener
    /// (not on SASL_SSL, as in Kafka).</summary>
    private (ClientAuth Mode, X509Certificate2Collection? Truststore) ResolveClientAuth(string listenerName, string protocol)
    {
        var (setting, value) = ListenerSslClientAuth.TryGetValue(listenerName, out var own)
            ? ($"listener.name.{listenerName.ToLowerInvariant()}.ssl.client.auth (Actors:Kafka:ListenerSslClientAuth:{listenerName})", own)
            : ("ssl.client.auth (Actors:Kafka:SslClientAuth)", protocol == "SSL" ? SslClientAuth : "none");
        var mode = value?.Trim().ToUpperInvariant() switch
        {
            null or "" or "NONE" => ClientAuth.None,
            "REQUESTED" => ClientAuth.Requested,
            "REQUIRED" => ClientAuth.Required,
            _ => throw new ArgumentException($"{setting} is '{value}'; use none, requested or required."),
        };
        if (mode == ClientAuth.None)
        {
            return (mode, null);
        }

        Require(string.Equals(SslTruststoreType, "PEM", StringComparison.OrdinalIgnoreCase),
            $"ssl.truststore.type (Actors:Kafka:SslTruststoreType) is '{SslTruststoreType}'; PEM is the type served (a PEM file with the CA certificates).");
        Require(!string.IsNullOrWhiteSpace(SslTruststoreLocation),
            $"The listener {listenerName} asks for client certificates ({setting} is {value}): set ssl.truststore.location (Actors:Kafka:SslTruststoreLocation) to a PEM file with the CA certificates that sign them.");
        Require(File.Exists(SslTruststoreLocation),
            $"ssl.truststore.location (Actors:Kafka:SslTruststoreLocation) '{SslTruststoreLocation}' does not exist.");
        var trusted = new X509Certificate2Collection();
        try
        {
            trusted.ImportFromPemFile(SslTruststoreLocation!);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException(
                $"ssl.truststore.location (Actors:Kafka:SslTruststoreLocation) '{SslTruststoreLocation}' could not be read as PEM certificates ({e.Message}).", e);
        }

        Require(trusted.Count > 0, $"ssl.truststore.location (Actors:Kafka:SslTruststoreLocation) '{SslTruststoreLocation}' holds no certificate.");
        return (mode, trusted);
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
public sealed record KafkaListenerEndpoints(IPEndPoint Bind, string AdvertisedHost, int? AdvertisedPort)
{
    /// <summary>The listener's security: plaintext unless its protocol says otherwise.</summary>
    public ListenerSecurity Security { get; init; } = ListenerSecurity.Plaintext;
}

/// <summary>What a listener asks of its clients.</summary>
/// <param name="ListenerName">Its name in <c>listeners</c>.</param>
/// <param name="Protocol">PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.</param>
/// <param name="Tls">Connections are TLS.</param>
/// <param name="Sasl">Clients authenticate with SASL before any other request than ApiVersions.</param>
/// <param name="Mechanisms">The SASL mechanisms enabled (empty without SASL).</param>
/// <param name="Certificate">The TLS certificate with its key (null without TLS).</param>
public sealed record ListenerSecurity(string ListenerName, string Protocol, bool Tls, bool Sasl, IReadOnlyList<string> Mechanisms, X509Certificate2? Certificate)
{
    public static ListenerSecurity Plaintext { get; } = new("PLAINTEXT", "PLAINTEXT", false, false, [], null);

    /// <summary>Whether TLS clients are asked for a certificate (<c>ssl.client.auth</c>).</summary>
    public ClientAuth ClientAuth { get; init; }

    /// <summary>The CAs a client certificate must chain to (<c>ssl.truststore.location</c>); null when none is asked.</summary>
    public X509Certificate2Collection? Truststore { get; init; }
}

/// <summary>Kafka's <c>ssl.client.auth</c>.</summary>
public enum ClientAuth
{
    /// <summary>No client certificate is asked for.</summary>
    None,

    /// <summary>One is asked for; a client may go without (its principal is then ANONYMOUS on an SSL listener).</summary>
    Requested,

    /// <summary>A client without a trusted certificate is refused in the TLS handshake.</summary>
    Required,
}

/// <summary>Kafka's listener strings: <c>NAME://host:port</c>, several separated by commas.</summary>
public static class ListenerAddress
{
    /// <summary>Every entry of <paramref name="value"/> as (listener name, host, port); the host is empty when omitted
    /// (<c>PLAINTEXT://:9092</c>). IPv6 hosts are bracketed (<c>PLAINTEXT://[::1]:9092</c>). Names are upper-cased.</summary>
    /// <exception cref="ArgumentException">Malformed; the message names <paramref name="setting"/>.</exception>
    public static IReadOnlyList<(string Name, string Host, int Port)> ParseAll(string value, string setting)
    {
        ArgumentNullException.ThrowIfNull(value);
        var entries = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            throw new ArgumentException($"{setting} is empty; expected e.g. PLAINTEXT://0.0.0.0:9092.");
        }

        var result = new List<(string, string, int)>();
        foreach (var entry in entries)
        {
            var separator = entry.IndexOf("://", StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new ArgumentException($"{setting}: '{entry}' is not of the form PLAINTEXT://host:port.");
            }

            var (host, port) = HostAndPort(entry[(separator + 3)..], entry, setting);
            result.Add((entry[..separator].ToUpperInvariant(), host, port));
        }

        return result;
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
