using System.Buffers.Binary;
using System.Text;
using Actors.Broker.Configuration;
using Actors.Broker.Groups;

namespace Actors.Broker.Tests.Groups;

/// <summary>The answer of a join or sync the coordinator must have completed (never blocks).</summary>
internal static class CompletedTasks
{
    public static T R<T>(this Task<T> task)
    {
        Assert.True(task.IsCompleted, "the answer is still pending");
        return task.Result;
    }
}

public class ClassicGroupCoordinatorTests
{
    private const int Session = 10_000;
    private const int Rebalance = 60_000;
    private const int Delay = 3_000;

    private static readonly BrokerOptions Options = new() { LogDirs = "x", GroupInitialRebalanceDelayMs = Delay };

    /// <summary>ConsumerProtocolSubscription v0 bytes: version, topics, empty user data.</summary>
    internal static byte[] Subscription(params string[] topics)
    {
        var bytes = new List<byte>();
        void Int16(int v)
        {
            var b = new byte[2];
            BinaryPrimitives.WriteInt16BigEndian(b, (short)v);
            bytes.AddRange(b);
        }

        Int16(0);
        var count = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(count, topics.Length);
        bytes.AddRange(count);
        foreach (var t in topics)
        {
            Int16(Encoding.UTF8.GetByteCount(t));
            bytes.AddRange(Encoding.UTF8.GetBytes(t));
        }

        bytes.AddRange(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
        return [.. bytes];
    }

    private static JoinGroupRequest Join(string memberId = "", string client = "c", byte[]? metadata = null, string? instance = null,
        string protocolType = "consumer", string[]? protocols = null, int session = Session) => new()
    {
        MemberId = memberId,
        GroupInstanceId = instance,
        ProtocolType = protocolType,
        Protocols = (protocols ?? ["range"]).Select(p => new JoinGroupProtocol { Name = p, Metadata = metadata ?? Subscription("t") }).ToArray(),
        SessionTimeoutMs = session,
        RebalanceTimeoutMs = Rebalance,
        RequireKnownMemberId = true,
        ClientId = client,
        ClientHost = "/10.0.0.1",
    };

    /// <summary>Joins as a new member (MEMBER_ID_REQUIRED first), returning its pending join.</summary>
    private static (string Id, Task<JoinGroupResponse> Join) JoinNew(ClassicGroupCoordinator g, long now, string client, byte[]? metadata = null, string[]? protocols = null)
    {
        var first = g.Join(Join(client: client, metadata: metadata, protocols: protocols), now);
        Assert.True(first.IsCompleted);
        Assert.Equal(ErrorCode.MemberIdRequired, first.R().Error);
        Assert.StartsWith(client + "-", first.R().MemberId, StringComparison.Ordinal);
        return (first.R().MemberId, g.Join(Join(first.R().MemberId, client, metadata, protocols: protocols), now));
    }

    private static ClassicGroupCoordinator StableGroupOfTwo(out string a, out string b, out int generation)
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var (ida, ja) = JoinNew(g, 0, "a");
        var (idb, jb) = JoinNew(g, 10, "b");
        g.Tick(Delay);
        g.Tick(2 * Delay);
        Assert.True(ja.IsCompleted && jb.IsCompleted);
        generation = ja.R().GenerationId;
        var leader = ja.R().LeaderId;
        var sa = g.Sync(new SyncGroupRequest { MemberId = ida, GenerationId = generation, Assignments = [new() { MemberId = ida, Assignment = [1] }, new() { MemberId = idb, Assignment = [2] }] }, 2 * Delay);
        var sb = g.Sync(new SyncGroupRequest { MemberId = idb, GenerationId = generation }, 2 * Delay);
        Assert.Equal(ida, leader);
        Assert.Equal(ErrorCode.None, sa.R().Error);
        Assert.Equal(ErrorCode.None, sb.R().Error);
        Assert.Equal(ClassicGroupState.Stable, g.State);
        (a, b) = (ida, idb);
        return g;
    }

    [Fact]
    public void First_join_without_id_gets_member_id_required_then_the_initial_delay_gathers_members_and_the_leader_gets_their_metadata_unchanged()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var metaA = Subscription("orders", "payments");
        var metaB = new byte[] { 0, 0, 0, 0, 0, 1, 0, 3, (byte)'x', (byte)'y', (byte)'z', 9, 9 };
        var (a, joinA) = JoinNew(g, 0, "a", metaA);
        Assert.Equal(ClassicGroupState.PreparingRebalance, g.State);
        Assert.Equal("PreparingRebalance", g.State.ToKafkaString());
        Assert.False(joinA.IsCompleted);

