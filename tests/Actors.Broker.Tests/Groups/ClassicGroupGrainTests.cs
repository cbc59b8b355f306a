using Actors.Broker.Hosting;
using Actors.Broker.Tests.Cluster;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Broker.Tests.Groups;

[Collection(BrokerClusterCollection.Name)]
public class ClassicGroupGrainTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(20);

    private static JoinGroupRequest Join(string memberId, string client, byte[] metadata, int session = 10_000) => new()
    {
        MemberId = memberId,
        ProtocolType = "consumer",
        Protocols = [new JoinGroupProtocol { Name = "range", Metadata = metadata }],
        SessionTimeoutMs = session,
        RebalanceTimeoutMs = 30_000,
        RequireKnownMemberId = true,
        ClientId = client,
        ClientHost = "/127.0.0.1",
    };

    /// <summary>First join of a new member: MEMBER_ID_REQUIRED with its id.</summary>
    private static async Task<string> MemberIdAsync(IConsumerGroupGrain group, string client)
    {
        var r = await group.JoinGroupAsync(Join(string.Empty, client, [1]));
        Assert.Equal(ErrorCode.MemberIdRequired, r.Error);
        Assert.NotEmpty(r.MemberId);
        return r.MemberId;
    }

    private static Task<ClassicHeartbeatResponse> BeatAsync(IConsumerGroupGrain group, string member, int generation) =>
        group.ClassicHeartbeatAsync(new ClassicHeartbeatRequest { MemberId = member, GenerationId = generation });

    [Fact]
    public async Task Members_joining_together_get_one_generation_the_leader_their_metadata_and_each_the_leaders_assignment_byte_exact()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1, configure: o => o.GroupInitialRebalanceDelayMs = 300);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "t", NumPartitions = 2, ReplicationFactor = 1 });
        var group = c.Client.GetGrain<IConsumerGroupGrain>("classic-relay");
        byte[] metaA = ClassicGroupCoordinatorTests.Subscription("t"), metaB = [.. ClassicGroupCoordinatorTests.Subscription("t"), 0, 42];
        var a = await MemberIdAsync(group, "a");
        var b = await MemberIdAsync(group, "b");
        var joinA = group.JoinGroupAsync(Join(a, "a", metaA));
        var joinB = group.JoinGroupAsync(Join(b, "b", metaB));
        var (ra, rb) = (await joinA.WaitAsync(Answer), await joinB.WaitAsync(Answer));
        Assert.Equal((ErrorCode.None, ErrorCode.None), (ra.Error, rb.Error));
        Assert.Equal(ra.GenerationId, rb.GenerationId);
        Assert.Equal(ra.LeaderId, rb.LeaderId);
        var (leader, follower, leaderJoin) = ra.LeaderId == a ? (a, b, ra) : (b, a, rb);
        Assert.Equal(("consumer", "range"), (leaderJoin.ProtocolType, leaderJoin.ProtocolName));
        Assert.Equal(metaA, leaderJoin.Members.Single(m => m.MemberId == a).Metadata);
        Assert.Equal(metaB, leaderJoin.Members.Single(m => m.MemberId == b).Metadata);
        Assert.Empty((ra.LeaderId == a ? rb : ra).Members);
        var generation = ra.GenerationId;

        // The follower's sync waits for the leader's; the grain answers other calls meanwhile.
        var followerSync = group.SyncGroupAsync(new SyncGroupRequest { MemberId = follower, GenerationId = generation });
        Assert.Equal(ErrorCode.None, (await BeatAsync(group, leader, generation)).Error);
        Assert.Equal("CompletingRebalance", (await group.DescribeAsync()).KafkaState);
        Assert.False(followerSync.IsCompleted);
        byte[] forLeader = [0, 1, 0, 0, 0, 1, 0, 1, (byte)'t'], forFollower = [255, 0, 128, 7];
        var leaderSync = await group.SyncGroupAsync(new SyncGroupRequest
        {
            MemberId = leader,
            GenerationId = generation,
            Assignments = [new() { MemberId = leader, Assignment = forLeader }, new() { MemberId = follower, Assignment = forFollower }],
        }).WaitAsync(Answer);
        Assert.Equal(forLeader, leaderSync.Assignment);
        Assert.Equal(forFollower, (await followerSync.WaitAsync(Answer)).Assignment);

        var described = await group.DescribeAsync();
        Assert.Equal(("Stable", "consumer", "range", KafkaGroupStates.ClassicType), (described.KafkaState, described.ProtocolType, described.Protocol, described.GroupType));
        Assert.Equal(forFollower, described.Members.Single(m => m.MemberId == follower).Assignment);
        Assert.Equal(metaB, described.Members.Single(m => m.MemberId == b).Metadata);
        Assert.Equal("b", described.Members.Single(m => m.MemberId == b).ClientId);

        // A third member: heartbeats answer REBALANCE_IN_PROGRESS until the others join again, then a new generation.
        var third = await MemberIdAsync(group, "c");
        var joinC = group.JoinGroupAsync(Join(third, "c", metaA));
        await Wait.UntilAsync(async () => (await BeatAsync(group, leader, generation)).Error == ErrorCode.RebalanceInProgress, Answer, "the leader to learn of the rebalance");
        var listing = await group.GetListingAsync();
        Assert.Equal(("classic-relay", "consumer", "PreparingRebalance", "classic", true), (listing.GroupId, listing.ProtocolType, listing.State, listing.GroupType, listing.Exists));
        Assert.False(joinC.IsCompleted);
        var again = await Task.WhenAll(group.JoinGroupAsync(Join(a, "a", metaA)), group.JoinGroupAsync(Join(b, "b", metaB))).WaitAsync(Answer);
        var rc = await joinC.WaitAsync(Answer);
        Assert.All(again.Append(rc), r => Assert.Equal(generation + 1, r.GenerationId));
        Assert.Equal(3, again.Concat([rc]).Single(r => r.MemberId == r.LeaderId).Members.Length);
        generation++;
        var syncs = await Task.WhenAll(new[] { a, b, third }.Select(m => group.SyncGroupAsync(new SyncGroupRequest
        {
            MemberId = m,
            GenerationId = generation,
            Assignments = m == rc.LeaderId ? [new() { MemberId = third, Assignment = [3] }] : [],
        }))).WaitAsync(Answer);
        Assert.All(syncs, s => Assert.Equal(ErrorCode.None, s.Error));
        Assert.Equal([3], syncs[2].Assignment);
        Assert.Empty(syncs[0].Assignment);

        // Commits carry the generation; offsets, negative ones included, metadata and leader epochs come back as given.
        var tp = new TopicPartition("t", 0);
        var other = new TopicPartition("other", 0);
        Assert.Equal(ErrorCode.None, (await group.CommitOffsetsAsync(new OffsetCommitRequest
        {
            MemberId = a,
            MemberEpoch = generation,
            Offsets = [new TopicPartitionOffset(tp, -5, 3, "meta"), new TopicPartitionOffset(other, 9, -1, null)],
        })).Error);
        Assert.Equal(new TopicPartitionOffset(tp, -5, 3, "meta"), (await group.FetchOffsetsAsync([tp]))[0]);
        Assert.Equal(ErrorCode.IllegalGeneration, (await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = a, MemberEpoch = generation - 1, Offsets = [] })).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = "nobody", MemberEpoch = generation, Offsets = [] })).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await group.CommitOffsetsAsync(new OffsetCommitRequest { Offsets = [new TopicPartitionOffset(tp, 1, -1, null)] })).Error);

        // OffsetDelete spares topics the members subscribe to.
        Assert.Equal([ErrorCode.GroupSubscribedToTopic, ErrorCode.None], await group.DeleteOffsetsAsync([tp, other]));
        Assert.Equal(-1, (await group.FetchOffsetsAsync([other]))[0].Offset);
        Assert.Equal(-5, (await group.FetchOffsetsAsync([tp]))[0].Offset);
        Assert.Equal(ErrorCode.NonEmptyGroup, (await Assert.ThrowsAsync<BrokerException>(() => group.DeleteAsync())).Code);

        // Leaving rebalances the rest; the last to leave empties the group.
        var left = await group.LeaveGroupAsync(new LeaveGroupRequest { Members = [new() { MemberId = b }, new() { MemberId = third }, new() { MemberId = "ghost" }] });
        Assert.Equal([ErrorCode.None, ErrorCode.None, ErrorCode.UnknownMemberId], left.Members.Select(m => m.Error));
        Assert.Equal(ErrorCode.RebalanceInProgress, (await BeatAsync(group, a, generation)).Error);
        var alone = await group.JoinGroupAsync(Join(a, "a", metaA)).WaitAsync(Answer);
        Assert.Equal((generation + 1, a), (alone.GenerationId, alone.LeaderId));
        await group.LeaveGroupAsync(new LeaveGroupRequest { Members = [new() { MemberId = a }] });
        Assert.Equal("Empty", (await group.DescribeAsync()).KafkaState);
        Assert.Equal([ErrorCode.None], await group.DeleteOffsetsAsync([tp]));
        await group.DeleteAsync();
        Assert.Equal(ErrorCode.GroupIdNotFound, (await Assert.ThrowsAsync<BrokerException>(() => group.DeleteOffsetsAsync([tp]))).Code);
        Assert.False((await group.GetListingAsync()).Exists);
    }

    [Fact]
    public async Task A_waiting_join_leaves_the_grain_answering_sessions_expire_by_the_group_clock_and_kinds_exclude_each_other()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var c = await BrokerCluster.StartAsync(
            silos: 1,
            configure: o =>
            {
                o.GroupInitialRebalanceDelayMs = 5_000;
                o.GroupHeartbeatIntervalMs = 100;
            },
            configureSilo: s => s.Services.AddKeyedSingleton<TimeProvider>(BrokerSiloBuilderExtensions.GroupClockKey, clock));
        var group = c.Client.GetGrain<IConsumerGroupGrain>("classic-clock");
        var meta = ClassicGroupCoordinatorTests.Subscription("t");

        // The first rebalance waits group.initial.rebalance.delay.ms of group time; the grain answers meanwhile.
        var a = await MemberIdAsync(group, "a");
        var joinA = group.JoinGroupAsync(Join(a, "a", meta));
        await Wait.UntilAsync(async () => (await group.GetListingAsync()).State == "PreparingRebalance", Answer, "the join to start a rebalance");
        var waiting = await group.DescribeAsync();
        Assert.Equal(("PreparingRebalance", ClassicGroupState.PreparingRebalance), (waiting.KafkaState, waiting.ClassicState));
        Assert.Equal("PreparingRebalance", (await group.GetListingAsync()).State);
        Assert.Equal(ErrorCode.UnknownMemberId, (await group.CommitOffsetsAsync(new OffsetCommitRequest { Offsets = [new TopicPartitionOffset(new TopicPartition("t", 0), 1, -1, null)] })).Error);
        var kip848 = await group.HeartbeatAsync(new GroupHeartbeatRequest { MemberEpoch = 0, SubscribedTopicNames = ["t"] });
        Assert.Equal(ErrorCode.GroupIdNotFound, kip848.Error);
        Assert.False(joinA.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(5));
        var ra = await joinA.WaitAsync(Answer);
        Assert.Equal((ErrorCode.None, 1, a), (ra.Error, ra.GenerationId, ra.LeaderId));
        Assert.Equal(ErrorCode.RebalanceInProgress, (await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = a, MemberEpoch = 1, Offsets = [] })).Error);
        Assert.Equal(ErrorCode.None, (await group.SyncGroupAsync(new SyncGroupRequest { MemberId = a, GenerationId = 1 }).WaitAsync(Answer)).Error);

        // b joins a stable group: a learns of it by heartbeat, joins again, both get generation 2 at once.
        var b = await MemberIdAsync(group, "b");
        var joinB = group.JoinGroupAsync(Join(b, "b", meta));
        await Wait.UntilAsync(async () => (await BeatAsync(group, a, 1)).Error == ErrorCode.RebalanceInProgress, Answer, "a to learn of the rebalance");
        var rejoin = await group.JoinGroupAsync(Join(a, "a", meta)).WaitAsync(Answer);
        Assert.Equal(2, rejoin.GenerationId);
        Assert.Equal(2, (await joinB.WaitAsync(Answer)).GenerationId);
        await Task.WhenAll(
            group.SyncGroupAsync(new SyncGroupRequest { MemberId = a, GenerationId = 2 }),
            group.SyncGroupAsync(new SyncGroupRequest { MemberId = b, GenerationId = 2 })).WaitAsync(Answer);

        // b falls silent: past its 10 s session (group time) it is removed and a must join again.
        clock.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(ErrorCode.None, (await BeatAsync(group, a, 2)).Error);
        clock.Advance(TimeSpan.FromSeconds(4));
        await Wait.UntilAsync(async () => (await group.DescribeAsync()).Members.Length == 1, Answer, "b's session to expire",
            () => "b is still a member");
        Assert.Equal(ErrorCode.UnknownMemberId, (await BeatAsync(group, b, 2)).Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, (await BeatAsync(group, a, 2)).Error);
        Assert.Equal(3, (await group.JoinGroupAsync(Join(a, "a", meta)).WaitAsync(Answer)).GenerationId);

        // A group with KIP-848 members refuses classic members; once empty, either kind may take it.
        var modern = c.Client.GetGrain<IConsumerGroupGrain>("kip848-group");
        var m = await modern.HeartbeatAsync(new GroupHeartbeatRequest { MemberEpoch = 0, SubscribedTopicNames = ["t"], ServerAssignor = "range" });
        Assert.Equal(ErrorCode.None, m.Error);
        var refused = await modern.JoinGroupAsync(Join(string.Empty, "x", meta));
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, refused.Error);
        var listing = await modern.GetListingAsync();
        Assert.Equal(("consumer", "consumer"), (listing.GroupType, listing.ProtocolType));
        var description = await modern.DescribeAsync();
        Assert.Equal(("consumer", "range", KafkaGroupStates.ConsumerType), (description.ProtocolType, description.Protocol, description.GroupType));
        await modern.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = m.MemberId, MemberEpoch = -1 });
        Assert.Equal(ErrorCode.MemberIdRequired, (await modern.JoinGroupAsync(Join(string.Empty, "x", meta))).Error);
    }
}
