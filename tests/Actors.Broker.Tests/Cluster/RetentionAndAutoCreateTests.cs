using Actors.Broker.Logs;
using Actors.Broker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class RetentionAndAutoCreateTests
{
    [Fact]
    public async Task Retention_deletes_old_segments_and_a_fetch_below_the_log_start_is_out_of_range()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = "short",
            NumPartitions = 1,
            ReplicationFactor = 1,
            Configs = new() { ["segment.bytes"] = "1024", ["retention.bytes"] = "2048" },
        });
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("short", 0, Batches.Values(i * 5, 5))).Error);
        }

        var logs = c.Cluster.Silos[0].Services.GetRequiredService<LogManager>();
        Assert.True(logs.RunRetention() > 0, "retention deleted nothing");
        var earliest = await c.Partition("short", 0).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Earliest });
        Assert.True(earliest.Offset > 0, $"log start offset did not move: {earliest.Offset}");
        var latest = await c.Partition("short", 0).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Latest });
        Assert.Equal(300, latest.Offset);

        var below = await c.Partition("short", 0).FetchAsync(new FetchRequest { FetchOffset = 0, MaxWaitMs = 0 });
        Assert.Equal(ErrorCode.OffsetOutOfRange, below.Error);
        Assert.Equal(earliest.Offset, below.LogStartOffset);

        // auto.offset.reset=earliest: the consumer restarts from the log start offset it was given.
        var got = await c.ConsumeAsync("short", 0, below.LogStartOffset, (int)(300 - below.LogStartOffset));
        Assert.Equal($"v{below.LogStartOffset}", got[0].Value);
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
        var dirs = () => c.Cluster.Silos.SelectMany(s => s.Services.GetRequiredService<LogManager>().Partitions).Count(tp => tp.Topic == "gone");
        await Wait.UntilAsync(() => dirs() == 6, "6 replica logs of 'gone'", () => dirs().ToString());
        await c.Controller.DeleteTopicAsync("gone");
        Assert.Equal(0, dirs());
        Assert.Empty(Directory.EnumerateDirectories(c.Root, "gone-*", SearchOption.AllDirectories));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await Assert.ThrowsAsync<BrokerException>(() => c.Controller.DeleteTopicAsync("gone"))).Code);
    }

    [Fact]
    public async Task A_silo_away_during_topic_deletion_removes_the_topics_logs_when_it_returns()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "orphan", NumPartitions = 1, ReplicationFactor = 3 });
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("orphan", 0, Batches.Values(0, 3))).Error);
        var state = await c.Controller.GetPartitionStateAsync(new TopicPartition("orphan", 0));
        var away = state.Replicas.First(r => r != state.Leader);
        var handle = c.SiloNamed(away);
        await Wait.UntilAsync(() => handle.Services.GetRequiredService<LogManager>().Partitions.Any(tp => tp.Topic == "orphan"),
            $"{away} to hold a replica of orphan-0", () => "none yet");
        await c.Cluster.StopSiloAsync(handle);
        await c.Controller.DeleteTopicAsync("orphan");
        Assert.NotEmpty(Directory.EnumerateDirectories(Path.Combine(c.Root, away), "orphan-*"));

        var back = await c.Cluster.RestartSiloAsync(handle);
        await Wait.UntilAsync(() => !Directory.EnumerateDirectories(Path.Combine(c.Root, away), "orphan-*").Any(),
            $"{away} to delete the log of the deleted topic", () => string.Join(',', back.Services.GetRequiredService<LogManager>().Partitions));
    }
}
