using Actors.Broker.Configuration;
using Actors.Broker.Hosting;
using Actors.Broker.Tests.Support;
using Actors.Orleans.Sqlite;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Actors.Broker.Tests.Cluster;

/// <summary>
/// Broker silos in one process on Orleans' <see cref="InProcessTestCluster"/>, sharing one SQLite grain-storage file,
/// each with its own log.dirs under a per-test temporary directory. Every access to the test cluster goes through
/// this class. <see cref="KillAsync"/> is Orleans' in-process kill: the host stops with a cancelled token, which the
/// broker treats as abrupt (no controlled hand-over), but it is not a crash; crashes are tested with real processes.
/// </summary>
internal sealed class BrokerCluster : IAsyncDisposable
{
    private readonly TempDirectory dir;
    private readonly InProcessTestCluster cluster;
    private readonly List<InProcessSiloHandle> all = [];

    private BrokerCluster(InProcessTestCluster cluster, TempDirectory dir, ControllerStorageProbe metadata)
    {
        this.cluster = cluster;
        this.dir = dir;
        Metadata = metadata;
    }

    /// <summary>The controller's storage as every silo of this cluster sees it: its persisted history, and gates
    /// (see <see cref="ControllerStorageProbe"/>). Disposing the cluster checks the history's invariants.</summary>
    public ControllerStorageProbe Metadata { get; }

    public IGrainFactory Client => cluster.Client;

    public IControllerGrain Controller => Client.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public string Root => dir.Path;

    /// <summary>The running silos.</summary>
    public IReadOnlyList<InProcessSiloHandle> Silos => cluster.Silos;

    /// <summary>Every silo started, stopped ones included (newest handle last).</summary>
    public IReadOnlyList<InProcessSiloHandle> AllSilos => all;

