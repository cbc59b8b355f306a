using Actors.Broker.Hosting;
using Actors.Broker.Tests.Support;
using Actors.Hosting;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

/// <summary>A TestCluster of broker silos on real TCP, sharing one SQLite grain-storage file, each with its own log.dirs
/// under a per-test temporary directory.</summary>
internal sealed class BrokerCluster : IAsyncDisposable
{

    public TestCluster Cluster { get; }

    public IGrainFactory Client => Cluster.Client;

    public IControllerGrain Controller => Client.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public string Root => dir.Path;

    /// <param name="silos">How many silos.</param>
    /// <param name="configure">Broker options, after the test defaults.</param>
    /// <param name="configureSilo">More silo set-up, after the broker is added (a later service registration wins).</param>
    public static async Task<BrokerCluster> StartAsync(int silos = 3, Action<BrokerOptions>? configure = null, Action<ISiloBuilder>? configureSilo = null)
    {
        var dir = new TempDir();
        var builder = new TestClusterBuilder(silos);
        var db = Path.Combine(dir.Path, "grains.db");
        builder.ConfigureSilo(silo => silo
            .AddSqliteGrainStorage("Default", db)
            .AddBroker(o =>
            {
                o.LogDirs = Path.Combine(dir.Path, "{silo}");
                o.ControllerMembershipPollMs = 100;
                o.ReplicaFetchWaitMaxMs = 100;
                o.LeaderImbalanceCheckIntervalSeconds = 1;
                configure?.Invoke(o);
            }));
        if (configureSilo is not null)
        {
            builder.ConfigureSilo(configureSilo);
        }

        var cluster = builder.Build();
        var result = new BrokerCluster(cluster, dir);
        await cluster.DeployAsync();
        return result;
    }

    private readonly TempDir dir;

    private BrokerCluster(TestCluster cluster, TempDir dir)
    {
        Cluster = cluster;
        this.dir = dir;
    }

    public IPartitionGrain Partition(string topic, int partition) =>
        Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new TopicPartition(topic, partition)));

    public Actors.Testing.SiloHandle SiloNamed(string name) => Cluster.Silos.Single(s => s.Name == name);

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
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException or RemoteGrainException or BrokerException)
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
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException)
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

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        dir.Dispose();
    }
}

/// <summary>Cluster tests run one at a time: several 3-silo clusters at once on two cores would turn timeouts into noise.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerClusterCollection
{
    public const string Name = "broker-cluster";
}
