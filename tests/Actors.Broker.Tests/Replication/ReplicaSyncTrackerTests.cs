using Actors.Broker.Replication;

namespace Actors.Broker.Tests.Replication;

public class ReplicaSyncTrackerTests
{
    private const long Lag = 30_000;

    private static ReplicaSyncTracker New(long leo = 0, long hw = 0, string[]? isr = null, long now = 1_000) =>
        new("a", ["a", "b", "c"], isr ?? ["a", "b", "c"], leo, hw, leaderEpochStartOffset: leo, Lag, now);

    [Fact]
    public void High_watermark_is_min_leo_over_isr_and_never_decreases()
    {
        var t = New();
        Assert.False(t.OnLeaderAppend(10));
        Assert.Equal(0, t.HighWatermark);
        Assert.False(t.OnFollowerFetch("b", 10, 1_100));
        Assert.Equal(0, t.HighWatermark);
        Assert.True(t.OnFollowerFetch("c", 7, 1_100));
        Assert.Equal(7, t.HighWatermark);
        Assert.True(t.IsReplicatedTo(7));
        Assert.False(t.IsReplicatedTo(8));
        Assert.True(t.OnFollowerFetch("c", 10, 1_200));
        Assert.Equal(10, t.HighWatermark);

        // Shrinking the ISR to the leader alone moves the HW to the leader's LEO after more appends.
        t.OnLeaderAppend(15);
        Assert.True(t.SetIsr(["a"]));
        Assert.Equal(15, t.HighWatermark);

        // A lagging follower that is added back does not move the HW backwards.
        t.OnFollowerFetch("b", 12, 1_300);
        t.SetIsr(["a", "b"]);
        Assert.Equal(15, t.HighWatermark);
    }

    [Fact]
    public void Follower_that_stops_fetching_is_a_shrink_candidate_after_the_lag_time()
    {
        var t = New(now: 0);
        t.OnLeaderAppend(100);
        t.OnFollowerFetch("b", 100, 1_000);
        t.OnFollowerFetch("c", 100, 1_000);
        t.OnLeaderAppend(200);
        t.OnFollowerFetch("b", 200, 20_000);
        Assert.Empty(t.ShrinkCandidates(30_000));
        Assert.Empty(t.ShrinkCandidates(31_000));
        Assert.Equal(new[] { "c" }, t.ShrinkCandidates(31_001));

        // A follower exactly at the leader's LEO is never lagging.
        Assert.DoesNotContain("b", t.ShrinkCandidates(1_000_000));
    }

    [Fact]
    public void Follower_fetching_slower_than_appends_is_caught_up_as_of_its_previous_fetch()
    {
        var t = New(now: 0);
        t.OnLeaderAppend(100);
        t.OnFollowerFetch("b", 50, 10_000);   // not caught up
        t.OnLeaderAppend(150);
        t.OnFollowerFetch("b", 100, 20_000);  // reached the leader LEO of its previous fetch: caught up as of 10_000
        t.OnFollowerFetch("c", 150, 20_000);
        Assert.Empty(t.ShrinkCandidates(40_000));
        Assert.Equal(new[] { "b" }, t.ShrinkCandidates(40_001));
    }

    [Fact]
    public void Out_of_sync_follower_that_reaches_hw_and_epoch_start_is_an_expand_candidate()
    {
        var t = new ReplicaSyncTracker("a", ["a", "b", "c"], ["a", "b"], 50, 50, leaderEpochStartOffset: 50, Lag, 0);
        t.OnFollowerFetch("b", 50, 100);
        t.OnLeaderAppend(80);
        t.OnFollowerFetch("b", 80, 200);
        Assert.Equal(80, t.HighWatermark);
        t.OnFollowerFetch("c", 60, 300);
        Assert.Empty(t.ExpandCandidates());
        t.OnFollowerFetch("c", 80, 400);
        Assert.Equal(new[] { "c" }, t.ExpandCandidates());
        t.SetIsr(["a", "b", "c"]);
        Assert.Empty(t.ExpandCandidates());
    }

    [Fact]
    public void Unknown_replicas_are_ignored_and_hw_starts_at_most_at_leo()
    {
        var t = new ReplicaSyncTracker("a", ["a", "b"], ["a", "b"], 5, 9, 5, Lag, 0);
        Assert.Equal(5, t.HighWatermark);
        Assert.False(t.OnFollowerFetch("z", 100, 1));
        Assert.Equal(new[] { "b" }, t.FollowerLogEndOffsets.Keys);
    }
}