    /// <param name="silos">How many silos.</param>
    /// <param name="configure">Broker options, after the test defaults.</param>
    /// <param name="configureSilo">More silo set-up, after the broker is added (a later service registration wins).</param>
    /// <param name="configureClient">More client set-up.</param>
    public static async Task<BrokerCluster> StartAsync(
        int silos = 3, Action<BrokerOptions>? configure = null, Action<ISiloBuilder>? configureSilo = null, Action<IClientBuilder>? configureClient = null)
    {
        var dir = new TempDirectory("broker-tests");
        var db = Path.Combine(dir.Path, "grains.db");
        var metadata = new ControllerStorageProbe();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddSqliteGrainStorage("Default", o => o.DatabasePath = db)
                .AddBroker(o =>
                {
                    o.LogDirs = Path.Combine(dir.Path, "{silo}");
                    o.ControllerMembershipPollMs = 100;
                    o.ReplicaFetchWaitMaxMs = 100;
                    o.LeaderImbalanceCheckIntervalSeconds = 1;
                    configure?.Invoke(o);
                });
            metadata.Install(silo);
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddBrokerSerialization();

            // Restarted silos come back on new ports: the client learns them within a second, as a client of a
            // rolling restart should.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            configureClient?.Invoke(client);
        });
        var result = new BrokerCluster(builder.Build(), dir, metadata);
        await result.cluster.DeployAsync();
        result.all.AddRange(result.cluster.Silos);
        return result;
    }

    public IPartitionGrain Partition(string topic, int partition) =>
        Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new TopicPartition(topic, partition)));

    /// <summary>The running silo named <paramref name="name"/>.</summary>
    public InProcessSiloHandle SiloNamed(string name) => cluster.Silos.Single(s => s.Name == name);

    /// <summary>A service of the running silo <paramref name="silo"/>.</summary>
    public static T Service<T>(InProcessSiloHandle silo)
        where T : notnull => silo.ServiceProvider.GetRequiredService<T>();

    /// <summary>Names of the running silos that hold an activation of <paramref name="grain"/>.</summary>
    public string[] HostsOf(IAddressable grain)
    {
        var id = grain.GetGrainId();
        return cluster.Silos
            .Where(s => HostsActivation(s, id))
            .Select(s => s.Name)
            .ToArray();
    }

    /// <summary>The in-process kill: stops the silo with a cancelled token (no controlled shutdown).</summary>
    public Task KillAsync(string name) => cluster.KillSiloAsync(SiloNamed(name));

    /// <summary>A graceful stop (controlled shutdown runs).</summary>
    public Task StopAsync(string name) => cluster.StopSiloAsync(SiloNamed(name));

    /// <summary>Starts the silo named <paramref name="name"/> again (stopping it first if it runs): same name, so the
    /// same log.dirs, with new ports and a new generation.</summary>
    public async Task<InProcessSiloHandle> RestartAsync(string name)
    {
        var handle = cluster.Silos.FirstOrDefault(s => s.Name == name) ?? all.Last(s => s.Name == name);
        var restarted = await cluster.RestartSiloAsync(handle) ?? throw new InvalidOperationException($"Silo {name} did not restart.");
        all.Add(restarted);
        return restarted;
    }

    /// <summary>Produces with retries on retriable errors (as a client would after refreshing metadata).</summary>
    public async Task<ProduceResponse> ProduceAsync(string topic, int partition, byte[] records, short acks = -1, int attempts = 200)
    {
        ProduceResponse? last = null;
        Exception? lastError = null;
        for (var i = 0; i < attempts; i++)
        {
            try
            {
                last = await Partition(topic, partition).ProduceAsync(new ProduceRequest { Records = records, Acks = acks, TimeoutMs = 5_000 });
                if (last.Error == ErrorCode.None || !last.Error.IsRetriable())
                {
                    return last;
                }
            }
            catch (Exception e) when (Transient.Is(e))
            {
                lastError = e;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Produce to {topic}-{partition} kept failing: last answer {last?.Error} {last?.ErrorMessage}; last exception {lastError?.Message}");
        return last!;
    }

    public async Task<List<(long Offset, string Value)>> ConsumeAsync(string topic, int partition, long from, int expected)
    {
        var all = new List<(long, string)>();
        var offset = from;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (all.Count < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Consumed {all.Count} of {expected} records of {topic}-{partition} within 30 s; next offset {offset}.");
            }

            FetchResponse r;
            try
            {
                r = await Partition(topic, partition).FetchAsync(new FetchRequest { FetchOffset = offset, MaxWaitMs = 200 });
            }
            catch (Exception e) when (Transient.Is(e))
            {
                await Task.Delay(50);
                continue;
            }

            if (r.Error != ErrorCode.None)
            {
                Assert.True(r.Error.IsRetriable(), $"fetch failed: {r.Error} {r.ErrorMessage}");
                await Task.Delay(50);
                continue;
            }

            var got = Batches.Read(r.Records.Span, offset);
            all.AddRange(got);
            if (got.Count > 0)
            {
                offset = got[^1].Offset + 1;
            }
        }

        return all;
    }

    /// <summary>Calls <paramref name="call"/> until it returns without a transient error (see <see cref="Transient.Is"/>).</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, string what, int timeoutMs = 30_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (Transient.Is(e))
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"Timed out after {timeoutMs} ms waiting for {what}; last error {e.GetType().Name}: {e.Message}");
                }

                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await cluster.DisposeAsync();
        dir.Dispose();

        // Whatever the test did, what the controller persisted must be a sound metadata history.
        MetadataHistoryChecker.AssertSound(Metadata.History);
    }

    private bool HostsActivation(InProcessSiloHandle silo, GrainId id) =>
        cluster.TryGetGrainContext(id, out var context) && silo.SiloAddress.Equals(context.Address.SiloAddress);
}

/// <summary>Cluster tests run one at a time: several 3-silo clusters at once on two cores would turn timeouts into noise.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerClusterCollection
{
    public const string Name = "broker-cluster";
}
