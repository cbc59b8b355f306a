using Actors.Broker;
using Actors.Broker.Hosting;
using Actors.Kafka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Actors.Client;
using Actors.Orleans.Sqlite;
using Actors.Testing;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Actors.Client.Tests;

/// <summary>
/// Three broker silos in one process (Orleans' <see cref="InProcessTestCluster"/>, as the broker's own tests run them),
/// with SQLite grain storage and per-silo log.dirs under a temporary directory; the client tests talk to them through
/// the cluster's Orleans client. Shared by every test of the collection: each test uses topics and groups of its own.
/// </summary>
public sealed class ClientCluster : IAsyncLifetime
{
    private readonly TempDirectory dir = new("client-tests");
    private readonly bool kafkaListener;
    private readonly List<int> kafkaPorts = [];
    private InProcessTestCluster? cluster;

    public ClientCluster()
        : this(kafkaListener: false)
    {
    }

    /// <param name="kafkaListener">Also serve the Kafka protocol on a free loopback port per silo (for librdkafka).</param>
    internal ClientCluster(bool kafkaListener) => this.kafkaListener = kafkaListener;

    /// <summary>The silos' Kafka ports, when the cluster has the listener.</summary>
    public IReadOnlyList<int> KafkaPorts => kafkaPorts;

    public IGrainFactory Client => cluster!.Client;

    public IClusterClient ClusterClient => (IClusterClient)cluster!.Client;

    public IControllerGrain Controller => Client.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public InProcessTestCluster Cluster => cluster!;

    public async Task InitializeAsync()
    {
        var db = Path.Combine(dir.Path, "grains.db");
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddActorsClient();
            if (kafkaListener)
            {
                var port = Ports.GetFreeTcpPorts(1)[0];
                lock (kafkaPorts)
                {
                    kafkaPorts.Add(port);
                }

                silo.AddKafkaListener(o =>
                {
                    o.BindAddress = "127.0.0.1";
                    o.Port = port;
                    o.AdvertisedHost = "127.0.0.1";
                });
            }

            silo.AddActorsStreams(StreamTests.Provider, StreamTests.Configure);
            silo.AddSqliteGrainStorage("PubSubStore", o => o.DatabasePath = db);
            silo.AddSqliteGrainStorage("Default", o => o.DatabasePath = db)
                .AddBroker(o =>
                {
                    o.LogDirs = Path.Combine(dir.Path, "{silo}");
                    o.ControllerMembershipPollMs = 100;
                    o.ReplicaFetchWaitMaxMs = 100;
                    o.GroupHeartbeatIntervalMs = 200;
                });
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddActorsClient(o => o.Common["client.id"] = "client-tests");
            client.AddActorsStreams(StreamTests.Provider, StreamTests.Configure);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        });
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    /// <summary>Creates a topic with a name of its own (prefix plus a counter) and returns the name.</summary>
    public async Task<string> TopicAsync(string prefix, int partitions, short replicationFactor = 3, Dictionary<string, string>? configs = null)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await Controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = name,
            NumPartitions = partitions,
            ReplicationFactor = replicationFactor,
            Configs = configs ?? new Dictionary<string, string>(StringComparer.Ordinal),
        });
        return name;
    }

    /// <summary>Every stored batch of a partition (its bytes as the log holds them), read with the broker's fetch.</summary>
    public async Task<List<byte[]>> BatchesAsync(string topic, int partition)
    {
        var grain = Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new Broker.TopicPartition(topic, partition)));
        var batches = new List<byte[]>();
        long offset = 0;
        while (true)
        {
            var answer = await grain.FetchAsync(new FetchRequest { FetchOffset = offset, MaxWaitMs = 0 });
            Assert.Equal(BrokerErrorCode.None, answer.Error);
            if (offset >= answer.HighWatermark)
            {
                return batches;
            }

            var reader = new Actors.Log.Records.RecordBatchReader(answer.Records.Span);
            var any = false;
            while (reader.TryReadNext(out var batch))
            {
                if (batch.NextOffset <= offset)
                {
                    continue;
                }

                batches.Add(batch.Bytes.ToArray());
                offset = batch.NextOffset;
                any = true;
            }

            Assert.True(any, $"A fetch of {topic}-{partition} at {offset} below the high watermark {answer.HighWatermark} returned no batch.");
        }
    }

    /// <summary>Every record of a partition, decoded (decompressed) as the consumer does.</summary>
    internal async Task<List<FetchedRecord>> RecordsAsync(string topic, int partition)
    {
        var all = new List<FetchedRecord>();
        foreach (var batch in await BatchesAsync(topic, partition))
        {
            all.AddRange(FetchedRecords.Read(batch, 0));
        }

        return all;
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        dir.Dispose();
    }
}

/// <summary>The client tests share one cluster and run one at a time (two cores; a 3-silo cluster each would turn
/// timeouts into noise).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClientClusterCollection : ICollectionFixture<ClientCluster>
{
    public const string Name = "client-cluster";
}
