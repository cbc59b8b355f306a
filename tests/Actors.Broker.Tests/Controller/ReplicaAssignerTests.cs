using Actors.Broker.Controller;

namespace Actors.Broker.Tests.Controller;

public class ReplicaAssignerTests
{
    [Fact]
    public void Three_silos_rf3_six_partitions_spread_leaders_and_replicas_evenly()
    {
        var silos = new[] { "s2", "s0", "s1" };
        var a = ReplicaAssigner.Assign(silos, 6, 3, startIndex: 0, replicaShift: 0);
        Assert.Equal(6, a.Count);
        Assert.All(a, r => Assert.Equal(3, r.Distinct().Count()));
        Assert.Equal(new[] { "s0", "s1", "s2", "s0", "s1", "s2" }, a.Select(r => r[0]));
        Assert.All(silos, s => Assert.Equal(6, a.Count(r => r.Contains(s))));
    }

    [Fact]
    public void Randomized_assignments_never_repeat_a_silo_and_balance_leaders()
    {
        var seed = 20261121;
        Console.WriteLine($"seed={seed}");
        var rng = new Random(seed);
        for (var round = 0; round < 500; round++)
        {
            var n = rng.Next(1, 9);
            var silos = Enumerable.Range(0, n).Select(i => $"silo{i}").ToArray();
            var rf = rng.Next(1, n + 1);
            var partitions = rng.Next(1, 50);
            var firstId = rng.Next(0, 3) == 0 ? rng.Next(1, 20) : 0;
            var a = ReplicaAssigner.Assign(silos, partitions, rf, rng.Next(0, n), rng.Next(0, n), firstPartitionId: firstId);
            Assert.Equal(partitions, a.Count);
            Assert.All(a, r => Assert.Equal(rf, r.Distinct().Count()));
            var leaders = silos.Select(s => a.Count(r => r[0] == s)).ToArray();
            Assert.True(leaders.Max() - leaders.Min() <= 1, $"round {round}: leaders {string.Join(',', leaders)}");
            var replicas = silos.Select(s => a.Count(r => r.Contains(s))).ToArray();
            // Every full round of n partitions gives each silo exactly rf replicas; partial rounds at either end differ by at most rf each.
            var slack = firstId % n == 0 ? rf : 2 * rf;
            Assert.True(replicas.Max() - replicas.Min() <= slack, $"round {round}: replicas {string.Join(',', replicas)} rf={rf}");
        }
    }

    [Fact]
    public void Rf_larger_than_silos_is_refused()
    {
        var ex = Assert.Throws<BrokerException>(() => ReplicaAssigner.Assign(["a", "b"], 1, 3, 0, 0));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, ex.Code);
        Assert.Contains("Active silos (2)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.InvalidPartitions, Assert.Throws<BrokerException>(() => ReplicaAssigner.Assign(["a"], 0, 1, 0, 0)).Code);
    }

    [Fact]
    public void Least_loaded_start_index_picks_the_silo_leading_least()
    {
        var silos = new[] { "a", "b", "c" };
        Assert.Equal(2, ReplicaAssigner.LeastLoadedStartIndex(silos, new Dictionary<string, int> { ["a"] = 3, ["b"] = 2 , ["c"] = 1 }));
        Assert.Equal(1, ReplicaAssigner.LeastLoadedStartIndex(silos, new Dictionary<string, int> { ["a"] = 1 }));
        Assert.Equal(0, ReplicaAssigner.LeastLoadedStartIndex(silos, new Dictionary<string, int>()));
    }
}

public class PartitionStateMachineTests
{
    private static PartitionState State(string? leader, int leaderEpoch, string[] isr, int partitionEpoch = 5) => new()
    {
        Topic = "t",
        Partition = 0,
        Replicas = ["a", "b", "c"],
        Leader = leader,
        LeaderEpoch = leaderEpoch,
        Isr = isr,
        PartitionEpoch = partitionEpoch,
    };

    private static Func<string, bool> Live(params string[] live) => s => live.Contains(s);

    [Fact]
    public void Dead_leader_is_replaced_by_first_live_isr_member_with_epoch_bump()
    {
        var s = PartitionStateMachine.OnLivenessChanged(State("a", 3, ["a", "b", "c"]), Live("b", "c"));
        Assert.Equal("b", s.Leader);
        Assert.Equal(4, s.LeaderEpoch);
        Assert.Equal(6, s.PartitionEpoch);
        Assert.Equal(new[] { "b", "c" }, s.Isr);
    }

    [Fact]
    public void Dead_follower_leaves_isr_without_leader_epoch_bump()
    {
        var s = PartitionStateMachine.OnLivenessChanged(State("a", 3, ["a", "b", "c"]), Live("a", "b"));
        Assert.Equal("a", s.Leader);
        Assert.Equal(3, s.LeaderEpoch);
        Assert.Equal(6, s.PartitionEpoch);
        Assert.Equal(new[] { "a", "b" }, s.Isr);
    }

    [Fact]
    public void Nothing_changes_when_all_are_alive()
    {
        var before = State("a", 3, ["a", "b"]);
        Assert.Same(before, PartitionStateMachine.OnLivenessChanged(before, Live("a", "b", "c")));
    }

