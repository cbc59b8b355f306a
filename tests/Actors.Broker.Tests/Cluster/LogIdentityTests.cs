using Actors.Broker.Logs;
using Actors.Broker.Tests.Support;
using Actors.Log;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

/// <summary>C2 on real silos: a silo restarted over its log.dirs never deletes a log because its topic is missing
/// from the controller's list (it moves it aside), and refuses to start over logs of another cluster.</summary>
[Collection(BrokerClusterCollection.Name)]
public class LogIdentityTests
{
    private static readonly TopicPartition Orders = new("orders", 0);

    [Fact]
    public async Task A_restarted_silo_moves_aside_the_log_of_a_topic_the_controller_does_not_know_and_deletes_nothing()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 2);
        var (name, root, clusterId) = await StartOrdersAsync(c);
        await c.StopAsync(name);

        // A log of this cluster whose topic the controller does not list (deleted while the silo was away, or a
        // metadata store that lost it: the silo cannot tell which).
        var ghost = Path.Combine(root, "ghost-0");
        using (var log = PartitionLog.Open(ghost, new LogConfig(), TimeProvider.System))
        {
            log.AppendAsLeader(Batches.Values(0, 2), 0);
        }

        new PartitionMetadata(Guid.NewGuid(), clusterId).Write(ghost);
        await c.RestartAsync(name);

        await Wait.UntilAsync(() => !Directory.Exists(ghost) && Directory.GetDirectories(root, "ghost-0.*" + LogManager.StraySuffix).Length == 1,
            TimeSpan.FromSeconds(30), "the restarted silo to move ghost-0 aside",
            () => string.Join(", ", Directory.GetDirectories(root).Select(Path.GetFileName)));
        var stray = Directory.GetDirectories(root, "ghost-0.*" + LogManager.StraySuffix).Single();
        using (var kept = PartitionLog.Open(stray, new LogConfig(), TimeProvider.System))
        {
            Assert.Equal(2, kept.LogEndOffset);
        }

        var logs = BrokerCluster.Service<LogManager>(c.SiloNamed(name));
        Assert.Null(logs.TryGet(new TopicPartition("ghost", 0)));
        await Wait.UntilAsync(() => logs.TryGet(Orders)?.LogEndOffset == 3, TimeSpan.FromSeconds(30), "the restarted silo to keep serving orders-0",
            () => $"{logs.TryGet(Orders)?.LogEndOffset}");
    }

    [Fact]
    public async Task A_silo_over_logs_of_another_cluster_refuses_to_start_and_deletes_nothing()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 2);
        var (name, root, _) = await StartOrdersAsync(c);
        await c.StopAsync(name);

        // As if this silo's log.dirs came from another cluster, or its metadata store were fresh or replaced.
        var partitionDir = Path.Combine(root, LogManager.DirectoryName(Orders));
        var metadata = PartitionMetadata.Read(partitionDir);
        (metadata with { ClusterId = "another-cluster" }).Write(partitionDir);
        var files = Snapshot(partitionDir);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => c.RestartAsync(name));
        var text = failure.ToString();
        Assert.Contains("another-cluster", text, StringComparison.Ordinal);
        Assert.Contains("metadata store", text, StringComparison.Ordinal);
        Assert.Contains("Nothing was deleted", text, StringComparison.Ordinal);

        Assert.Equal(files, Snapshot(partitionDir));
        using var log = PartitionLog.Open(partitionDir, new LogConfig(), TimeProvider.System);
        Assert.Equal(3, log.LogEndOffset);
    }

    /// <summary>Creates orders (RF 2), writes three records and waits until the second silo's copy holds them and records
    /// the cluster id; returns that silo's name, log directory and the cluster id.</summary>
    private static async Task<(string Name, string Root, string ClusterId)> StartOrdersAsync(BrokerCluster c)
    {
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = Orders.Topic, NumPartitions = 1, ReplicationFactor = 2 });
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync(Orders.Topic, 0, Batches.Values(0, 3))).Error);
        var name = c.Silos[1].Name;
        var logs = BrokerCluster.Service<LogManager>(c.SiloNamed(name));
        await Wait.UntilAsync(() => logs.TryGet(Orders) is { LogEndOffset: 3, Metadata.ClusterId: not null }, TimeSpan.FromSeconds(30),
            $"silo {name}'s copy of orders-0 to hold 3 records and record the cluster id",
            () => $"{logs.TryGet(Orders)?.LogEndOffset} {logs.TryGet(Orders)?.Metadata}");
        return (name, logs.Directories[0], logs.TryGet(Orders)!.Metadata.ClusterId!);
    }

    private static string[] Snapshot(string directory) => Directory.GetFiles(directory)
        .Where(f => Path.GetFileName(f) != PartitionLog.LockFileName)
        .Select(f => $"{Path.GetFileName(f)}:{new FileInfo(f).Length}")
        .Order(StringComparer.Ordinal)
        .ToArray();
}
