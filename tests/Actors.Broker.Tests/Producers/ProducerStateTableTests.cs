using Actors.Broker.Logs;
using Actors.Broker.Producers;

namespace Actors.Broker.Tests.Producers;

public class ProducerStateTableTests
{
    private static void Append(ProducerStateTable t, long pid, short epoch, int firstSeq, int count, long firstOffset)
    {
        var last = ProducerStateTable.LastSequenceOf(firstSeq, count);
        Assert.Equal(ProducerCheckOutcome.Append, t.Check(pid, epoch, firstSeq, last).Outcome);
        t.OnAppended(pid, epoch, firstSeq, last, firstOffset, firstOffset + count - 1, 0, 0);
    }

    [Fact]
    public void In_sequence_batches_append_and_a_retry_is_a_duplicate_with_the_original_offset()
    {
        var t = new ProducerStateTable();
        Append(t, 7, 0, 0, 10, 100);
        Append(t, 7, 0, 10, 5, 110);
        var dup = t.Check(7, 0, 0, 9);
        Assert.Equal(ProducerCheckOutcome.Duplicate, dup.Outcome);
        Assert.Equal(100, dup.Original.FirstOffset);
        Assert.Equal(109, dup.Original.LastOffset);
        Assert.Equal(110, t.Check(7, 0, 10, 14).Original.FirstOffset);
    }

