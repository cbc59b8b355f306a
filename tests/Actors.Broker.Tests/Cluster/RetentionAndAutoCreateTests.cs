using Actors.Broker.Logs;
using Actors.Broker.Tests.Support;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class RetentionAndAutoCreateTests
{
    [Fact]
    public async Task Retention_deletes_old_segments_on_every_replica_and_a_consumer_below_the_log_start_follows_auto_offset_reset()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 3);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = "short",
            NumPartitions = 1,
            ReplicationFactor = 3,
            Configs = new() { ["segment.bytes"] = "1024", ["retention.bytes"] = "2048" },
        });
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("short", 0, Batches.Values(i * 5, 5))).Error);
        }

        // Every replica holds all 300 records before retention runs on each silo.
        var tp = new TopicPartition("short", 0);
        var logs = c.Silos.Select(BrokerCluster.Service<LogManager>).ToArray();
        await Wait.UntilAsync(() => logs.All(l => l.TryGet(tp)?.LogEndOffset == 300), TimeSpan.FromSeconds(20), "every replica at offset 300",
            () => string.Join(',', logs.Select(l => l.TryGet(tp)?.LogEndOffset)));
        foreach (var l in logs)
        {
            Assert.True(l.RunRetention() > 0, "retention deleted nothing on a replica");
            Assert.True(l.TryGet(tp)!.LogStartOffset > 0, "a replica's log start offset did not move");
        }

        var earliest = (await c.Partition("short", 0).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Earliest })).Offset;
        Assert.True(earliest > 0, $"log start offset did not move: {earliest}");
        Assert.Equal(300, (await c.Partition("short", 0).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Latest })).Offset);

        // A group committed offset 0 before retention; its consumer resumes from there and is told it fell off the log.
        var group = c.Client.GetGrain<IConsumerGroupGrain>("retention-readers");
        Assert.Equal(ErrorCode.None, (await group.CommitOffsetsAsync(new OffsetCommitRequest { Offsets = [new TopicPartitionOffset(tp, 0, -1, null)] })).Error);
        var committed = (await group.FetchOffsetsAsync([tp])).Single().Offset;
        Assert.Equal(0, committed);
        var below = await c.Partition("short", 0).FetchAsync(new FetchRequest { FetchOffset = committed, MaxWaitMs = 0 });
        Assert.Equal(ErrorCode.OffsetOutOfRange, below.Error);
        Assert.Equal(earliest, below.LogStartOffset);

        // auto.offset.reset=earliest: it restarts at the log start and reads everything retention kept.
        var fromEarliest = await ResetPositionAsync(c, tp, "earliest");
        Assert.Equal(earliest, fromEarliest);
        var got = await c.ConsumeAsync("short", 0, fromEarliest, (int)(300 - fromEarliest));
        Assert.Equal(Enumerable.Range((int)earliest, 300 - (int)earliest).Select(i => $"v{i}"), got.Select(r => r.Value));

        // auto.offset.reset=latest: it skips to the end and sees only what is produced next.
        var fromLatest = await ResetPositionAsync(c, tp, "latest");
        Assert.Equal(300, fromLatest);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("short", 0, Batches.Values(300, 1))).Error);
        Assert.Equal(new[] { "v300" }, (await c.ConsumeAsync("short", 0, fromLatest, 1)).Select(r => r.Value));
    }

    /// <summary>What a Kafka consumer does when its fetch position is out of range, per auto.offset.reset
    /// ("earliest" or "latest"; with "none" it surfaces OFFSET_OUT_OF_RANGE instead).</summary>
    private static async Task<long> ResetPositionAsync(BrokerCluster c, TopicPartition tp, string autoOffsetReset)
    {
        var timestamp = autoOffsetReset == "earliest" ? ListOffsetsRequest.Earliest : ListOffsetsRequest.Latest;
        var listed = await c.Partition(tp.Topic, tp.Partition).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = timestamp });
        Assert.Equal(ErrorCode.None, listed.Error);
        return listed.Offset;
    }

    [Fact]
    public async Task Topics_are_auto_created_on_first_use_only_when_enabled()
    {
        await using (var c = await BrokerCluster.StartAsync(silos: 2, configure: o => { o.NumPartitions = 3; o.DefaultReplicationFactor = 2; }))
        {
            var md = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = ["fresh"], AllowAutoTopicCreation = true });
            Assert.Equal(ErrorCode.None, md.Topics[0].Error);
            Assert.Equal(3, md.Topics[0].Description!.Partitions.Length);
            Assert.Equal(2, md.Topics[0].Description!.ReplicationFactor);
            Assert.Equal(2, md.Silos.Length);
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("fresh", 2, Batches.Values(0, 1))).Error);
        }

        await using (var c = await BrokerCluster.StartAsync(silos: 2, configure: o => o.DefaultReplicationFactor = 3))
        {
            var md = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = ["fresh"], AllowAutoTopicCreation = true });
            Assert.Equal(ErrorCode.InvalidReplicationFactor, md.Topics[0].Error);
            Assert.Contains("default.replication.factor", md.Topics[0].ErrorMessage, StringComparison.Ordinal);
            var none = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = ["fresh"], AllowAutoTopicCreation = false });
            Assert.Equal(ErrorCode.UnknownTopicOrPartition, none.Topics[0].Error);
        }

        await using (var c = await BrokerCluster.StartAsync(silos: 1, configure: o => o.AutoCreateTopicsEnable = false))
        {
            var md = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = ["fresh"], AllowAutoTopicCreation = true });
            Assert.Equal(ErrorCode.UnknownTopicOrPartition, md.Topics[0].Error);
            Assert.Contains("auto.create.topics.enable is false", md.Topics[0].ErrorMessage, StringComparison.Ordinal);
            var missing = await c.Partition("fresh", 0).ProduceAsync(new ProduceRequest { Records = Batches.Values(0, 1), Acks = 1 });
            Assert.Equal(ErrorCode.UnknownTopicOrPartition, missing.Error);
        }
    }

    [Fact]
    public async Task Deleting_a_topic_removes_its_logs_on_every_replica()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "gone", NumPartitions = 2, ReplicationFactor = 3 });
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("gone", 0, Batches.Values(0, 3))).Error);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("gone", 1, Batches.Values(0, 3))).Error);
        var dirs = () => c.Silos.SelectMany(s => BrokerCluster.Service<LogManager>(s).Partitions).Count(tp => tp.Topic == "gone");
        await Wait.UntilAsync(() => dirs() == 6, TimeSpan.FromSeconds(20), "6 replica logs of 'gone'", () => dirs().ToString());
        await c.Controller.DeleteTopicAsync("gone");
        Assert.Equal(0, dirs());
        Assert.Empty(Directory.EnumerateDirectories(c.Root, "gone-*", SearchOption.AllDirectories));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await Assert.ThrowsAsync<BrokerException>(() => c.Controller.DeleteTopicAsync("gone"))).Code);
    }

    [Fact]
    public async Task A_silo_away_during_topic_deletion_moves_the_topics_logs_aside_when_it_returns()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "orphan", NumPartitions = 1, ReplicationFactor = 3 });
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("orphan", 0, Batches.Values(0, 3))).Error);
        var state = await c.Controller.GetPartitionStateAsync(new TopicPartition("orphan", 0));
        var away = state.Replicas.First(r => r != state.Leader);
        var logs = BrokerCluster.Service<LogManager>(c.SiloNamed(away));
        await Wait.UntilAsync(() => logs.Partitions.Any(tp => tp.Topic == "orphan"), TimeSpan.FromSeconds(20),
            $"{away} to hold a replica of orphan-0", () => "none yet");
        await c.StopAsync(away);
        await c.Controller.DeleteTopicAsync("orphan");
        Assert.NotEmpty(Directory.EnumerateDirectories(Path.Combine(c.Root, away), "orphan-*"));

        // A name missing from the controller's list is no proof of a deletion (a stale or replaced metadata store
        // lists nothing), so the log is closed and moved aside, never deleted.
        var back = await c.RestartAsync(away);
        var root = Path.Combine(c.Root, away);
        await Wait.UntilAsync(
            () => !Directory.Exists(Path.Combine(root, "orphan-0")) && Directory.EnumerateDirectories(root, "orphan-0.*" + LogManager.StraySuffix).Count() == 1,
            TimeSpan.FromSeconds(20),
            $"{away} to move the log of the deleted topic aside", () => string.Join(',', Directory.EnumerateDirectories(root).Select(Path.GetFileName)));
        Assert.DoesNotContain(BrokerCluster.Service<LogManager>(back).Partitions, tp => tp.Topic == "orphan");
    }
}
