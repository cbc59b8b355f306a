using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;
using KafkaErrorCode = Confluent.Kafka.ErrorCode;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;
using ConsumerGroupDescription = Confluent.Kafka.Admin.ConsumerGroupDescription;
using ConsumerGroupState = Confluent.Kafka.ConsumerGroupState;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Consumer-group administration through Confluent.Kafka's AdminClient against three real silo processes: an offset
/// reset of an empty group (AlterConsumerGroupOffsets, then ListConsumerGroupOffsets and a joining member resume
/// there), OffsetDelete and DeleteGroups, and ListConsumerGroups / DescribeConsumerGroups of a group with an active
/// member (Kafka's state strings, the member's client id and host) in both group protocols, with the refusals Kafka
/// gives while a member is active.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class GroupAdminTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const int Partitions = 3;
    private const int PerPartition = 10;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private string Bootstrap => string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

    [Fact]
    public async Task Offsets_altered_in_an_empty_group_are_listed_and_resumed_from_then_OffsetDelete_and_DeleteGroups_remove_them()
    {
        var topic = await CreateTopicWithRecordsAsync("reset");
        var group = $"reset-{Guid.NewGuid():N}"[..20];
        var tps = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, p)).ToList();
        using (var first = Consumer(group, GroupProtocol.Classic, "first"))
        {
            first.Subscribe(topic);
            var read = Read(first, Partitions * PerPartition);
            Assert.Equal(Partitions * PerPartition, read.Count);
            first.Commit(tps.Select(tp => new TopicPartitionOffset(tp, PerPartition)));
            first.Close();
        }

        using var admin = Admin();
        Assert.Equal(tps.Select(_ => (long)PerPartition), await ListedOffsetsAsync(admin, group, tps));

        var target = new long[] { 2, 5, 9 };
        var altered = await admin.AlterConsumerGroupOffsetsAsync(
            [new ConsumerGroupTopicPartitionOffsets(group, tps.Select(tp => new TopicPartitionOffset(tp, target[tp.Partition.Value])).ToList())]);
        var alteredPartitions = Assert.Single(altered).Partitions;
        Assert.All(alteredPartitions, p => Assert.False(p.Error.IsError, $"{p.TopicPartition}: {p.Error}"));
        Assert.Equal(target, await ListedOffsetsAsync(admin, group, tps));
        Assert.Equal(target, await ListedOffsetsAsync(admin, group, null));

        using (var resumed = Consumer(group, GroupProtocol.Classic, "resumed"))
        {
            resumed.Subscribe(topic);
            var read = Read(resumed, target.Sum(t => PerPartition - (int)t));
            Assert.Equal(target, tps.Select(tp => read.Where(r => r.Partition == tp.Partition).Min(r => r.Offset.Value)));
            Assert.Equal(tps.Select(_ => (long)PerPartition - 1), tps.Select(tp => read.Where(r => r.Partition == tp.Partition).Max(r => r.Offset.Value)));
            resumed.Close();
        }

        var deleted = await admin.DeleteConsumerGroupOffsetsAsync(group, [tps[1]]);
        Assert.Equal(group, deleted.Group);
        Assert.Equal(tps[1], Assert.Single(deleted.Partitions));
        Assert.Equal(new long[] { 2, Offset.Unset.Value, 9 }, await ListedOffsetsAsync(admin, group, tps));

        Assert.Contains((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == group);
        await admin.DeleteGroupsAsync([group]);

        Assert.DoesNotContain((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == group);
        Assert.Equal(tps.Select(_ => Offset.Unset.Value), await ListedOffsetsAsync(admin, group, tps));
        var again = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
        Assert.Equal(KafkaErrorCode.GroupIdNotFound, Assert.Single(again.Results).Error.Code);
    }

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task A_group_with_an_active_member_is_described_and_listed_Stable_and_refuses_deletion_then_is_Empty(GroupProtocol protocol)
    {
        var topic = await CreateTopicWithRecordsAsync($"described-{protocol}".ToLowerInvariant());
        var group = $"described-{protocol}-{Guid.NewGuid():N}".ToLowerInvariant()[..30];
        var clientId = $"describe-me-{protocol}".ToLowerInvariant();
        var tps = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, p)).ToList();
        using var admin = Admin();
        using var member = Consumer(group, protocol, clientId);
        member.Subscribe(topic);
        PollUntil($"the {protocol} member to own all {Partitions} partitions", member, () => member.Assignment.Count == Partitions);

        // The coordinator may still be settling the member's assignment; Stable is what a settled group of one says.
        var description = await UntilAsync($"{group} described Stable with its member", async () =>
        {
            member.Consume(TimeSpan.FromMilliseconds(50));
            var d = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
            return (d.State == ConsumerGroupState.Stable && d.Members.Count == 1, d, Describe(d));
        });
        output.WriteLine(Describe(description));
        Assert.False(description.Error.IsError, description.Error.ToString());
        Assert.Equal(group, description.GroupId);
        Assert.False(description.IsSimpleConsumerGroup);
        var described = Assert.Single(description.Members);
        Assert.Equal(clientId, described.ClientId);
        Assert.Equal(member.MemberId, described.ConsumerId);
        Assert.Equal("/127.0.0.1", described.Host);
        if (protocol == GroupProtocol.Consumer)
        {
            Assert.Equal(ConsumerGroupType.Consumer, description.GroupType);
            Assert.Equal("uniform", description.PartitionAssignor);
            Assert.Equal(tps, described.Assignment.TopicPartitions.OrderBy(p => p.Partition.Value));
        }
        else
        {
            Assert.Equal(ConsumerGroupType.Classic, description.GroupType);
            Assert.Equal(tps, described.Assignment.TopicPartitions.OrderBy(p => p.Partition.Value));
        }

        var listed = (await admin.ListConsumerGroupsAsync()).Valid.Single(g => g.GroupId == group);
        Assert.Equal((ConsumerGroupState.Stable, false), (listed.State, listed.IsSimpleConsumerGroup));
        var stable = await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { MatchStates = [ConsumerGroupState.Stable] });
        Assert.Contains(stable.Valid, g => g.GroupId == group);

        var notEmpty = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
        Assert.Equal(KafkaErrorCode.NonEmptyGroup, Assert.Single(notEmpty.Results).Error.Code);
        var subscribed = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() => admin.DeleteConsumerGroupOffsetsAsync(group, [tps[0]]));
        output.WriteLine($"OffsetDelete while subscribed: {subscribed.Result.Error}; {string.Join(", ", subscribed.Result.Partitions.Select(p => $"{p.TopicPartition} {p.Error.Code}"))}");
        Assert.Equal(KafkaErrorCode.GroupSubscribedToTopic, Assert.Single(subscribed.Result.Partitions).Error.Code);
        var active = await Assert.ThrowsAsync<AlterConsumerGroupOffsetsException>(() => admin.AlterConsumerGroupOffsetsAsync(
            [new ConsumerGroupTopicPartitionOffsets(group, [new TopicPartitionOffset(tps[0], 1)])]));
        Assert.Equal(KafkaErrorCode.UnknownMemberId, Assert.Single(Assert.Single(active.Results).Partitions).Error.Code);

        member.Close();

        var empty = await UntilAsync($"{group} described Empty after its member left", async () =>
        {
            var d = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
            return (d.State == ConsumerGroupState.Empty, d, Describe(d));
        });
        Assert.Empty(empty.Members);
        var emptyListed = await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { MatchStates = [ConsumerGroupState.Empty] });
        Assert.Contains(emptyListed.Valid, g => g.GroupId == group);
        await admin.DeleteGroupsAsync([group]);
        var gone = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
        output.WriteLine($"after DeleteGroups: {Describe(gone)}");
        Assert.Equal(ConsumerGroupState.Dead, gone.State);
    }

    [Fact]
    public async Task DescribeConsumerGroups_of_a_classic_group_shows_type_Classic_and_the_assignment()
    {
        var topic = await CreateTopicWithRecordsAsync("classic-described");
        var group = $"classic-described-{Guid.NewGuid():N}"[..30];
        using var admin = Admin();
        using var member = Consumer(group, GroupProtocol.Classic, "classic-member");
        member.Subscribe(topic);
        PollUntil($"the classic member to own all {Partitions} partitions", member, () => member.Assignment.Count == Partitions);

        var description = await UntilAsync($"{group} described Stable with its member", async () =>
        {
            member.Consume(TimeSpan.FromMilliseconds(50));
            var d = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
            return (d.State == ConsumerGroupState.Stable && d.Members.Count == 1, d, Describe(d));
        });

        output.WriteLine(Describe(description));
        Assert.Equal(ConsumerGroupType.Classic, description.GroupType);
        Assert.Equal("range", description.PartitionAssignor);
        Assert.Equal(Enumerable.Range(0, Partitions), Assert.Single(description.Members).Assignment.TopicPartitions.Select(p => p.Partition.Value).Order());
        member.Close();
    }

    [Fact]
    public async Task ListConsumerGroups_reports_the_type_of_a_classic_and_of_a_consumer_group()
    {
        var topic = await CreateTopicWithRecordsAsync("typed");
        var groups = new Dictionary<GroupProtocol, string>
        {
            [GroupProtocol.Classic] = $"typed-classic-{Guid.NewGuid():N}"[..26],
            [GroupProtocol.Consumer] = $"typed-consumer-{Guid.NewGuid():N}"[..26],
        };
        using var admin = Admin();
        foreach (var (protocol, group) in groups)
        {
            using var member = Consumer(group, protocol, $"typed-{protocol}".ToLowerInvariant());
            member.Subscribe(topic);
            PollUntil($"the {protocol} member to own all {Partitions} partitions", member, () => member.Assignment.Count == Partitions);
            member.Close();
        }

        var listed = (await admin.ListConsumerGroupsAsync()).Valid.Where(g => groups.ContainsValue(g.GroupId)).ToDictionary(g => g.GroupId, g => g.Type);

        Assert.Equal(ConsumerGroupType.Classic, listed[groups[GroupProtocol.Classic]]);
        Assert.Equal(ConsumerGroupType.Consumer, listed[groups[GroupProtocol.Consumer]]);
    }

    private static string Describe(ConsumerGroupDescription d) =>
        $"{d.GroupId} state {d.State} type {d.GroupType} assignor '{d.PartitionAssignor}' error {d.Error.Code} coordinator {d.Coordinator?.Id}; members: "
        + string.Join(" | ", d.Members.Select(m => $"{m.ConsumerId} client '{m.ClientId}' host '{m.Host}' [{string.Join(',', m.Assignment?.TopicPartitions.Select(p => p.Partition.Value) ?? [])}]"));

    private static async Task<long[]> ListedOffsetsAsync(IAdminClient admin, string group, List<TopicPartition>? partitions)
    {
        var result = Assert.Single(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)]));
        Assert.Equal(group, result.Group);
        Assert.All(result.Partitions, p => Assert.False(p.Error.IsError, $"{p.TopicPartition}: {p.Error}"));
        return result.Partitions.OrderBy(p => p.Partition.Value).Select(p => p.Offset.Value).ToArray();
    }

    private async Task<string> CreateTopicWithRecordsAsync(string prefix)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await ClusterPolling.CreateTopicAsync(fixture.Cluster, topic, Partitions, replicationFactor: 3, minInsyncReplicas: 2);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = Bootstrap, Acks = Acks.Leader }).Build();
        for (var p = 0; p < Partitions; p++)
        {
            for (var i = 0; i < PerPartition; i++)
            {
                producer.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = $"k{p}", Value = $"{p}-{i}" });
            }
        }

        Assert.Equal(0, producer.Flush(Deadline));
        return topic;
    }

    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap, SocketTimeoutMs = 20_000 }).Build();

    private IConsumer<string, string> Consumer(string group, GroupProtocol protocol, string clientId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = group,
            ClientId = clientId,
            GroupProtocol = protocol,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        if (protocol == GroupProtocol.Classic)
        {
            config.SessionTimeoutMs = 10_000;
            config.HeartbeatIntervalMs = 500;
        }

        return new ConsumerBuilder<string, string>(config).Build();
    }

    private List<ConsumeResult<string, string>> Read(IConsumer<string, string> consumer, int count)
    {
        var read = new List<ConsumeResult<string, string>>();
        var clock = Stopwatch.StartNew();
        while (read.Count < count)
        {
            Assert.True(clock.Elapsed < Deadline, $"read {read.Count} of {count} records within {Deadline.TotalSeconds} s{Environment.NewLine}{fixture.Cluster.Tails()}");
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
            {
                read.Add(result);
            }
        }

        return read;
    }

    /// <summary>Polls the consumer (which runs its group protocol) until <paramref name="done"/> holds.</summary>
    private void PollUntil(string what, IConsumer<string, string> consumer, Func<bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < Deadline, $"timed out waiting for {what}; assignment [{string.Join(',', consumer.Assignment.Select(p => p.Partition.Value))}]{Environment.NewLine}{fixture.Cluster.Tails()}");
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
    }

    private Task<T> UntilAsync<T>(string what, Func<Task<(bool Done, T Value, string Seen)>> attempt) =>
        ClusterPolling.UntilAsync(what, Deadline, fixture.Cluster.Tails, attempt);
}
