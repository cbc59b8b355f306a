using System.Net;
using Actors.Broker;
using Actors.Broker.Hosting;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Actors.Testing;

/// <summary>
/// Real silo processes that form one cluster, through one SQLite membership file and one SQLite grain-state file in
/// a temporary folder (the embedded default) or through Azure Table and Blob storage (Azurite), and an Orleans
/// client on the same membership. Every process is stopped by its id when the cluster is disposed.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    /// <summary>Broker settings that keep tests short: a short follower long-poll and lag bound.</summary>
    private static readonly string[] FastBrokerArgs = ["--replica.fetch.wait.max.ms", "100", "--replica.lag.time.max.ms=2000"];

    private readonly TempDirectory folder = new("process-cluster");
    private readonly Dictionary<string, string> environment;
    private readonly string? azureConnectionString;
    private readonly Action<string> log;
    private readonly Action<IClientBuilder>? configureClient;
    private IHost? client;

    private ProcessCluster(int silos, string? azureConnectionString, Action<string> log, IReadOnlyDictionary<string, string>? extraEnvironment,
        IReadOnlyList<string>? extraArgs, Func<string, IEnumerable<string>>? siloArgs, Action<IClientBuilder>? configureClient, SiloNetwork? network)
    {
        this.azureConnectionString = azureConnectionString;
        this.log = log;
        this.configureClient = configureClient;
        environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ACTORS_BROKER__CONTROLLERMEMBERSHIPPOLLMS"] = "100",
            ["Actors__Silo__ClusterId"] = ClusterId,
        };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        if (azureConnectionString is null)
        {
            environment["Actors__Clustering__Sqlite__DatabasePath"] = folder.File("cluster.db");
            environment["Actors__GrainStorage__Sqlite__DatabasePath"] = folder.File("grains.db");
        }
        else
        {
            environment["Actors__Clustering__Provider"] = "AzureTable";
            environment["Actors__Clustering__ConnectionString"] = azureConnectionString;
            environment["Actors__GrainStorage__Provider"] = "AzureBlob";
            environment["Actors__GrainStorage__ConnectionString"] = azureConnectionString;
        }

        for (var i = 1; i <= silos; i++)
        {
            var name = $"silo{i}";
            string[] flags = [.. FastBrokerArgs, .. extraArgs ?? [], .. siloArgs?.Invoke(name) ?? []];
            Silos.Add(network is null
                ? new BrokerProcess(name, folder.Path, environment, flags, log)
                : new BrokerProcess(name, folder.Path, environment, flags, log, network.Address(i), network.Namespace(i)));
        }
    }

    /// <summary>Each cluster has its own id, so clusters on one Azure account stay apart.</summary>
    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}"[..20];

    public List<BrokerProcess> Silos { get; } = [];

    public IClusterClient Client => client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("Start the cluster first.");

    public IControllerGrain Controller => Client.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public string Folder => folder.Path;

    public BrokerProcess Silo(string name) => Silos.Single(s => s.Name == name);

    /// <summary>Starts <paramref name="silos"/> silo processes, waits until each says it is Active, then connects a client.
    /// <paramref name="environment"/> adds variables to every silo's environment (e.g. DOTNET_GCHeapHardLimit);
    /// <paramref name="args"/> adds flags to every silo's command line (e.g. --config); <paramref name="siloArgs"/> adds
    /// flags to one silo's command line, by its name; <paramref name="client"/> adds to the Orleans client's setup
    /// (e.g. TLS to the gateways); with <paramref name="network"/>, silo <c>i</c> runs in its namespace at its address.</summary>
    public static async Task<ProcessCluster> StartAsync(int silos, Action<string> log, string? azureConnectionString = null, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? args = null, Func<string, IEnumerable<string>>? siloArgs = null, Action<IClientBuilder>? client = null, SiloNetwork? network = null)
    {
        var cluster = new ProcessCluster(silos, azureConnectionString, log, environment, args, siloArgs, client, network);
        try
        {
            foreach (var silo in cluster.Silos)
            {
                silo.Start();
            }

            await Wait.UntilAsync(() => cluster.Silos.All(s => s.Started), TimeSpan.FromSeconds(180),
                $"{silos} silo processes to log that they are Active", cluster.Tails);
            await cluster.ConnectAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more silo process on the cluster's membership, with the cluster's environment plus
    /// <paramref name="environment"/> and the fast broker flags plus <paramref name="args"/> (not the flags the cluster
    /// was started with), and returns without waiting for it to join.</summary>
    public BrokerProcess StartSilo(string name, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>(this.environment, StringComparer.Ordinal);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        var silo = new BrokerProcess(name, folder.Path, variables, [.. FastBrokerArgs, .. args], log);
        Silos.Add(silo);
        silo.Start();
        return silo;
    }

    /// <summary>The last lines of every silo's output.</summary>
    public string Tails() => string.Join(Environment.NewLine, Silos.Select(s => s.Tail()));

    public async ValueTask DisposeAsync()
    {
        if (client is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await client.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopping the client is best effort; the silos are killed next.
            }

            client.Dispose();
        }

        foreach (var silo in Silos)
        {
            silo.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        folder.Dispose();
    }

    /// <summary>A second client whose only gateway is <paramref name="silo"/>: its calls reach that silo's grains
    /// without a hop through another gateway, as a Kafka producer talks to the partition leader's broker. Dispose it.</summary>
    public async Task<IHost> ConnectDirectAsync(BrokerProcess silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var endpoint = new IPEndPoint(IPAddress.Loopback, silo.GatewayPort);
        return await StartClientAsync(c => c.UseStaticClustering(endpoint));
    }

    private async Task ConnectAsync()
    {
        client = await StartClientAsync(c =>
        {
            if (azureConnectionString is null)
            {
                c.UseSqliteClustering(o => o.DatabasePath = folder.File("cluster.db"));
            }
            else
            {
                var tables = new TableServiceClient(azureConnectionString);
                c.UseAzureStorageClustering(o => o.TableServiceClient = tables);
            }
        });
        log("client connected");
    }

    private async Task<IHost> StartClientAsync(Action<IClientBuilder> clustering)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = "actors";
            });
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
            c.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            clustering(c);
            c.Services.AddBrokerSerialization();
            configureClient?.Invoke(c);
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }
}
