using Actors.Broker.Groups;
using Actors.Broker.Configuration;

namespace Actors.Broker.Tests.Groups;

public class ConsumerGroupCoordinatorTests
{
    private static readonly Dictionary<string, int> Counts = new() { ["t"] = 6 };
    private static readonly BrokerOptions Options = new() { LogDirs = "x", GroupSessionTimeoutMs = 45_000, GroupRebalanceTimeoutMs = 300_000 };

    private sealed class Client(ConsumerGroupCoordinator g, string name)
    {
        public string Id { get; private set; } = string.Empty;

        public int Epoch { get; private set; }

        public HashSet<TopicPartition> Owned { get; } = [];

        public string Name => name;

        public GroupHeartbeatResponse Beat(long now, string[]? topics = null, bool first = false)
        {
            var r = g.Heartbeat(new GroupHeartbeatRequest
            {
                MemberId = Id,
                MemberEpoch = first ? 0 : Epoch,
                SubscribedTopicNames = topics ?? (first ? ["t"] : null),
                OwnedPartitions = first ? null : Owned.ToArray(),
                ClientId = name,
            }, Counts, now);
            Assert.Equal(ErrorCode.None, r.Error);
            Id = r.MemberId;
            Epoch = r.MemberEpoch;
            Owned.Clear();
            Owned.UnionWith(r.Assignment);
            return r;
        }

        public void Leave(long now) => g.Heartbeat(new GroupHeartbeatRequest { MemberId = Id, MemberEpoch = -1 }, Counts, now);
    }

    private static void Settle(ConsumerGroupCoordinator g, IReadOnlyList<Client> clients, long now)
    {
        for (var round = 0; round < 10 && g.State != ConsumerGroupState.Stable; round++)
        {
            foreach (var c in clients)
            {
                c.Beat(now);
                AssertNoSharedPartition(clients);
            }
        }

        Assert.Equal(ConsumerGroupState.Stable, g.State);
    }

    private static void AssertNoSharedPartition(IReadOnlyList<Client> clients)
    {
        var all = clients.SelectMany(c => c.Owned).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public void Three_members_get_two_partitions_each_and_a_leaving_members_partitions_move_alone()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        var clients = new[] { new Client(g, "a"), new Client(g, "b"), new Client(g, "c") };
        foreach (var c in clients)
        {
            c.Beat(0, first: true);
        }

        Settle(g, clients, 1);
        Assert.All(clients, c => Assert.Equal(2, c.Owned.Count));
        Assert.Equal(6, clients.SelectMany(c => c.Owned).Distinct().Count());

        var before = clients.ToDictionary(c => c.Name, c => c.Owned.ToHashSet());
        clients[2].Leave(2);
        var rest = clients[..2];
        Settle(g, rest, 3);
        foreach (var c in rest)
        {
            Assert.True(before[c.Name].IsSubsetOf(c.Owned), $"{c.Name} lost a partition it had");
            Assert.Equal(3, c.Owned.Count);
        }

        Assert.Equal(before["c"], rest.SelectMany(c => c.Owned).Except(before["a"]).Except(before["b"]).ToHashSet());
    }

    [Fact]
    public void A_new_member_gets_partitions_only_after_their_owner_revoked_them()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        var a = new Client(g, "a");
        a.Beat(0, first: true);
        Assert.Equal(6, a.Owned.Count);
        var b = new Client(g, "b");
        var joined = b.Beat(1, first: true);
        Assert.Empty(joined.Assignment);
        Assert.Equal(ConsumerGroupState.Reconciling, g.State);

        // a is told to give up 3 partitions; until it confirms, b still gets nothing.
        a.Beat(2);
        Assert.Equal(3, a.Owned.Count);
        Assert.Empty(b.Beat(3).Assignment);
        a.Beat(4);
        Assert.Equal(3, b.Beat(5).Assignment.Length);
        Settle(g, [a, b], 6);
        Assert.Equal(ConsumerGroupState.Stable, g.State);
        Assert.Equal(g.GroupEpoch, a.Epoch);
        Assert.Equal(g.GroupEpoch, b.Epoch);
    }

    [Fact]
    public void Commits_are_fenced_by_member_epoch_and_outside_commits_need_an_empty_group()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        Assert.Equal(ErrorCode.None, g.ValidateCommit(string.Empty, -1).Code);
        var a = new Client(g, "a");
        a.Beat(0, first: true);
        Assert.Equal(ErrorCode.None, g.ValidateCommit(a.Id, a.Epoch).Code);
        Assert.Equal(ErrorCode.StaleMemberEpoch, g.ValidateCommit(a.Id, a.Epoch - 1).Code);
        Assert.Equal(ErrorCode.FencedMemberEpoch, g.ValidateCommit(a.Id, a.Epoch + 1).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, g.ValidateCommit("nobody", 1).Code);
        Assert.Equal(ErrorCode.UnknownMemberId, g.ValidateCommit(string.Empty, -1).Code);
    }

    [Fact]
    public void Silent_members_expire_after_the_session_timeout()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        var a = new Client(g, "a");
        var b = new Client(g, "b");
        a.Beat(0, first: true);
        b.Beat(0, first: true);
        Settle(g, [a, b], 1);
        Assert.Empty(g.ExpireMembers(40_000));
        a.Beat(40_000);
        Assert.Equal(new[] { b.Id }, g.ExpireMembers(45_002));
        a.Beat(45_003);
        a.Beat(45_004);
        Assert.Equal(6, a.Owned.Count);
        Assert.Single(g.DescribeMembers());
    }

    [Fact]
    public void Heartbeat_errors_unknown_member_fenced_epoch_and_unknown_assignor()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        Assert.Equal(ErrorCode.UnknownMemberId, g.Heartbeat(new GroupHeartbeatRequest { MemberId = "x", MemberEpoch = 3 }, Counts, 0).Error);
        var a = new Client(g, "a");
        a.Beat(0, first: true);
        Assert.Equal(ErrorCode.FencedMemberEpoch, g.Heartbeat(new GroupHeartbeatRequest { MemberId = a.Id, MemberEpoch = a.Epoch + 5 }, Counts, 1).Error);
        Assert.Equal(ErrorCode.UnsupportedAssignor,
            Assert.Throws<BrokerException>(() => g.Heartbeat(new GroupHeartbeatRequest { MemberId = a.Id, MemberEpoch = a.Epoch, ServerAssignor = "zzz" }, Counts, 2)).Code);
        Assert.Equal(ErrorCode.InvalidGroupId, Assert.Throws<BrokerException>(() => new ConsumerGroupCoordinator(" ", Options)).Code);
    }

    [Fact]
    public void Partition_growth_is_assigned()
    {
        var g = new ConsumerGroupCoordinator("g", Options);
        var counts = new Dictionary<string, int> { ["t"] = 2 };
        var r = g.Heartbeat(new GroupHeartbeatRequest { MemberEpoch = 0, SubscribedTopicNames = ["t"] }, counts, 0);
        Assert.Equal(2, r.Assignment.Length);
        counts["t"] = 4;
        r = g.Heartbeat(new GroupHeartbeatRequest { MemberId = r.MemberId, MemberEpoch = r.MemberEpoch, OwnedPartitions = r.Assignment }, counts, 1);
        Assert.Equal(4, r.Assignment.Length);
    }
}