    [Fact]
    public void Out_of_sync_replica_never_leads_when_unclean_is_off()
    {
        // c is alive but not in the ISR; the only ISR member died.
        var s = PartitionStateMachine.OnLivenessChanged(State("a", 3, ["a"]), Live("b", "c"));
        Assert.Null(s.Leader);
        Assert.False(s.IsOnline);
        Assert.Equal(4, s.LeaderEpoch);
        Assert.Equal(new[] { "a" }, s.Isr);

        // When a returns, it leads again.
        var back = PartitionStateMachine.OnLivenessChanged(s, Live("a", "b", "c"));
        Assert.Equal("a", back.Leader);
        Assert.Equal(5, back.LeaderEpoch);
        Assert.Equal(new[] { "a" }, back.Isr);

        // An offline partition with nobody back stays as it is.
        Assert.Same(s, PartitionStateMachine.OnLivenessChanged(s, Live("c")));
    }

    [Fact]
    public void Unclean_election_takes_any_live_replica()
    {
        var s = PartitionStateMachine.OnLivenessChanged(State("a", 3, ["a"]), Live("c"), uncleanLeaderElection: true);
        Assert.Equal("c", s.Leader);
        Assert.Equal(new[] { "c" }, s.Isr);
    }

    [Fact]
    public void Preferred_leader_returns_only_when_alive_and_in_sync()
    {
        var s = State("b", 4, ["b", "c"]);
        Assert.Same(s, PartitionStateMachine.ElectPreferred(s, Live("a", "b", "c")));
        Assert.False(PartitionStateMachine.IsImbalanced(s, Live("a", "b", "c")));
        var synced = State("b", 4, ["a", "b", "c"]);
        Assert.True(PartitionStateMachine.IsImbalanced(synced, Live("a", "b", "c")));
        var moved = PartitionStateMachine.ElectPreferred(synced, Live("a", "b", "c"));
        Assert.Equal("a", moved.Leader);
        Assert.Equal(5, moved.LeaderEpoch);
        Assert.Same(synced, PartitionStateMachine.ElectPreferred(synced, Live("b", "c")));
    }

    [Fact]
    public void Controlled_shutdown_moves_leadership_and_leaves_isr()
    {
        var s = PartitionStateMachine.OnControlledShutdown(State("a", 3, ["a", "b", "c"]), "a", Live("a", "b", "c"));
        Assert.Equal("b", s.Leader);
        Assert.Equal(4, s.LeaderEpoch);
        Assert.Equal(new[] { "b", "c" }, s.Isr);

        var follower = PartitionStateMachine.OnControlledShutdown(State("a", 3, ["a", "b", "c"]), "c", Live("a", "b", "c"));
        Assert.Equal("a", follower.Leader);
        Assert.Equal(3, follower.LeaderEpoch);
        Assert.Equal(new[] { "a", "b" }, follower.Isr);

        var alone = State("a", 3, ["a"]);
        Assert.Same(alone, PartitionStateMachine.OnControlledShutdown(alone, "a", Live("a", "b", "c")));
    }

    [Fact]
    public void Alter_isr_is_fenced_by_leader_and_partition_epochs()
    {
        var s = State("a", 3, ["a", "b"], partitionEpoch: 7);
        var ok = PartitionStateMachine.AlterIsr(s, new AlterPartitionRequest { Leader = "a", LeaderEpoch = 3, PartitionEpoch = 7, NewIsr = ["c", "a", "b"] }, Live("a", "b", "c"));
        Assert.Equal(new[] { "a", "b", "c" }, ok.Isr);
        Assert.Equal(8, ok.PartitionEpoch);
        Assert.Equal(3, ok.LeaderEpoch);

        Assert.Equal(ErrorCode.FencedLeaderEpoch, Code(new() { Leader = "a", LeaderEpoch = 2, PartitionEpoch = 7, NewIsr = ["a"] }));
        Assert.Equal(ErrorCode.UnknownLeaderEpoch, Code(new() { Leader = "a", LeaderEpoch = 4, PartitionEpoch = 7, NewIsr = ["a"] }));
        Assert.Equal(ErrorCode.NotLeaderOrFollower, Code(new() { Leader = "b", LeaderEpoch = 3, PartitionEpoch = 7, NewIsr = ["b"] }));
        Assert.Equal(ErrorCode.InvalidUpdateVersion, Code(new() { Leader = "a", LeaderEpoch = 3, PartitionEpoch = 6, NewIsr = ["a"] }));
        Assert.Equal(ErrorCode.InvalidRequest, Code(new() { Leader = "a", LeaderEpoch = 3, PartitionEpoch = 7, NewIsr = ["b"] }));
        Assert.Equal(ErrorCode.InvalidRequest, Code(new() { Leader = "a", LeaderEpoch = 3, PartitionEpoch = 7, NewIsr = ["a", "z"] }));
        Assert.Equal(ErrorCode.IneligibleReplica, Code(new() { Leader = "a", LeaderEpoch = 3, PartitionEpoch = 7, NewIsr = ["a", "b", "c"] }, Live("a", "b")));

        ErrorCode Code(AlterPartitionRequest r, Func<string, bool>? live = null) =>
            Assert.Throws<BrokerException>(() => PartitionStateMachine.AlterIsr(s, r, live ?? Live("a", "b", "c"))).Code;
    }
}