    [Fact]
    public void A_gap_is_out_of_order_sequence()
    {
        var t = new ProducerStateTable();
        Append(t, 7, 0, 0, 10, 0);
        var gap = t.Check(7, 0, 11, 12);
        Assert.Equal(ProducerCheckOutcome.Reject, gap.Outcome);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Contains("expected 10", gap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_ahead_of_the_next_sequence_is_a_gap_and_one_behind_the_remembered_batches_is_not()
    {
        var t = new ProducerStateTable();
        for (var i = 0; i < 10; i++)
        {
            Append(t, 7, 0, i * 2, 2, i * 2);
        }

        // Next is 20: 22 may have overtaken 20-21 on its way; 4-5 is older than the five remembered batches (10-19).
        var ahead = t.Check(7, 0, 22, 23);
        var behind = t.Check(7, 0, 4, 5);
        Assert.Equal((ErrorCode.OutOfOrderSequenceNumber, true), (ahead.Error, ahead.Gap));
        Assert.Equal((ErrorCode.OutOfOrderSequenceNumber, false), (behind.Error, behind.Gap));

        // A new epoch that does not start at 0 may have overtaken the epoch's first batch.
        Assert.True(t.Check(7, 1, 3, 3).Gap);
        Assert.False(t.Check(7, 1, 0, 0).Gap);

        // Across the wrap: after int.MaxValue comes 0, so 1 is ahead.
        var wrapped = new ProducerStateTable();
        Append(wrapped, 8, 0, int.MaxValue - 1, 2, 0);
        Assert.True(wrapped.Check(8, 0, 1, 1).Gap);
        Assert.False(wrapped.Check(8, 0, int.MaxValue - 5, int.MaxValue - 5).Gap);
    }

    [Fact]
    public void Only_the_last_five_batches_are_remembered()
    {
        var t = new ProducerStateTable();
        for (var i = 0; i < 7; i++)
        {
            Append(t, 1, 0, i, 1, i);
        }

        Assert.Equal(5, t.BatchesOf(1).Count);
        Assert.Equal(ProducerCheckOutcome.Duplicate, t.Check(1, 0, 2, 2).Outcome);
        // A retry of a batch older than the last five cannot be recognised: it is out of order.
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, t.Check(1, 0, 1, 1).Error);
    }

    [Fact]
    public void Old_epoch_is_fenced_and_new_epoch_must_start_at_zero()
    {
        var t = new ProducerStateTable();
        Append(t, 3, 2, 0, 4, 0);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, t.Check(3, 1, 4, 4).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, t.Check(3, 3, 4, 4).Error);
        Append(t, 3, 3, 0, 1, 4);
        Assert.Equal((short)3, t.EpochOf(3));
        Assert.Single(t.BatchesOf(3));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, t.Check(3, 2, 4, 4).Error);
    }

    [Fact]
    public void Unknown_producers_and_non_idempotent_batches_are_accepted()
    {
        var t = new ProducerStateTable();
        Assert.Equal(ProducerCheckOutcome.Append, t.Check(-1, -1, -1, -1).Outcome);
        Assert.Equal(ProducerCheckOutcome.Append, t.Check(9, 0, 42, 50).Outcome);
        t.OnAppended(-1, -1, -1, -1, 0, 0, 0, 0);
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Sequences_wrap_after_int_max()
    {
        Assert.Equal(1, ProducerStateTable.LastSequenceOf(int.MaxValue, 3));
        var t = new ProducerStateTable();
        t.OnAppended(5, 0, int.MaxValue - 1, int.MaxValue, 0, 1, 0, 0);
        Assert.Equal(ProducerCheckOutcome.Append, t.Check(5, 0, 0, 3).Outcome);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, t.Check(5, 0, 1, 3).Error);
    }

    [Fact]
    public void State_rebuilt_from_the_log_gives_the_same_answers()
    {
        var seed = 4242;
        Console.WriteLine($"seed={seed}");
        var rng = new Random(seed);
        var live = new ProducerStateTable();
        var log = new List<(long Pid, short Epoch, int First, int Last, long FirstOffset, long LastOffset)>();
        var next = new Dictionary<long, int>();
        long offset = 0;
        for (var i = 0; i < 400; i++)
        {
            var pid = (long)rng.Next(1, 6);
            var count = rng.Next(1, 5);
            var first = next.GetValueOrDefault(pid);
            var last = ProducerStateTable.LastSequenceOf(first, count);
            Assert.Equal(ProducerCheckOutcome.Append, live.Check(pid, 0, first, last).Outcome);
            live.OnAppended(pid, 0, first, last, offset, offset + count - 1, 0, 0);
            log.Add((pid, 0, first, last, offset, offset + count - 1));
            next[pid] = last + 1;
            offset += count;
        }

        var rebuilt = new ProducerStateTable();
        foreach (var b in log)
        {
            rebuilt.OnAppended(b.Pid, b.Epoch, b.First, b.Last, b.FirstOffset, b.LastOffset, 0, 0);
        }

        for (long pid = 1; pid <= 5; pid++)
        {
            Assert.Equal(live.BatchesOf(pid), rebuilt.BatchesOf(pid));
        }

        foreach (var b in log.TakeLast(3))
        {
            Assert.Equal(b.FirstOffset, rebuilt.Check(b.Pid, 0, b.First, b.Last).Original.FirstOffset);
        }
    }

    [Fact]
    public void Silent_producers_expire()
    {
        var t = new ProducerStateTable();
        t.OnAppended(1, 0, 0, 0, 0, 0, 0, nowMs: 1_000);
        t.OnAppended(2, 0, 0, 0, 1, 1, 0, nowMs: 5_000);
        Assert.Equal(1, t.RemoveExpired(nowMs: 7_000, expirationMs: 3_000));
        Assert.Null(t.EpochOf(1));
        Assert.Equal((short)0, t.EpochOf(2));
    }

    private static BatchHeader Header(long pid, short epoch, int firstSeq, int count) =>
        new(0, count - 1, pid, epoch, firstSeq, ProducerStateTable.LastSequenceOf(firstSeq, count), 0, -1, 0);

    [Fact]
    public void A_request_is_checked_batch_by_batch_against_a_running_expected_sequence()
    {
        var t = new ProducerStateTable();
        Append(t, 7, 0, 0, 2, 0);

        // Sequences 2-3 then 4-6 of producer 7 (known at 1), with another producer's batch between them.
        Assert.Equal(ProducerCheckOutcome.Append, t.CheckRequest([Header(7, 0, 2, 2), Header(8, 0, 0, 1), Header(7, 0, 4, 3)], out var index).Outcome);
        Assert.Equal(-1, index);

        // A gap inside the request is named at its batch; so is a fall back to an older epoch.
        var gap = t.CheckRequest([Header(7, 0, 2, 2), Header(7, 0, 5, 1)], out index);
        Assert.Equal((ErrorCode.OutOfOrderSequenceNumber, 1), (gap.Error, index));
        var fenced = t.CheckRequest([Header(7, 1, 0, 1), Header(7, 0, 1, 1)], out index);
        Assert.Equal((ErrorCode.InvalidProducerEpoch, 1), (fenced.Error, index));

        // A new epoch inside the request starts at 0; a retry of a remembered batch is still reported as one.
        Assert.Equal(ProducerCheckOutcome.Append, t.CheckRequest([Header(7, 0, 2, 1), Header(7, 1, 0, 1)], out _).Outcome);
        var dup = t.CheckRequest([Header(7, 0, 0, 2)], out index);
        Assert.Equal((ProducerCheckOutcome.Duplicate, 0, 0L), (dup.Outcome, index, dup.Original.FirstOffset));
    }
}
