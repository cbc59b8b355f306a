using System.Net;
using System.Net.Sockets;
using Actors.Broker.Configuration;
using Actors.Broker.Hosting;
using Actors.Kafka.Hosting;
using Actors.Orleans.Sqlite;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace Actors.Silo;

/// <summary>Which membership table the silos share.</summary>
internal enum ClusteringProvider
{
    /// <summary>One SQLite file on this machine (the embedded default).</summary>
    Sqlite,

    /// <summary>An Azure Storage table (Orleans' provider), for silos on several VMs.</summary>
    AzureTable,
}

/// <summary>Where grain state (controller metadata, producer ids, consumer-group offsets) lives.</summary>
internal enum GrainStorageProvider
{
    /// <summary>One SQLite file on this machine (the embedded default).</summary>
    Sqlite,

    /// <summary>Azure Blob storage (Orleans' provider).</summary>
    AzureBlob,
}

/// <summary>
/// The silo executable's own settings, from section "Actors": the silo's identity and endpoints ("Actors:Silo"),
/// the membership table ("Actors:Clustering"), grain state ("Actors:GrainStorage") and failure detection
/// ("Actors:Membership", Orleans' <see cref="ClusterMembershipOptions"/> over the defaults in
/// <see cref="FailureDetection"/>). Each is turned into Orleans options by <see cref="Apply"/>.
/// </summary>
internal sealed class SiloSettings
{
    public string Name { get; set; } = Environment.MachineName;

