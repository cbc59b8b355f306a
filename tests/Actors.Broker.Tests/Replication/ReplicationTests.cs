using Actors.Broker.Tests.Support;
using Actors.Testing;

namespace Actors.Broker.Tests.Replication;

[Collection(Actors.Broker.Tests.Cluster.BrokerClusterCollection.Name)]
public class ReplicationTests
{
    private static ProduceRequest Produce(byte[] records, short acks = -1, int timeoutMs = 10_000) =>
        new() { Records = records, Acks = acks, TimeoutMs = timeoutMs };

    private static async Task<List<(long Offset, string Value)>> ConsumeAllAsync(ReplicationHarness h, long from = 0)
    {
        var all = new List<(long, string)>();
        var offset = from;
        while (true)
        {
            var r = await h.Leader!.FetchAsync(new FetchRequest { FetchOffset = offset, MaxWaitMs = 0 });
            Assert.Equal(ErrorCode.None, r.Error);
            var got = Batches.Read(r.Records.Span, offset);
            if (got.Count == 0)
            {
                return all;
            }

            all.AddRange(got);
            offset = got[^1].Offset + 1;
        }
    }

    /// <summary>Runs the leader's ISR check until the stopped follower s3 has been dropped for lagging.</summary>
    private static Task S3LeavesTheIsrAsync(ReplicationHarness h) => Wait.UntilAsync(
        () =>
        {
            h.Leader!.MaybeShrinkIsrAsync().GetAwaiter().GetResult();
            return h.State.Isr.Length == 2;
        },
        TimeSpan.FromSeconds(20),
        "s3 to leave the ISR after replica.lag.time.max.ms",
        () => h.State.ToString());

