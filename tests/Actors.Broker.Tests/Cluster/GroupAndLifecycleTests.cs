using Actors.Broker.Diagnostics;
using Actors.Broker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Actors.Broker.Tests.Support;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class GroupAndLifecycleTests
{
    private sealed class Member(IConsumerGroupGrain group, string name)
    {
        public string Id { get; private set; } = string.Empty;

        public int Epoch { get; private set; }

        public HashSet<TopicPartition> Owned { get; } = [];

        public async Task BeatAsync(bool join = false)
        {
            var r = await group.HeartbeatAsync(new GroupHeartbeatRequest
            {
                MemberId = Id,
                MemberEpoch = join ? 0 : Epoch,
                SubscribedTopicNames = join ? ["events"] : null,
                OwnedPartitions = join ? null : Owned.ToArray(),
                ServerAssignor = "sticky",
                ClientId = name,
            });
            Assert.Equal(ErrorCode.None, r.Error);
            Id = r.MemberId;
            Epoch = r.MemberEpoch;
            Owned.Clear();
            Owned.UnionWith(r.Assignment);
        }

        public Task LeaveAsync() => group.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = Id, MemberEpoch = -1 });
    }

    private static async Task SettleAsync(IConsumerGroupGrain group, IReadOnlyList<Member> members)
    {
        for (var round = 0; round < 20; round++)
        {
            foreach (var m in members)
            {
                await m.BeatAsync();
            }

            if ((await group.DescribeAsync()).State == ConsumerGroupState.Stable)
            {
                return;
            }
        }

        Assert.Fail($"group did not settle: {(await group.DescribeAsync()).State}");
    }

    [Fact]
    public async Task Consumer_group_balances_moves_only_a_leavers_partitions_and_keeps_commits_across_restarts()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "events", NumPartitions = 6, ReplicationFactor = 2 });
        for (var p = 0; p < 6; p++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("events", p, Batches.Values(0, 10))).Error);
        }

        var group = c.Client.GetGrain<IConsumerGroupGrain>("billing");
        var members = new[] { new Member(group, "a"), new Member(group, "b"), new Member(group, "c") };
        foreach (var m in members)
        {
            await m.BeatAsync(join: true);
        }

        await SettleAsync(group, members);
        Assert.All(members, m => Assert.Equal(2, m.Owned.Count));
        Assert.Equal(6, members.SelectMany(m => m.Owned).Distinct().Count());

        // Reset is refused while members are active.
        var refused = await Assert.ThrowsAsync<BrokerException>(() => group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = OffsetResetMode.ToEarliest, Topics = ["events"], Execute = true }));
        Assert.Equal(ErrorCode.NonEmptyGroup, refused.Code);

        // Members commit what they consumed.
        foreach (var m in members)
        {
            var commit = await group.CommitOffsetsAsync(new OffsetCommitRequest
            {
                MemberId = m.Id,
                MemberEpoch = m.Epoch,
                Offsets = m.Owned.Select(tp => new TopicPartitionOffset(tp, 7, -1, null)).ToArray(),
            });
            Assert.Equal(ErrorCode.None, commit.Error);
        }

        var stale = await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = members[0].Id, MemberEpoch = members[0].Epoch - 1, Offsets = [] });
        Assert.Equal(ErrorCode.StaleMemberEpoch, stale.Error);

        var before = members.ToDictionary(m => m.Id, m => m.Owned.ToHashSet());
        await members[2].LeaveAsync();
        await SettleAsync(group, members[..2]);
        foreach (var m in members[..2])
        {
            Assert.True(before[m.Id].IsSubsetOf(m.Owned), "a member that stayed lost a partition");
        }

        var described = await group.DescribeAsync();
        Assert.Equal(6, described.Offsets.Length);
        Assert.All(described.Offsets, o => Assert.Equal(7, o.CommittedOffset));
        Assert.All(described.Offsets, o => Assert.Equal(10, o.LogEndOffset));
        Assert.All(described.Offsets, o => Assert.Equal(3, o.Lag));

        // Every member leaves, every silo restarts: the commits are still there.
        foreach (var m in members[..2])
        {
            await m.LeaveAsync();
        }

        foreach (var name in c.Silos.Select(s => s.Name).ToArray())
        {
            await c.RestartAsync(name);
        }

        var offsets = await BrokerCluster.RetryAsync(() => group.FetchOffsetsAsync(null), "the group's offsets after every silo restarted");
        Assert.Equal(6, offsets.Length);
        Assert.All(offsets, o => Assert.Equal(7, o.Offset));

        // Empty now: a dry run plans, an execute applies.
        var plan = await group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = OffsetResetMode.ShiftBy, Value = -5, Topics = ["events"] });
        Assert.All(plan, e => Assert.Equal(2, e.NewOffset));
        Assert.All(await group.FetchOffsetsAsync(null), o => Assert.Equal(7, o.Offset));
        await group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = OffsetResetMode.ToEarliest, Partitions = [new TopicPartition("events", 0)], Execute = true });
        var after = await group.FetchOffsetsAsync([new TopicPartition("events", 0), new TopicPartition("events", 1)]);
        Assert.Equal(0, after[0].Offset);
        Assert.Equal(7, after[1].Offset);
        Assert.Contains("billing", await c.Client.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync());
        await group.DeleteAsync();
        Assert.DoesNotContain("billing", await c.Client.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync());
    }

    [Fact]
    public async Task Members_and_assignments_survive_the_death_of_the_silo_holding_the_group()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "events", NumPartitions = 4, ReplicationFactor = 3 });
        var group = c.Client.GetGrain<IConsumerGroupGrain>("moving");
        await group.FetchOffsetsAsync(null);
        var host = Assert.Single(c.HostsOf(group));

        var members = new[] { new Member(group, "a"), new Member(group, "b") };
        foreach (var m in members)
        {
            await m.BeatAsync(join: true);
        }

        await SettleAsync(group, members);
        var before = members.Select(Describe).ToArray();

        await c.KillAsync(host);
        await Wait.UntilAsync(
            () => TryDescribe(group),
            TimeSpan.FromSeconds(30),
            "the group to answer again from a surviving silo",
            () => "calls still fail with SiloUnavailableException or TimeoutException");

        // The members carry on with their ids, epochs and partitions; nobody had to rejoin.
        foreach (var m in members)
        {
            await m.BeatAsync();
        }

        Assert.Equal(before, members.Select(Describe).ToArray());
        var described = await group.DescribeAsync();
        Assert.Equal(ConsumerGroupState.Stable, described.State);
        Assert.Equal(2, described.Members.Length);
        var refused = await Assert.ThrowsAsync<BrokerException>(() => group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = OffsetResetMode.ToEarliest, Topics = ["events"], Execute = true }));
        Assert.Equal(ErrorCode.NonEmptyGroup, refused.Code);
    }

    private static string Describe(Member m) => $"{m.Id} epoch {m.Epoch}: {string.Join(',', m.Owned.Order())}";

    private static bool TryDescribe(IConsumerGroupGrain group)
    {
        try
        {
            group.DescribeAsync().GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is SiloUnavailableException or TimeoutException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Offsets_reset_by_time_offset_and_end_follow_record_timestamps_and_an_active_group_cannot_be_deleted()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "events", NumPartitions = 2, ReplicationFactor = 3 });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        const long hour = 60 * 60 * 1000;

        // Offsets 0-9 three hours old, 10-19 two hours old, 20-29 one hour old, on both partitions.
        for (var p = 0; p < 2; p++)
        {
            for (var age = 3; age >= 1; age--)
            {
                Assert.Equal(ErrorCode.None, (await c.ProduceAsync("events", p, Batches.Values((3 - age) * 10, 10, timestamp: now - (age * hour)))).Error);
            }
        }

        // ListOffsets by timestamp: the first offset whose timestamp is at or after the one asked for.
        var byTime = await c.Partition("events", 1).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = now - (2 * hour) });
        Assert.Equal(ErrorCode.None, byTime.Error);
        Assert.Equal(10, byTime.Offset);
        var future = await c.Partition("events", 1).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = now + hour });
        Assert.Equal(-1, future.Offset);

        var group = c.Client.GetGrain<IConsumerGroupGrain>("auditors");
        var member = new Member(group, "a");
        await member.BeatAsync(join: true);
        var refused = await Assert.ThrowsAsync<BrokerException>(() => group.DeleteAsync());
        Assert.Equal(ErrorCode.NonEmptyGroup, refused.Code);
        Assert.Equal(ErrorCode.None, (await group.CommitOffsetsAsync(new OffsetCommitRequest
        {
            MemberId = member.Id,
            MemberEpoch = member.Epoch,
            Offsets = [new TopicPartitionOffset(new TopicPartition("events", 0), 25, -1, null), new TopicPartitionOffset(new TopicPartition("events", 1), 25, -1, null)],
        })).Error);
        await member.LeaveAsync();

        async Task<long[]> PlanAsync(OffsetResetMode mode, long value, bool execute = false) =>
            (await group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = mode, Value = value, Topics = ["events"], Execute = execute }))
            .OrderBy(e => e.TopicPartition.Partition).Select(e => e.NewOffset).ToArray();

        // to-datetime 2.5 hours ago lands on the first record of the two-hour-old batch; by-duration 90 minutes on the one-hour-old one.
        Assert.Equal(new long[] { 10, 10 }, await PlanAsync(OffsetResetMode.ToDatetime, now - (5 * hour / 2)));
        Assert.Equal(new long[] { 20, 20 }, await PlanAsync(OffsetResetMode.ByDuration, 3 * hour / 2));
        Assert.Equal(new long[] { 30, 30 }, await PlanAsync(OffsetResetMode.ToDatetime, now + hour));
        Assert.Equal(new long[] { 30, 30 }, await PlanAsync(OffsetResetMode.ToLatest, 0));
        Assert.Equal(new long[] { 4, 4 }, await PlanAsync(OffsetResetMode.ToOffset, 4));
        Assert.Equal(new long[] { 25, 25 }, (await group.FetchOffsetsAsync(null)).Select(o => o.Offset).ToArray());

        // Executed, the plan becomes the committed offsets and the lag follows.
        Assert.Equal(new long[] { 10, 10 }, await PlanAsync(OffsetResetMode.ToDatetime, now - (5 * hour / 2), execute: true));
        var described = await group.DescribeAsync();
        Assert.All(described.Offsets, o => Assert.Equal((10L, 30L, 20L), (o.CommittedOffset, o.LogEndOffset, o.Lag)));
        await group.DeleteAsync();
        Assert.All(await group.FetchOffsetsAsync([new TopicPartition("events", 0)]), o => Assert.Equal(-1, o.Offset));
    }

    [Fact]
    public async Task Offsets_expire_after_offsets_retention_minutes_of_emptiness_and_never_while_members_remain()
    {
        // Group time moves alone (the broker's keyed group clock); membership, replication and timers keep real time.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var c = await BrokerCluster.StartAsync(
            configure: o => o.OffsetsRetentionMinutes = 1,
            configureSilo: s => s.Services.AddKeyedSingleton<TimeProvider>(BrokerSiloBuilderExtensions.GroupClockKey, clock));
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "aging", NumPartitions = 1, ReplicationFactor = 2 });
        var tp = new TopicPartition("aging", 0);
        async Task<long> CommittedAsync(IConsumerGroupGrain g) => (await g.FetchOffsetsAsync([tp]))[0].Offset;
        Task<OffsetCommitResponse> CommitAsync(IConsumerGroupGrain g, long offset) =>
            g.CommitOffsetsAsync(new OffsetCommitRequest { Offsets = [new TopicPartitionOffset(tp, offset, -1, null)] });

        // "quiet" never has members: its offsets start to age when committed.
        var quiet = c.Client.GetGrain<IConsumerGroupGrain>("aging-quiet");
        Assert.Equal(ErrorCode.None, (await CommitAsync(quiet, 5)).Error);

        // "standalone" has no members either, but commits again before its first commit is a minute old (KIP-211).
        var standalone = c.Client.GetGrain<IConsumerGroupGrain>("aging-standalone");
        Assert.Equal(ErrorCode.None, (await CommitAsync(standalone, 3)).Error);

        // "busy" has a member that keeps heartbeating.
        var busy = c.Client.GetGrain<IConsumerGroupGrain>("aging-busy");
        var joined = await busy.HeartbeatAsync(new GroupHeartbeatRequest { MemberEpoch = 0, SubscribedTopicNames = ["aging"], ClientId = "busy-1" });
        Assert.Equal(ErrorCode.None, joined.Error);
        var member = (Id: joined.MemberId, Epoch: joined.MemberEpoch);
        async Task BeatAsync()
        {
            var r = await busy.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = member.Id, MemberEpoch = member.Epoch });
            Assert.Equal(ErrorCode.None, r.Error);
            member = (r.MemberId, r.MemberEpoch);
        }

        Assert.Equal(ErrorCode.None, (await busy.CommitOffsetsAsync(new OffsetCommitRequest
        {
            MemberId = member.Id,
            MemberEpoch = member.Epoch,
            Offsets = [new TopicPartitionOffset(tp, 7, -1, null)],
        })).Error);

        // 59 s of group time (the member beats every 20 s, within its 45 s session): nothing is old enough yet.
        for (var i = 0; i < 3; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(i < 2 ? 20 : 19));
            await BeatAsync();
        }

        Assert.Equal(5, await CommittedAsync(quiet));
        Assert.Equal(7, await CommittedAsync(busy));
        Assert.Equal(ErrorCode.None, (await CommitAsync(standalone, 4)).Error);

        // Past one minute: the empty group's offsets are gone; the group with a member keeps its offsets, and so does
        // the group without members whose last commit is two seconds old.
        clock.Advance(TimeSpan.FromSeconds(2));
        await BeatAsync();
        Assert.Equal(-1, await CommittedAsync(quiet));
        Assert.Equal(7, await CommittedAsync(busy));
        Assert.True(await CommittedAsync(standalone) == 4, "offsets of a group without members expired one minute after its first commit, not its last");
        await standalone.DescribeAsync();
        Assert.Equal(4, await CommittedAsync(standalone));

        // Describing the group removes what expired (as the expiry tick does): it lists no offsets.
        Assert.Empty((await quiet.DescribeAsync()).Offsets);

        // Once the member leaves, the busy group's offsets age from that moment.
        await busy.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = member.Id, MemberEpoch = -1 });
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(7, await CommittedAsync(busy));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(-1, await CommittedAsync(busy));

        // A minute after its last commit, the standalone group's offsets expire too.
        Assert.Equal(-1, await CommittedAsync(standalone));
    }

    [Fact]
    public async Task Offsets_reset_on_a_group_idle_past_offsets_retention_survive_until_its_consumers_come()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var c = await BrokerCluster.StartAsync(
            silos: 1,
            configure: o => o.OffsetsRetentionMinutes = 1,
            configureSilo: s => s.Services.AddKeyedSingleton<TimeProvider>(BrokerSiloBuilderExtensions.GroupClockKey, clock));
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "idle", NumPartitions = 1, ReplicationFactor = 1 });
        var tp = new TopicPartition("idle", 0);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("idle", 0, Batches.Values(0, 10))).Error);
        var group = c.Client.GetGrain<IConsumerGroupGrain>("idle-readers");
        async Task<long> CommittedAsync() => (await group.FetchOffsetsAsync([tp]))[0].Offset;

        // The group's consumers committed offset 9 and stopped; ten minutes later its offsets have expired.
        Assert.Equal(ErrorCode.None, (await group.CommitOffsetsAsync(new OffsetCommitRequest { Offsets = [new TopicPartitionOffset(tp, 9, -1, null)] })).Error);
        clock.Advance(TimeSpan.FromMinutes(10));
        await group.DescribeAsync();
        Assert.Equal(-1, await CommittedAsync());

        // --reset-offsets --execute: the reset counts as a commit, so it is still there after the expiry tick (Describe
        // runs it) and until the consumers come, and then while they stay.
        var reset = await group.ResetOffsetsAsync(new ResetOffsetsRequest { Mode = OffsetResetMode.ToOffset, Value = 2, Topics = ["idle"], Execute = true });
        Assert.Equal(2, reset.Single().NewOffset);
        clock.Advance(TimeSpan.FromSeconds(2));
        await group.DescribeAsync();
        Assert.True(await CommittedAsync() == 2, "the offsets reset on a group idle past offsets.retention.minutes expired at the next tick");
        clock.Advance(TimeSpan.FromSeconds(57));
        await group.DescribeAsync();
        Assert.Equal(2, await CommittedAsync());
        var consumer = await group.HeartbeatAsync(new GroupHeartbeatRequest { MemberEpoch = 0, SubscribedTopicNames = ["idle"], ClientId = "reader-1" });
        Assert.Equal(ErrorCode.None, consumer.Error);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCode.None, (await group.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = consumer.MemberId, MemberEpoch = consumer.MemberEpoch })).Error);
        await group.DescribeAsync();
        Assert.Equal(2, await CommittedAsync());
    }

    [Fact]
    public async Task Controlled_shutdown_loses_no_produce_and_the_preferred_leader_returns_after_restart()
    {
        // The topic name is this test's own: the meter is process-wide and other tests' clusters run alongside.
        const string topic = "controlled-shutdown-move";
        using var metrics = new BrokerMetricsRecorder(topic);

        await using var c = await BrokerCluster.StartAsync(configure: o => o.ReplicaLagTimeMaxMs = 2_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = topic, NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } });
        var tp = new TopicPartition(topic, 0);
        var preferred = (await c.Controller.GetPartitionStateAsync(tp)).Leader!;
        var pid = await c.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
        var acknowledged = new List<string>();
        var producing = Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                // Idempotent: a retry after the leader moved is recognised, so the log holds each record once.
                var r = await c.ProduceAsync(topic, 0, Batches.Values(i, 1, pid.ProducerId, pid.ProducerEpoch, i), acks: -1);
                Assert.Equal(ErrorCode.None, r.Error);
                acknowledged.Add($"v{i}");
            }
        });
        await Wait.UntilAsync(() => acknowledged.Count >= 30, TimeSpan.FromSeconds(20), "30 records acknowledged", () => acknowledged.Count.ToString());
        await c.StopAsync(preferred);
        var moved = await c.Controller.GetPartitionStateAsync(tp);
        Assert.NotEqual(preferred, moved.Leader);

        // The leader moved because the stopping silo handed over, not because the controller saw it die: once it was
        // Dead there was nothing left for a failover to do.
        Assert.Equal([BrokerMetrics.ControlledShutdown], metrics.Elections);
        await producing;

        var all = await c.ConsumeAsync(topic, 0, 0, 150);
        Assert.Equal(acknowledged, all.Select(r => r.Value));

        await c.RestartAsync(preferred);
        await Wait.UntilAsync(() => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Leader == preferred, TimeSpan.FromSeconds(30),
            $"leadership to return to the preferred replica {preferred}", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync(topic, 0, Batches.Values(150, 1))).Error);
        Assert.Equal(151, (await c.ConsumeAsync(topic, 0, 0, 151)).Count);
        Assert.Equal([BrokerMetrics.ControlledShutdown, BrokerMetrics.Preferred], metrics.Elections);
    }
}