        // b arrives within the delay: the first rebalance waits another delay for more members.
        var (b, joinB) = JoinNew(g, 2_000, "b", metaB);
        g.Tick(Delay);
        Assert.False(joinA.IsCompleted);
        g.Tick(2 * Delay - 1);
        Assert.False(joinA.IsCompleted);
        g.Tick(2 * Delay);
        Assert.True(joinA.IsCompleted && joinB.IsCompleted);
        var (ra, rb) = (joinA.R(), joinB.R());
        Assert.Equal(ErrorCode.None, ra.Error);
        Assert.Equal(1, ra.GenerationId);
        Assert.Equal(ra.GenerationId, rb.GenerationId);
        Assert.Equal(a, ra.LeaderId);
        Assert.Equal(a, rb.LeaderId);
        Assert.Equal(("consumer", "range"), (ra.ProtocolType, ra.ProtocolName));
        Assert.Equal([a, b], ra.Members.Select(m => m.MemberId));
        Assert.Equal(metaA, ra.Members[0].Metadata);
        Assert.Equal(metaB, ra.Members[1].Metadata);
        Assert.Empty(rb.Members);
        Assert.Equal(ClassicGroupState.CompletingRebalance, g.State);
    }

    [Fact]
    public void Followers_wait_for_the_leaders_sync_and_get_its_assignment_bytes_unchanged()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var (a, ja) = JoinNew(g, 0, "a");
        var (b, jb) = JoinNew(g, 0, "b");
        g.Tick(Delay);
        g.Tick(2 * Delay);
        var generation = ja.R().GenerationId;
        var follower = g.Sync(new SyncGroupRequest { MemberId = b, GenerationId = generation, ProtocolType = "consumer", ProtocolName = "range" }, Delay);
        Assert.False(follower.IsCompleted);
        Assert.Equal(ErrorCode.None, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = a, GenerationId = generation }, Delay).Error);
        byte[] forA = [0, 1, 2, 255], forB = [7, 7, 0, 0, 7];
        var leader = g.Sync(new SyncGroupRequest
        {
            MemberId = a,
            GenerationId = generation,
            Assignments = [new() { MemberId = a, Assignment = forA }, new() { MemberId = b, Assignment = forB }],
        }, Delay + 1);
        Assert.True(leader.IsCompleted && follower.IsCompleted);
        Assert.Equal(forA, leader.R().Assignment);
        Assert.Equal(forB, follower.R().Assignment);
        Assert.Equal("range", follower.R().ProtocolName);
        Assert.Equal(ClassicGroupState.Stable, g.State);

        // A sync in Stable answers at once with the stored assignment.
        Assert.Equal(forB, g.Sync(new SyncGroupRequest { MemberId = b, GenerationId = generation }, Delay + 2).R().Assignment);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, g.Sync(new SyncGroupRequest { MemberId = b, GenerationId = generation, ProtocolName = "roundrobin" }, Delay + 2).R().Error);
        Assert.Equal(ErrorCode.IllegalGeneration, g.Sync(new SyncGroupRequest { MemberId = b, GenerationId = generation + 1 }, Delay + 2).R().Error);
        Assert.Equal(ErrorCode.UnknownMemberId, g.Sync(new SyncGroupRequest { MemberId = "nobody", GenerationId = generation }, Delay + 2).R().Error);
    }

    [Fact]
    public void A_new_member_makes_heartbeats_answer_rebalance_in_progress_and_the_rejoin_moves_to_the_next_generation()
    {
        var g = StableGroupOfTwo(out var a, out var b, out var generation);
        var now = 10_000L;
        var (c, jc) = JoinNew(g, now, "c");
        Assert.Equal(ClassicGroupState.PreparingRebalance, g.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = a, GenerationId = generation }, now).Error);
        var ja = g.Join(Join(a, "a"), now + 1);
        Assert.False(ja.IsCompleted);
        var jb = g.Join(Join(b, "b"), now + 2);

        // Everyone joined again: no waiting for the timeout.
        Assert.True(ja.IsCompleted && jb.IsCompleted && jc.IsCompleted);
        Assert.Equal(generation + 1, jc.R().GenerationId);
        Assert.Equal(3, ja.R().Members.Length);
        Assert.Equal(ErrorCode.IllegalGeneration, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = a, GenerationId = generation }, now + 3).Error);
        Assert.Equal(ErrorCode.None, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = c, GenerationId = generation + 1 }, now + 3).Error);
    }

    [Fact]
    public void Members_that_do_not_rejoin_within_the_rebalance_timeout_are_dropped()
    {
        var g = StableGroupOfTwo(out var a, out var b, out var generation);
        var ja = g.Join(Join(a, "a"), 10_000);
        Assert.False(ja.IsCompleted);

        // b heartbeats (learning of the rebalance) but never joins.
        for (var t = 10_000L; t < 10_000 + Rebalance; t += 5_000)
        {
            Assert.Equal(ErrorCode.RebalanceInProgress, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = b, GenerationId = generation }, t).Error);
            g.Tick(t);
        }

        Assert.False(ja.IsCompleted);
        g.Tick(10_000 + Rebalance);
        Assert.True(ja.IsCompleted);
        Assert.Equal([a], ja.R().Members.Select(m => m.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = b, GenerationId = generation }, 10_000 + Rebalance).Error);
    }

    [Fact]
    public void Leave_rebalances_the_rest_and_answers_per_member()
    {
        var g = StableGroupOfTwo(out var a, out var b, out var generation);
        var left = g.Leave(new LeaveGroupRequest { Members = [new() { MemberId = b }, new() { MemberId = "ghost" }, new() { GroupInstanceId = "nobody" }] }, 7_000);
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId, ErrorCode.UnknownMemberId], left.Members.Select(m => m.Error));
        Assert.Equal(ClassicGroupState.PreparingRebalance, g.State);
        var ja = g.Join(Join(a, "a"), 7_001);
        Assert.True(ja.IsCompleted);
        Assert.Equal(generation + 1, ja.R().GenerationId);
        Assert.Single(ja.R().Members);

        // The last member leaving empties the group; the generation still grows.
        Assert.Equal(ErrorCode.None, g.Sync(new SyncGroupRequest { MemberId = a, GenerationId = generation + 1 }, 7_002).R().Error);
        g.Leave(new LeaveGroupRequest { Members = [new() { MemberId = a }] }, 7_003);
        Assert.Equal(ClassicGroupState.Empty, g.State);
        Assert.Equal(generation + 2, g.GenerationId);
        Assert.Equal("consumer", g.ProtocolType);
    }

    [Fact]
    public void A_silent_member_expires_after_its_session_timeout_and_a_rebalance_starts()
    {
        var g = StableGroupOfTwo(out var a, out var b, out var generation);
        var now = 2L * Delay;
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(ErrorCode.None, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = a, GenerationId = generation }, now + (i * 4_000)).Error);
            g.Tick(now + (i * 4_000));
        }

        Assert.Equal(1, g.MemberCount);
        Assert.Equal(ClassicGroupState.PreparingRebalance, g.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = a, GenerationId = generation }, now + 17_000).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = b, GenerationId = generation }, now + 17_000).Error);
    }

    [Fact]
    public void A_member_id_handed_out_but_never_used_expires_after_the_session_timeout()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var (a, ja) = JoinNew(g, 0, "a");
        var pending = g.Join(Join(client: "b"), 1);
        Assert.Equal(ErrorCode.MemberIdRequired, pending.R().Error);
        g.Tick(Delay);
        Assert.Equal(1, ja.R().GenerationId);
        Assert.True(g.NextDeadline() <= 1 + Session);
        g.Tick(1 + Session);
        Assert.Equal(ErrorCode.UnknownMemberId, g.Leave(new LeaveGroupRequest { Members = [new() { MemberId = pending.R().MemberId }] }, 2 + Session).Members[0].Error);
    }

    [Fact]
    public void Join_errors_session_timeout_protocol_type_and_protocols_unknown_member()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, g.Join(Join(session: 5_999), 0).R().Error);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, g.Join(Join(session: 1_800_001), 0).R().Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, g.Join(Join(protocolType: string.Empty), 0).R().Error);
        Assert.Equal(ErrorCode.UnknownMemberId, g.Join(Join("made-up"), 0).R().Error);
        JoinNew(g, 0, "a", protocols: ["range", "roundrobin"]);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, g.Join(Join(protocolType: "connect"), 1).R().Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, g.Join(Join(protocols: ["sticky"]), 1).R().Error);
        Assert.Equal(ErrorCode.MemberIdRequired, g.Join(Join(protocols: ["sticky", "roundrobin"]), 1).R().Error);
    }

    [Fact]
    public void The_protocol_all_members_support_wins_by_votes()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var (_, j1) = JoinNew(g, 0, "a", protocols: ["range", "roundrobin", "sticky"]);
        JoinNew(g, 0, "b", protocols: ["roundrobin", "sticky"]);
        JoinNew(g, 0, "c", protocols: ["sticky", "roundrobin"]);
        g.Tick(Delay);
        g.Tick(2 * Delay);
        Assert.Equal("roundrobin", j1.R().ProtocolName);
    }

    [Fact]
    public void Static_members_are_fenced_by_a_newer_instance_and_replaced_without_a_rebalance()
    {
        var g = new ClassicGroupCoordinator("g", Options);
        var first = g.Join(Join(client: "a", instance: "i-1"), 0);
        g.Tick(Delay);
        var old = first.R().MemberId;
        Assert.StartsWith("i-1-", old, StringComparison.Ordinal);
        g.Sync(new SyncGroupRequest { MemberId = old, GroupInstanceId = "i-1", GenerationId = 1, Assignments = [new() { MemberId = old, Assignment = [4, 2] }] }, Delay);
        Assert.Equal(ClassicGroupState.Stable, g.State);

        var again = g.Join(Join(client: "a", instance: "i-1"), Delay + 1);
        Assert.True(again.IsCompleted);
        Assert.Equal(1, again.R().GenerationId);
        Assert.NotEqual(old, again.R().MemberId);
        Assert.Equal(ClassicGroupState.Stable, g.State);
        Assert.Equal(ErrorCode.FencedInstanceId, g.Heartbeat(new ClassicHeartbeatRequest { MemberId = old, GroupInstanceId = "i-1", GenerationId = 1 }, Delay + 2).Error);
        Assert.Equal(new byte[] { 4, 2 }, g.Sync(new SyncGroupRequest { MemberId = again.R().MemberId, GroupInstanceId = "i-1", GenerationId = 1 }, Delay + 2).R().Assignment);
    }

    [Fact]
    public void Commits_follow_kafkas_classic_rules()
    {
        var empty = new ClassicGroupCoordinator("g", Options);
        Assert.Equal(ErrorCode.None, empty.ValidateCommit(string.Empty, null, -1, 0).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, empty.ValidateCommit("m", null, 3, 0).Code);

        var g = new ClassicGroupCoordinator("g", Options);
        var (a, ja) = JoinNew(g, 0, "a");
        g.Tick(Delay);
        var generation = ja.R().GenerationId;
        Assert.Equal(ErrorCode.RebalanceInProgress, g.ValidateCommit(a, null, generation, Delay).Code);
        g.Sync(new SyncGroupRequest { MemberId = a, GenerationId = generation }, Delay);
        Assert.Equal(ErrorCode.None, g.ValidateCommit(a, null, generation, Delay).Code);
        Assert.Equal(ErrorCode.IllegalGeneration, g.ValidateCommit(a, null, generation - 1, Delay).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, g.ValidateCommit("other", null, generation, Delay).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, g.ValidateCommit(string.Empty, null, -1, Delay).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, g.ValidateCommit(a, "i-9", generation, Delay).Code);
    }

    [Fact]
    public void Subscriptions_are_read_from_consumer_protocol_metadata_for_offset_delete()
    {
        Assert.Equal(["a", "bb"], ConsumerProtocol.Topics("consumer", Subscription("a", "bb"))!);
        Assert.Null(ConsumerProtocol.Topics("connect", Subscription("a")));
        Assert.Null(ConsumerProtocol.Topics("consumer", [0, 0, 0, 0, 0, 5, 0]));

        var g = new ClassicGroupCoordinator("g", Options);
        JoinNew(g, 0, "a", Subscription("orders"));
        JoinNew(g, 0, "b", Subscription("payments"));
        g.Tick(Delay);
        g.Tick(2 * Delay);
        Assert.True(g.IsSubscribedTo("orders"));
        Assert.True(g.IsSubscribedTo("payments"));
        Assert.False(g.IsSubscribedTo("other"));

        var unreadable = new ClassicGroupCoordinator("h", Options);
        JoinNew(unreadable, 0, "a", [1, 2, 3]);
        unreadable.Tick(Delay);
        Assert.True(unreadable.IsSubscribedTo("anything"));
    }

    [Fact]
    public void A_restored_group_goes_on_from_its_generation_with_its_stable_members()
    {
        var g = StableGroupOfTwo(out var a, out var b, out var generation);
        var snapshot = g.Snapshot();
        var restored = new ClassicGroupCoordinator("g", Options);
        restored.Restore(snapshot, 100_000);
        Assert.Equal(ClassicGroupState.Stable, restored.State);
        Assert.Equal(generation, restored.GenerationId);
        Assert.Equal(ErrorCode.None, restored.Heartbeat(new ClassicHeartbeatRequest { MemberId = b, GenerationId = generation }, 100_001).Error);
        Assert.Equal(new byte[] { 2 }, restored.Sync(new SyncGroupRequest { MemberId = b, GenerationId = generation }, 100_001).R().Assignment);
        Assert.Equal(new byte[] { 1 }, restored.DescribeMembers().Single(m => m.MemberId == a).Assignment);

        // An empty group's snapshot keeps the generation: the next one is higher.
        g.Leave(new LeaveGroupRequest { Members = [new() { MemberId = a }, new() { MemberId = b }] }, 7_000);
        var empty = new ClassicGroupCoordinator("g", Options);
        empty.Restore(g.Snapshot(), 0);
        Assert.Equal(ClassicGroupState.Empty, empty.State);
        var (_, join) = JoinNew(empty, 0, "c");
        empty.Tick(Delay);
        Assert.Equal(generation + 2, join.R().GenerationId);
    }
}
