using Actors.Broker.Logs;
using Actors.Broker.Tests.Support;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class AlterTopicConfigsTests
{
    [Fact]
    public async Task Altered_topic_configs_reach_the_log_of_every_replica_at_once_on_rf3()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 3);
        const string topic = "tuned";
        var tp = new TopicPartition(topic, 0);
        const long hour = 60 * 60 * 1000;
        await c.Controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = topic,
            NumPartitions = 1,
            ReplicationFactor = 3,
            Configs = new() { ["segment.bytes"] = "1024", ["retention.ms"] = hour.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });

        // Two-hour-old records, over several segments: the topic's one-hour retention would delete the closed ones.
        var old = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (2 * hour);
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync(topic, 0, Batches.Values(i * 5, 5, timestamp: old))).Error);
        }

        var logs = c.Silos.Select(BrokerCluster.Service<LogManager>).ToArray();
        await Wait.UntilAsync(() => logs.All(l => l.TryGet(tp)?.LogEndOffset == 150), TimeSpan.FromSeconds(20), "every replica at offset 150",
            () => string.Join(',', logs.Select(l => l.TryGet(tp)?.LogEndOffset)));
        Assert.All(logs, l => Assert.True(l.TryGet(tp)!.Log.SegmentCount > 2, $"only {l.TryGet(tp)!.Log.SegmentCount} segments"));

        // Raise retention to a day, lower max.message.bytes, grow segments: no new leader epoch, no restart.
        var epoch = (await c.Partition(topic, 0).GetStatusAsync()).State!.LeaderEpoch;
        await c.Controller.AlterTopicConfigsAsync(new AlterTopicConfigsRequest
        {
            Topic = topic,
            Set = new() { ["retention.ms"] = (24 * hour).ToString(System.Globalization.CultureInfo.InvariantCulture), ["max.message.bytes"] = "2000", ["segment.bytes"] = "4096" },
        });
        Assert.Equal(epoch, (await c.Partition(topic, 0).GetStatusAsync()).State!.LeaderEpoch);
        foreach (var silo in c.Silos)
        {
            var config = BrokerCluster.Service<LogManager>(silo).TryGet(tp)!.Log.Config;
            Assert.True((config.RetentionMs, config.MaxMessageBytes, config.SegmentBytes) == (24 * hour, 2000, 4096),
                $"silo {silo.Name}'s log runs with retention.ms={config.RetentionMs}, max.message.bytes={config.MaxMessageBytes}, segment.bytes={config.SegmentBytes} after the change");
        }

        // Retention on every silo now keeps the two-hour-old segments.
        foreach (var silo in c.Silos)
        {
            var l = BrokerCluster.Service<LogManager>(silo);
            Assert.Equal(0, l.RunRetention());
            Assert.Equal(0, l.TryGet(tp)!.LogStartOffset);
        }

        // A batch above the new max.message.bytes is refused; one below it is taken.
        var big = Batches.Values(150, 300);
        Assert.True(big.Length > 2000, $"the large batch is only {big.Length} bytes");
        var refused = await c.Partition(topic, 0).ProduceAsync(new ProduceRequest { Records = big, Acks = -1, TimeoutMs = 10_000 });
        Assert.True(refused.Error == ErrorCode.MessageTooLarge, $"a {big.Length}-byte batch after max.message.bytes=2000 was answered {refused.Error} {refused.ErrorMessage}");
        var small = await c.ProduceAsync(topic, 0, Batches.Values(150, 5));
        Assert.Equal((ErrorCode.None, 150L), (small.Error, small.BaseOffset));
    }
}
