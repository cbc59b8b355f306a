namespace Actors.Chaos.Tests;

/// <summary>The history checker over hand-written histories: a clean one passes, and each kind of damage is found.</summary>
public sealed class HistoryCheckerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
    private int tick;

    [Fact]
    public void A_clean_history_has_no_damage()
    {
        var result = HistoryChecker.Check(Clean());

        Assert.Empty(result.Damages);
        Assert.Equal(3, result.Acked);
    }

    [Fact]
    public void An_acknowledged_record_that_no_poll_read_is_lost()
    {
        var history = Clean().Where(e => !(e.Kind == HistoryKind.Poll && e.Offset == 1)).ToList();
        // Polls 0 then 2 are still monotonic; offset 1 is just missing.
        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.Lost, damage.Kind);
        Assert.Contains("'p1-1'", damage.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledgement_without_an_offset_asks_for_the_value_anywhere_in_its_partition()
    {
        // The client acknowledges records implicitly, with offset -1001 (unset), when a request with an uncertain
        // outcome is followed by a successful one: the records were written, at offsets it does not know.
        var implicitAck = Clean().Select(e => e.Kind == HistoryKind.Ack && e.Offset == 1 ? e with { Offset = -1001 } : e).ToList();
        var neverRead = implicitAck.Where(e => !(e.Kind == HistoryKind.Poll && e.Offset == 1)).ToList();

        Assert.Empty(HistoryChecker.Check(implicitAck).Damages);
        var damage = Assert.Single(HistoryChecker.Check(neverRead).Damages);
        Assert.Equal(DamageKind.Lost, damage.Kind);
        Assert.Contains("'p1-1'", damage.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledged_offset_read_with_another_value_is_lost()
    {
        var history = Clean().Select(e => e.Kind == HistoryKind.Poll && e.Offset == 2 ? e with { Value = "p2-0" } : e).ToList();
        history.Insert(0, Event(HistoryKind.Send, 0, producer: "p2", value: "p2-0"));

        var result = HistoryChecker.Check(history);

        Assert.Equal(1, result.Count(DamageKind.Lost));
        Assert.Contains(result.Damages, d => d.Kind == DamageKind.Lost && d.Detail.Contains("'p1-2'", StringComparison.Ordinal));
    }

    [Fact]
    public void One_offset_read_with_two_values_is_divergent()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Send, 0, producer: "p2", value: "p2-0"));
        history.Add(Event(HistoryKind.Poll, 0, offset: 1, consumer: "c2", value: "p2-0"));

        var result = HistoryChecker.Check(history);

        Assert.Equal(1, result.Count(DamageKind.Divergent));
    }

    [Fact]
    public void A_record_read_at_two_offsets_is_duplicated()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Poll, 0, offset: 3, consumer: "c1", value: "p1-2"));

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.Duplicated, damage.Kind);
        Assert.Contains("offsets 2 and 3", damage.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_of_one_producer_read_out_of_send_order_are_reordered()
    {
        // p1 sent p1-1 before p1-2, but the log holds p1-2 at offset 1 and p1-1 at offset 2 (acknowledged and read so).
        string? Swap(string? value) => value switch { "p1-1" => "p1-2", "p1-2" => "p1-1", _ => value };
        var history = Clean().Select(e => e.Kind is HistoryKind.Poll or HistoryKind.Ack ? e with { Value = Swap(e.Value) } : e).ToList();

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.Reordered, damage.Kind);
    }

    [Fact]
    public void A_poll_that_goes_back_is_non_monotonic()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Poll, 0, offset: 1, consumer: "c1", value: "p1-1"));

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.NonMonotonicPoll, damage.Kind);
    }

    [Fact]
    public void A_commit_above_the_high_watermark_read_is_found()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Commit, 0, offset: 4, consumer: "c1"));

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.CommitAboveHighWatermark, damage.Kind);
    }

    [Fact]
    public void A_commit_below_an_accepted_commit_is_a_regression()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Commit, 0, offset: 2, consumer: "c1"));

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.CommitRegression, damage.Kind);
    }

    [Fact]
    public void A_committed_offset_reported_below_an_accepted_commit_is_a_regression()
    {
        var history = Clean();
        history.Add(Event(HistoryKind.Committed, 0, offset: 3, consumer: "c1"));
        history.Add(Event(HistoryKind.Committed, 0, offset: 1, consumer: "c1"));

        var result = HistoryChecker.Check(history);

        var damage = Assert.Single(result.Damages);
        Assert.Equal(DamageKind.CommitRegression, damage.Kind);
        Assert.Contains("reported offset 1", damage.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leader_epoch_that_goes_back_or_has_two_leaders_is_an_epoch_regression()
    {
        var history = Clean();
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo0", LeaderEpoch: 3));
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo1", LeaderEpoch: 4));
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo0", LeaderEpoch: 3));
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo2", LeaderEpoch: 4));

        var result = HistoryChecker.Check(history);

        Assert.Equal(2, result.Count(DamageKind.EpochRegression));
        Assert.Contains(result.Damages, d => d.Detail.Contains("two leaders", StringComparison.Ordinal));
    }

    [Fact]
    public void Rising_leader_epochs_and_commits_are_clean()
    {
        var history = Clean();
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo0", LeaderEpoch: 3));
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: null, LeaderEpoch: 3));
        history.Add(new HistoryEvent(T0, HistoryKind.State, 0, Leader: "silo1", LeaderEpoch: 4));
        history.Add(Event(HistoryKind.Committed, 0, offset: 3, consumer: "c1"));

        Assert.Empty(HistoryChecker.Check(history).Damages);
    }

    [Fact]
    public void A_history_survives_the_file_round_trip()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chaos-history-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var recorder = new HistoryRecorder(path))
            {
                recorder.Send("p1", 4, "k", "p1-0");
                recorder.Ack("p1", 4, 17, "k", "p1-0");
                recorder.Fail("p1", 4, "k", "p1-1", "Local_MsgTimedOut");
                recorder.Poll("c1", 4, 17, "k", "p1-0");
                recorder.Commit("c1", 4, 18);
            }

            var read = HistoryRecorder.Read(path);

            Assert.Equal(new[] { HistoryKind.Send, HistoryKind.Ack, HistoryKind.Fail, HistoryKind.Poll, HistoryKind.Commit }, read.Select(e => e.Kind));
            Assert.Equal(17, read[1].Offset);
            Assert.Equal("Local_MsgTimedOut", read[2].Error);
            Assert.Equal(18, read[4].Offset);
            Assert.Empty(HistoryChecker.Check(read).Damages);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>p1 sends three records to partition 0, all acknowledged at offsets 0..2, read back in order by c1, which commits 3.</summary>
    private List<HistoryEvent> Clean()
    {
        var history = new List<HistoryEvent>();
        for (var i = 0; i < 3; i++)
        {
            history.Add(Event(HistoryKind.Send, 0, producer: "p1", value: $"p1-{i}"));
        }

        for (var i = 0; i < 3; i++)
        {
            history.Add(Event(HistoryKind.Ack, 0, offset: i, producer: "p1", value: $"p1-{i}"));
        }

        for (var i = 0; i < 3; i++)
        {
            history.Add(Event(HistoryKind.Poll, 0, offset: i, consumer: "c1", value: $"p1-{i}"));
        }

        history.Add(Event(HistoryKind.Commit, 0, offset: 3, consumer: "c1"));
        return history;
    }

    private HistoryEvent Event(string kind, int partition, long offset = -1, string? producer = null, string? consumer = null, string? value = null) =>
        new(T0.AddMilliseconds(tick++), kind, partition, offset, producer, consumer, Key: "k", Value: value);
}
