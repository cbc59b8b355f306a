using Actors.Integration.Tests.Processes;
using Actors.Testing;

namespace Actors.Integration.Tests.Kafka;

/// <summary>
/// Three silo processes, each with its Kafka listener on its own free port, and one topic of three partitions
/// replicated on all three, with every replica in sync. Shared by the tests of one class; nothing they do changes it.
/// </summary>
public sealed class KafkaClusterFixture : IAsyncLifetime
{
    public const string Topic = "kafka-listed";
    public const int Partitions = 3;

    private ProcessCluster? cluster;

    internal ProcessCluster Cluster => cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public async Task InitializeAsync()
    {
        cluster = await ProcessCluster.StartAsync(3, _ => { });
        await ClusterPolling.CreateTopicAsync(cluster, Topic, Partitions, replicationFactor: 3, minInsyncReplicas: 1);
        // Every listener registered before its silo said it started; the controller must also see all three Active.
        await ClusterPolling.UntilAsync("the controller to list three Active silos, each with a Kafka broker id", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            var metadata = await cluster.Controller.GetMetadataAsync(new MetadataRequest { Topics = [] });
            var names = metadata.Silos.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            var done = names.Count == 3 && metadata.KafkaBrokers.Count(b => names.Contains(b.SiloName)) == 3;
            return (done, $"silos [{string.Join(',', names)}], Kafka brokers [{string.Join(',', metadata.KafkaBrokers.Select(b => $"{b.SiloName}={b.NodeId}@{b.Host}:{b.Port}"))}]");
        });
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}
