using Actors.Integration.Tests.Processes;
using Confluent.Kafka;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Consumer groups of Confluent.Kafka 2.16 (librdkafka) against three real silo processes, in both of Kafka's group
/// protocols: the classic one (JoinGroup/SyncGroup, assignment computed by the client's leader) and the consumer
/// protocol of KIP-848 (ConsumerGroupHeartbeat, assignment computed by the broker).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ConsumerGroupTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private string Brokers => string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public void Two_members_share_the_partitions_and_the_one_left_takes_them_all(GroupProtocol protocol)
    {
        var group = $"pair-{protocol}".ToLowerInvariant();
        using var a = Consumer(group, protocol);
        var b = Consumer(group, protocol);
        a.Subscribe(KafkaClusterFixture.Topic);
        b.Subscribe(KafkaClusterFixture.Topic);

        PollUntil($"both {protocol} members own a share of the {KafkaClusterFixture.Partitions} partitions", [a, b], () =>
            a.Assignment.Count > 0 && b.Assignment.Count > 0
            && a.Assignment.Count + b.Assignment.Count == KafkaClusterFixture.Partitions
            && !a.Assignment.Intersect(b.Assignment).Any());

        b.Close();
        b.Dispose();
        PollUntil($"the remaining {protocol} member owns every partition", [a], () => a.Assignment.Count == KafkaClusterFixture.Partitions);
        Assert.Equal(Enumerable.Range(0, KafkaClusterFixture.Partitions), a.Assignment.Select(p => p.Partition.Value).Order());
        a.Close();
    }

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public void A_manual_commit_is_what_Committed_returns_and_what_a_new_member_resumes_from(GroupProtocol protocol)
    {
        var topic = $"commits-{protocol}".ToLowerInvariant();
        ClusterPolling.CreateTopicAsync(fixture.Cluster, topic, 1, replicationFactor: 3, minInsyncReplicas: 2).GetAwaiter().GetResult();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = Brokers, Acks = Acks.Leader }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"v{i}" });
            }

            Assert.Equal(0, producer.Flush(Deadline));
        }

        var group = $"committer-{protocol}".ToLowerInvariant();
        var tp = new TopicPartition(topic, 0);
        using (var first = Consumer(group, protocol))
        {
            first.Subscribe(topic);
            var read = ReadValues(first, 4);
            Assert.Equal(["v0", "v1", "v2", "v3"], read.Select(r => r.Message.Value));
            first.Commit([new TopicPartitionOffset(tp, read[^1].Offset + 1)]);
            Assert.Equal(4, first.Committed([tp], Deadline).Single().Offset.Value);
            first.Close();
        }

        using var second = Consumer(group, protocol);
        second.Subscribe(topic);
        Assert.Equal("v4", ReadValues(second, 1).Single().Message.Value);
        second.Close();
    }

    private IConsumer<string, string> Consumer(string group, GroupProtocol protocol)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Brokers,
            GroupId = group,
            GroupProtocol = protocol,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        if (protocol == GroupProtocol.Classic)
        {
            config.SessionTimeoutMs = 10_000;
            config.HeartbeatIntervalMs = 500;
        }

        return new ConsumerBuilder<string, string>(config)
            .SetLogHandler((_, m) => output.WriteLine($"{m.Level} {m.Facility} {m.Message}"))
            .Build();
    }

    private static List<ConsumeResult<string, string>> ReadValues(IConsumer<string, string> consumer, int count)
    {
        var read = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow + Deadline;
        while (read.Count < count)
        {
            Assert.True(DateTime.UtcNow < until, $"read {read.Count} of {count} records within {Deadline.TotalSeconds} s");
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
            {
                read.Add(result);
            }
        }

        return read;
    }

    /// <summary>Polls every consumer (which runs their group protocol) until <paramref name="done"/> holds.</summary>
    private void PollUntil(string what, IConsumer<string, string>[] consumers, Func<bool> done)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}; assignments: "
                + string.Join(" | ", consumers.Select(c => string.Join(',', c.Assignment.Select(p => p.Partition.Value))))
                + Environment.NewLine + fixture.Cluster.Tails());
            foreach (var consumer in consumers)
            {
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
        }

        output.WriteLine($"{what}: done");
    }
}