    [Fact]
    public async Task Rf3_acks_all_round_trip_replicates_byte_identical_logs()
    {
        await using var h = new ReplicationHarness(minInsync: 2);
        await h.StartRolesAsync();
        for (var i = 0; i < 50; i++)
        {
            var r = await h.Leader!.ProduceAsync(Produce(Batches.Values(i * 4, 4)));
            Assert.Equal(ErrorCode.None, r.Error);
            Assert.Equal(i * 4, r.BaseOffset);
            Assert.True(h.Leader.HighWatermark >= (i * 4) + 4, "acks=all answered before the high watermark covered the batch");
        }

        var consumed = await ConsumeAllAsync(h);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => ((long)i, $"v{i}")), consumed);
        await Wait.UntilAsync(() => h.Silos.All(s => h.Local(s).LogEndOffset == 200), TimeSpan.FromSeconds(20), "every replica at offset 200",
            () => string.Join(',', h.Silos.Select(s => $"{s}={h.Local(s).LogEndOffset}")));
        Assert.Equal(h.LogBytes("s1"), h.LogBytes("s2"));
        Assert.Equal(h.LogBytes("s1"), h.LogBytes("s3"));

        var status = h.Leader!.GetStatus();
        Assert.Equal(200, status.HighWatermark);
        Assert.Equal(ErrorCode.None, status.Error);
    }

    [Fact]
    public async Task Acks_1_answers_after_the_local_append_and_acks_all_waits_for_the_isr()
    {
        await using var h = new ReplicationHarness();
        await h.StartRolesAsync();
        await h.StopFetchersAsync();

        var one = await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 3), acks: 1));
        Assert.Equal(ErrorCode.None, one.Error);
        Assert.Equal(0, one.BaseOffset);
        Assert.Equal(0, h.Leader.HighWatermark);

        var zero = await h.Leader.ProduceAsync(Produce(Batches.Values(3, 1), acks: 0));
        Assert.Equal(ErrorCode.None, zero.Error);

        // Followers do not fetch: acks=all cannot complete and times out.
        var timedOut = await h.Leader.ProduceAsync(Produce(Batches.Values(4, 1), timeoutMs: 200));
        Assert.Equal(ErrorCode.RequestTimedOut, timedOut.Error);

        // Once followers fetch, a new acks=all produce completes, and consumers see everything below the HW.
        h.StartFetcher("s2");
        h.StartFetcher("s3");
        var all = await h.Leader.ProduceAsync(Produce(Batches.Values(5, 1)));
        Assert.Equal(ErrorCode.None, all.Error);
        Assert.Equal(6, h.Leader.HighWatermark);
        Assert.Equal(6, (await ConsumeAllAsync(h)).Count);

        var bad = await h.Leader.ProduceAsync(new ProduceRequest { Records = Batches.Values(6, 1), Acks = 2 });
        Assert.Equal(ErrorCode.InvalidRequiredAcks, bad.Error);
    }

    [Fact]
    public async Task Consumer_fetch_long_polls_until_data_arrives_and_stays_below_the_high_watermark()
    {
        await using var h = new ReplicationHarness();
        await h.StartRolesAsync();
        var poll = h.Leader!.FetchAsync(new FetchRequest { FetchOffset = 0, MaxWaitMs = 10_000, MinBytes = 1 });
        await Task.Yield();
        Assert.False(poll.IsCompleted);
        await h.Leader.ProduceAsync(Produce(Batches.Values(0, 2)));
        var got = await poll;
        Assert.Equal(ErrorCode.None, got.Error);
        Assert.Equal(new[] { "v0", "v1" }, Batches.Read(got.Records.Span).Select(r => r.Value));

        // Records above the high watermark are not served.
        await h.StopFetchersAsync();
        await h.Leader.ProduceAsync(Produce(Batches.Values(2, 1), acks: 1));
        var below = await h.Leader.FetchAsync(new FetchRequest { FetchOffset = 2, MaxWaitMs = 0 });
        Assert.True(below.Records.IsEmpty);
        Assert.Equal(2, below.HighWatermark);

        var outOfRange = await h.Leader.FetchAsync(new FetchRequest { FetchOffset = 99, MaxWaitMs = 0 });
        Assert.Equal(ErrorCode.OffsetOutOfRange, outOfRange.Error);

        var fenced = await h.Leader.FetchAsync(new FetchRequest { FetchOffset = 0, CurrentLeaderEpoch = h.State.LeaderEpoch + 1 });
        Assert.Equal(ErrorCode.UnknownLeaderEpoch, fenced.Error);
    }

    [Fact]
    public async Task Isr_shrinks_after_the_lag_time_gives_not_enough_replicas_and_expands_when_caught_up()
    {
        await using var h = new ReplicationHarness(minInsync: 3, lagTimeMaxMs: 300);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 1)))).Error);

        await h.StopFetcherAsync("s3");
        Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(Batches.Values(1, 1), acks: 1))).Error);
        await S3LeavesTheIsrAsync(h);
        Assert.Equal(new[] { "s1", "s2" }, h.State.Isr);

        var refused = await h.Leader.ProduceAsync(Produce(Batches.Values(2, 1)));
        Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error);
        Assert.Contains("min.insync.replicas=3", refused.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(2, h.Local("s1").LogEndOffset);

        h.StartFetcher("s3");
        await Wait.UntilAsync(() => h.State.Isr.Length == 3, TimeSpan.FromSeconds(20), "s3 to rejoin the ISR once caught up", () => h.State.ToString());
        Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(Batches.Values(2, 1)))).Error);
    }

    [Fact]
    public async Task An_isr_change_the_controller_never_answers_is_given_up_and_retried_so_acks_all_does_not_freeze()
    {
        await using var h = new ReplicationHarness(minInsync: 2, lagTimeMaxMs: 300);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 1)))).Error);

        // The controller never answers the first ISR change (as when it is unreachable until the response timeout).
        var unanswered = new TaskCompletionSource();
        var calls = 0;
        h.BeforeAlter = _ => Interlocked.Increment(ref calls) == 1 ? unanswered.Task : Task.CompletedTask;

        // s3 stops; the next acks=all batch waits for it until the ISR shrinks.
        await h.StopFetcherAsync("s3");
        var waiting = h.Leader.ProduceAsync(Produce(Batches.Values(1, 1), timeoutMs: 60_000));
        await Wait.UntilAsync(
            () =>
            {
                _ = h.Leader!.MaybeShrinkIsrAsync();
                return h.State.Isr.Length == 2;
            },
            TimeSpan.FromSeconds(20),
            "s3 to leave the ISR although the first ISR change got no answer",
            () => $"{h.State} after {Volatile.Read(ref calls)} ISR change(s)");

        var answer = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCode.None, answer.Error);
        Assert.True(Volatile.Read(ref calls) >= 2, $"the shrink was retried: {calls} ISR change(s) sent");
        Assert.Equal(2, h.Leader.HighWatermark);
    }

    [Fact]
    public async Task Stopping_a_follower_does_not_wait_for_a_fetch_its_leader_never_answers()
    {
        await using var h = new ReplicationHarness(minInsync: 2);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 1)))).Error);

        // s2's next fetch never gets an answer (a leader on a silo going down); then s2 is told to stop following.
        var unanswered = new TaskCompletionSource();
        var held = new TaskCompletionSource();
        h.BeforeFetch = follower =>
        {
            if (follower != "s2")
            {
                return Task.CompletedTask;
            }

            held.TrySetResult();
            return unanswered.Task;
        };
        try
        {
            await Wait.UntilAsync(() => held.Task.IsCompleted, TimeSpan.FromSeconds(20), "s2 to send a fetch the leader does not answer");
            var stop = h.StopFetcherAsync("s2");
            await Wait.UntilAsync(() => stop.IsCompleted, TimeSpan.FromSeconds(20), "s2's fetch loop to stop although its fetch got no answer");
            await stop;
        }
        finally
        {
            unanswered.TrySetCanceled();
        }

        // A new loop follows again: acks=all completes with s2 fetching.
        h.BeforeFetch = null;
        h.StartFetcher("s2");
        Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(Batches.Values(1, 1)))).Error);
    }

    [Fact]
    public async Task Acks_all_written_before_the_isr_shrank_below_min_insync_is_answered_not_enough_replicas_after_append()
    {
        await using var h = new ReplicationHarness(minInsync: 3, lagTimeMaxMs: 300);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 1)))).Error);

        // s3 stops; with all three still in the ISR the next acks=all batch is appended and waits for s3.
        await h.StopFetcherAsync("s3");
        var waiting = h.Leader.ProduceAsync(Produce(Batches.Values(1, 1), timeoutMs: 30_000));
        await Wait.UntilAsync(() => h.Local("s1").LogEndOffset == 2, TimeSpan.FromSeconds(20), "the acks=all batch to be appended on the leader", () => $"{h.Local("s1").LogEndOffset}");
        await S3LeavesTheIsrAsync(h);

        var answer = await waiting;
        Assert.Equal(ErrorCode.NotEnoughReplicasAfterAppend, answer.Error);
        Assert.Contains("min.insync.replicas=3", answer.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(2, h.Leader.HighWatermark);
    }

    [Fact]
    public async Task Consumer_fetch_waits_for_fetch_min_bytes_or_fetch_max_wait()
    {
        await using var h = new ReplicationHarness();
        await h.StartRolesAsync();
        var one = Batches.Values(0, 1);

        // fetch.min.bytes larger than one batch: the fetch is still waiting after the first batch is committed.
        var fetch = h.Leader!.FetchAsync(new FetchRequest { FetchOffset = 0, MinBytes = one.Length * 3, MaxWaitMs = 30_000 });
        Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(one))).Error);
        await Wait.UntilAsync(() => h.Leader.HighWatermark == 1, TimeSpan.FromSeconds(20), "the first batch to be committed", () => $"{h.Leader.HighWatermark}");
        Assert.False(fetch.IsCompleted, "the fetch answered with less than fetch.min.bytes before fetch.max.wait.ms");
        for (var i = 1; i < 4; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(Batches.Values(i, 1)))).Error);
        }

        var full = await fetch;
        Assert.Equal(ErrorCode.None, full.Error);
        Assert.True(full.Records.Length >= one.Length * 3, $"answered {full.Records.Length} bytes, fewer than fetch.min.bytes {one.Length * 3}");

        // Not enough bytes ever come: fetch.max.wait.ms answers with what there is.
        var partial = await h.Leader.FetchAsync(new FetchRequest { FetchOffset = 3, MinBytes = 1 << 20, MaxWaitMs = 200 });
        Assert.Equal(ErrorCode.None, partial.Error);
        Assert.Equal(new[] { (3L, "v3") }, Batches.Read(partial.Records.Span, 3));
    }

    [Fact]
    public async Task Failover_keeps_acknowledged_records_and_the_old_leader_truncates_its_divergent_tail()
    {
        await using var h = new ReplicationHarness();
        await h.StartRolesAsync();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(i, 1)))).Error);
        }

        // The followers stop fetching; the leader takes acks=1 writes nobody else has.
        await h.StopFetchersAsync();
        for (var i = 10; i < 15; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(i, 1), acks: 1))).Error);
        }

        Assert.Equal(15, h.Local("s1").LogEndOffset);
        await h.KillAsync("s1");
        Assert.Equal("s2", h.State.Leader);
        Assert.Equal(1, h.State.LeaderEpoch);

        for (var i = 100; i < 103; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(i, 1)))).Error);
        }

        // The old leader returns, truncates offsets 10..14 (written in epoch 0 after the last common point) and catches up.
        await h.RestartAsync("s1");
        await Wait.UntilAsync(() => h.Local("s1").LogEndOffset == 13 && h.State.Isr.Length == 3, TimeSpan.FromSeconds(20), "s1 to catch up to 13 and rejoin the ISR",
            () => $"s1 LEO={h.Local("s1").LogEndOffset} state={h.State}");
        var values = Batches.Read(h.LogBytes("s1")).Select(r => r.Value).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}").Concat(["v100", "v101", "v102"]), values);
        Assert.Equal(h.LogBytes("s2"), h.LogBytes("s1"));
        Assert.Equal(h.LogBytes("s2"), h.LogBytes("s3"));
        var segments = Directory.GetFiles(h.Local("s2").Log.Directory, "*.log").Select(Path.GetFileName).Order().ToArray();
        foreach (var silo in new[] { "s1", "s3" })
        {
            var dir = h.Local(silo).Log.Directory;
            Assert.Equal(segments, Directory.GetFiles(dir, "*.log").Select(Path.GetFileName).Order().ToArray());
            foreach (var seg in segments)
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(h.Local("s2").Log.Directory, seg!)), File.ReadAllBytes(Path.Combine(dir, seg!)));
            }
        }
    }

    [Fact]
    public async Task A_follower_whose_log_ends_below_the_leaders_log_start_restarts_there_and_rejoins_the_isr()
    {
        await using var h = new ReplicationHarness(
            lagTimeMaxMs: 300,
            topicConfig: new() { ["segment.bytes"] = "512", ["retention.bytes"] = "1024" });
        await h.StartRolesAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(i, 1)))).Error);
        }

        // s3 stops fetching; the leader and s2 move on and retention drops everything s3 would fetch next.
        await h.StopFetcherAsync("s3");
        for (var i = 5; i < 60; i++)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(Batches.Values(i, 1), acks: 1))).Error);
        }

        await S3LeavesTheIsrAsync(h);

        Assert.True(h.Local("s1").Log.DeleteExpiredSegments() > 0, "the leader's retention deleted nothing");
        var leaderStart = h.Local("s1").LogStartOffset;
        Assert.True(leaderStart > h.Local("s3").LogEndOffset, $"leader log start {leaderStart} is not past s3's end {h.Local("s3").LogEndOffset}");

        // s3 comes back: its fetch is out of range below the leader's start, so it restarts empty there and catches up.
        h.StartFetcher("s3");
        await Wait.UntilAsync(
            () => h.Local("s3").LogEndOffset == 60 && h.State.Isr.Length == 3,
            TimeSpan.FromSeconds(20),
            "s3 to restart at the leader's log start, reach offset 60 and rejoin the ISR",
            () => $"s3 start={h.Local("s3").LogStartOffset} end={h.Local("s3").LogEndOffset} state={h.State}");
        Assert.Equal(leaderStart, h.Local("s3").LogStartOffset);
        var expected = Batches.Read(h.LogBytes("s1"), leaderStart);
        Assert.Equal(expected, Batches.Read(h.LogBytes("s3"), leaderStart));
        Assert.Equal(Enumerable.Range((int)leaderStart, 60 - (int)leaderStart).Select(i => $"v{i}"), expected.Select(r => r.Value));
    }

    [Fact]
    public async Task Idempotent_retry_after_failover_is_answered_with_the_original_offset()
    {
        await using var h = new ReplicationHarness(minInsync: 2);
        await h.StartRolesAsync();
        const long pid = 42;
        var first = await h.Leader!.ProduceAsync(Produce(Batches.Values(0, 3, pid, 0, 0)));
        Assert.Equal(0, first.BaseOffset);
        var second = await h.Leader.ProduceAsync(Produce(Batches.Values(3, 2, pid, 0, 3)));
        Assert.Equal(3, second.BaseOffset);

        var retry = await h.Leader.ProduceAsync(Produce(Batches.Values(3, 2, pid, 0, 3)));
        Assert.Equal(ErrorCode.None, retry.Error);
        Assert.Equal(3, retry.BaseOffset);
        Assert.Equal(5, h.Local("s1").LogEndOffset);

        // A gap is refused once the request's timeout passes without the missing batches (ReorderedProduceTests).
        var gap = await h.Leader.ProduceAsync(Produce(Batches.Values(9, 1, pid, 0, 9), timeoutMs: 300));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        var bumped = await h.Leader.ProduceAsync(Produce(Batches.Values(5, 1, pid, 1, 0)));
        Assert.Equal(ErrorCode.None, bumped.Error);
        var fenced = await h.Leader.ProduceAsync(Produce(Batches.Values(6, 1, pid, 0, 5)));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, fenced.Error);

        // The new leader rebuilt producer state from its replica of the log: the retry is still a duplicate.
        await Wait.UntilAsync(() => h.Local("s2").LogEndOffset == h.Local("s1").LogEndOffset, TimeSpan.FromSeconds(20), "s2 to catch up", () => $"{h.Local("s2").LogEndOffset}");
        await h.KillAsync("s1");
        Assert.Equal("s2", h.State.Leader);
        var afterFailover = await h.Leader!.ProduceAsync(Produce(Batches.Values(5, 1, pid, 1, 0)));
        Assert.Equal(ErrorCode.None, afterFailover.Error);
        Assert.Equal(5, afterFailover.BaseOffset);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, (await h.Leader.ProduceAsync(Produce(Batches.Values(6, 1, pid, 0, 5)))).Error);
        var next = await h.Leader.ProduceAsync(Produce(Batches.Values(6, 1, pid, 1, 1)));
        Assert.Equal(ErrorCode.None, next.Error);
        Assert.Equal(h.Local("s2").LogEndOffset - 1, next.BaseOffset);
    }
}