    public string AdvertisedHost { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public string DataDirectory { get; set; } = "data";

    public string ClusterId { get; set; } = "actors";

    public string ServiceId { get; set; } = "actors";

    /// <summary>The port of /health and /metrics ("Actors:Http:Port", http.port); 0 serves no HTTP.</summary>
    public int HttpPort { get; set; } = 8080;

    public ClusteringProvider Clustering { get; set; }

    public string? ClusteringConnectionString { get; set; }

    public string? ClusteringDatabasePath { get; set; }

    public GrainStorageProvider GrainStorage { get; set; }

    public string? GrainStorageConnectionString { get; set; }

    public string? GrainStorageDatabasePath { get; set; }

    /// <summary>TLS between silos and on the gateway (<c>cluster.tls.*</c>), or null when off.</summary>
    public ClusterTls? ClusterTls { get; private set; }

    /// <summary>Who may use /metrics and the console (<c>http.auth</c>).</summary>
    public HttpAuthMode HttpAuth { get; private set; }

    /// <summary>Reads the settings and checks them; the message names the setting to change.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public static SiloSettings Read(IConfiguration configuration)
    {
        var settings = new SiloSettings();
        try
        {
            configuration.GetSection("Actors:Silo").Bind(settings);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value ("Failed to convert configuration value 'abc' at 'Actors:Silo:SiloPort' ..."):
            // say that, without a stack trace.
            throw new ArgumentException($"{e.Message} Ports are whole numbers (--port, --gateway-port); see --help.", e);
        }

        var clustering = configuration.GetSection("Actors:Clustering");
        settings.Clustering = ParseEnum(clustering["Provider"], ClusteringProvider.Sqlite, "Actors:Clustering:Provider");
        settings.ClusteringConnectionString = clustering["ConnectionString"];
        settings.ClusteringDatabasePath = clustering["Sqlite:DatabasePath"];
        var storage = configuration.GetSection("Actors:GrainStorage");
        settings.GrainStorage = ParseEnum(storage["Provider"], GrainStorageProvider.Sqlite, "Actors:GrainStorage:Provider");
        settings.GrainStorageConnectionString = storage["ConnectionString"];
        settings.GrainStorageDatabasePath = storage["Sqlite:DatabasePath"];
        settings.HttpPort = int.TryParse(configuration["Actors:Http:Port"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var http) ? http : settings.HttpPort;
        settings.Validate();
        // The Kafka listener's settings are checked here too, so a bad one is reported before the silo starts.
        var kafka = KafkaSiloBuilderExtensions.ReadOptions(configuration, settings.AdvertisedHost);
        settings.ClusterTls = ClusterTls.Read(configuration);
        settings.HttpAuth = HttpAuthentication.ReadMode(configuration, kafka.ResolveAll(settings.AdvertisedHost).Any(l => l.Security.Sasl));
        return settings;
    }

    private void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Name), "Actors:Silo:Name (--name) must not be empty: it names this silo's replicas.");
        Require(SiloPort is > 0 and < 65536, $"Actors:Silo:SiloPort (--port) must be between 1 and 65535; got {SiloPort}.");
        Require(GatewayPort is >= 0 and < 65536, $"Actors:Silo:GatewayPort (--gateway-port) must be between 0 (no gateway) and 65535; got {GatewayPort}.");
        Require(!string.IsNullOrWhiteSpace(DataDirectory), "Actors:Silo:DataDirectory (--data) must name a folder.");
        Require(!string.IsNullOrWhiteSpace(ClusterId), "Actors:Silo:ClusterId (--cluster-id) must not be empty.");
        Require(!string.IsNullOrWhiteSpace(ServiceId), "Actors:Silo:ServiceId must not be empty.");
        Require(Clustering != ClusteringProvider.AzureTable || !string.IsNullOrWhiteSpace(ClusteringConnectionString),
            "Actors:Clustering:ConnectionString must be an Azure Storage connection string when Actors:Clustering:Provider is AzureTable.");
        Require(GrainStorage != GrainStorageProvider.AzureBlob || !string.IsNullOrWhiteSpace(GrainStorageConnectionString),
            "Actors:GrainStorage:ConnectionString must be an Azure Storage connection string when Actors:GrainStorage:Provider is AzureBlob.");
    }

    /// <summary>Checks the broker settings ("Actors:Broker", Kafka names included) before the silo starts, so a bad
    /// value is reported as one line naming the setting instead of a failed host start.</summary>
    /// <exception cref="ArgumentException">A broker setting is out of range or not a number.</exception>
    public void ValidateBroker(IConfiguration configuration)
    {
        var broker = new BrokerOptions();
        try
        {
            configuration.GetSection(BrokerSiloBuilderExtensions.ConfigurationSection).Bind(broker);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"{e.Message} (a broker setting; see --help for the Kafka names).", e);
        }

        if (string.IsNullOrWhiteSpace(broker.LogDirs))
        {
            broker.LogDirs = Path.Combine(DataDirectory, "logs");
        }

        broker.Validate();
    }

    /// <summary>The address other silos and clients use: <see cref="AdvertisedHost"/> as an IP, or its first IPv4
    /// address when it is a host name.</summary>
    public IPAddress AdvertisedAddress()
    {
        if (IPAddress.TryParse(AdvertisedHost, out var ip))
        {
            return ip;
        }

        try
        {
            var addresses = Dns.GetHostAddresses(AdvertisedHost);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException(
                $"Actors:Silo:AdvertisedHost (--host) '{AdvertisedHost}' is neither an IP address nor a host name that resolves here ({e.Message}); give the address other silos reach this one at.", e);
        }
    }

    /// <summary>Configures the Orleans silo: name, endpoints, cluster, membership table, grain state, failure
    /// detection, the broker with its logs under <see cref="DataDirectory"/>, and the Kafka listener ("Actors:Kafka").</summary>
    public void Apply(ISiloBuilder silo, IConfiguration configuration)
    {
        var advertised = AdvertisedAddress();
        var data = Path.GetFullPath(DataDirectory);
        silo.Configure<SiloOptions>(o => o.SiloName = Name);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = ClusterId;
            o.ServiceId = ServiceId;
        });
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = SiloPort;
            o.GatewayPort = GatewayPort;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            FailureDetection.Apply(o);
            configuration.GetSection("Actors:Membership").Bind(o);
        });

        switch (Clustering)
        {
            case ClusteringProvider.Sqlite:
                var membershipFile = ClusteringDatabasePath ?? Path.Combine(data, "cluster.db");
                silo.UseSqliteClustering(o => o.DatabasePath = membershipFile);
                MembershipTableOutageLog.Decorate(silo.Services, $"SQLite file {membershipFile}, set by Actors:Clustering:Sqlite:DatabasePath");
                break;
            case ClusteringProvider.AzureTable:
                var tables = new TableServiceClient(ClusteringConnectionString);
                silo.UseAzureStorageClustering(o => o.TableServiceClient = tables);
                MembershipTableOutageLog.Decorate(silo.Services, $"Azure Table storage at {tables.Uri}, set by Actors:Clustering:ConnectionString");
                break;
        }

        switch (GrainStorage)
        {
            case GrainStorageProvider.Sqlite:
                silo.AddSqliteGrainStorage("Default", o => o.DatabasePath = GrainStorageDatabasePath ?? Path.Combine(data, "grains.db"));
                silo.Services.AddKeyedSingleton<IGrainStateETags>("Default", (services, key) => new SqliteGrainStateETags(services.GetRequiredKeyedService<IGrainStorage>(key)));
                break;
            case GrainStorageProvider.AzureBlob:
                var blobs = new BlobServiceClient(GrainStorageConnectionString);
                silo.AddAzureBlobGrainStorage("Default", options => options.Configure<IServiceProvider>((o, services) =>
                {
                    o.BlobServiceClient = blobs;
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
                }));
                break;
        }

        ClusterTls?.Apply(silo);
        silo.AddBroker(o => o.DataDirectory = data);
        // Kafka clients are told the silo's own advertised host unless Actors:Kafka says otherwise.
        silo.AddKafkaListener(o => o.AdvertisedHost ??= AdvertisedHost);
    }

    private static T ParseEnum<T>(string? value, T fallback, string key)
        where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new ArgumentException($"{key} '{value}' is not one of: {string.Join(", ", Enum.GetNames<T>())}.");
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>
/// The silo's failure-detection defaults (Orleans' <see cref="ClusterMembershipOptions"/>), chosen so a killed silo is
/// declared Dead, and its partitions led elsewhere, within seconds rather than Orleans' default of about 15 s (60 s for
/// a frozen one). Each silo probes others every second; a probe unanswered for 1 s is missed; 3 misses in a row make
/// the prober suspect the silo, and 2 suspicions (from different silos) declare it Dead. The connection liveness check
/// is off: it keeps a frozen (SIGSTOPped) process alive for as long as its kernel keeps its sockets open.
/// A silo is therefore suspected only after about 3 s of not answering at all, which a garbage collection or a
/// loaded 2-core VM does not reach. Every value can be changed under "Actors:Membership".
/// </summary>
internal static class FailureDetection
{
    public static void Apply(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 3;
        o.NumVotesForDeathDeclaration = 2;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.EnableConnectionLivenessCheck = false;
    }
}
