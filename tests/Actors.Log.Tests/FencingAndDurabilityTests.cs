using Actors.Testing;

namespace Actors.Log.Tests;

/// <summary>The log's own guards for the broker: no leader append below the newest epoch (a fence that survives a
/// restart), retention bounded by the high watermark, and the recovery point that moves at runtime so a crashed
/// process rescans only the tail.</summary>
public class FencingAndDurabilityTests
{
    private static readonly LogConfig Small = new() { SegmentBytes = 4096, AllowTinySegments = true, IndexIntervalBytes = 256 };

    [Fact]
    public void A_reopened_log_refuses_a_leader_append_below_its_latest_epoch()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig(), time))
        {
            log.AppendAsLeader(Batches.Make(2, time.NowMs), 5);
            log.AppendAsLeader(Batches.Make(2, time.NowMs), 6);
        }

        using var reopened = PartitionLog.Open(dir.Partition, new LogConfig(), time);
        Assert.Equal(6, reopened.LatestEpoch);
        var refused = Assert.Throws<StaleLeaderEpochException>(() => reopened.AppendAsLeader(Batches.Make(1, time.NowMs), 5));
        Assert.Contains("epoch 5", refused.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 6", refused.Message, StringComparison.Ordinal);
        Assert.Equal((5, 6), (refused.LeaderEpoch, refused.LatestEpoch));
        Assert.Equal(4, reopened.LogEndOffset);

        // The current epoch and newer ones still append.
        Assert.Equal(4, reopened.AppendAsLeader(Batches.Make(1, time.NowMs), 6).FirstOffset);
        Assert.Equal(5, reopened.AppendAsLeader(Batches.Make(1, time.NowMs), 7).FirstOffset);
        Assert.Throws<StaleLeaderEpochException>(() => reopened.AppendAsLeader(Batches.Make(1, time.NowMs), 6));
    }

    [Fact]
    public void Retention_never_deletes_a_segment_holding_offsets_at_or_above_the_high_watermark()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, Small with { RetentionMs = 60_000 }, time);
        while (log.SegmentCount < 4)
        {
            log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100), 0);
        }

        long[] bases = [.. log.SegmentBaseOffsets];
        time.Advance(TimeSpan.FromMinutes(2));

        // Every closed segment is expired, but only the first lies wholly below the high watermark.
        Assert.Equal(1, log.DeleteExpiredSegments(highWatermark: bases[2] - 1));
        Assert.Equal(bases[1], log.LogStartOffset);

        // A segment whose last offset is just below the high watermark may go; the next may not.
        Assert.Equal(1, log.DeleteExpiredSegments(highWatermark: bases[2]));
        Assert.Equal(bases[2], log.LogStartOffset);
        Assert.Equal(0, log.DeleteExpiredSegments(highWatermark: bases[2]));

        // Unbounded (no replication), the rest of the closed segments go; the active one never does.
        Assert.Equal(1, log.DeleteExpiredSegments());
        Assert.Equal(bases[3], log.LogStartOffset);
    }

    [Fact]
    public void With_flush_messages_1_every_append_is_flushed()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig { FlushMessages = 1 }, time);
        long flushes = log.FlushCount;
        for (int i = 1; i <= 5; i++)
        {
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(flushes + i, log.FlushCount);
            Assert.Equal(log.LogEndOffset, log.RecoveryPoint);
        }
    }

    [Fact]
    public async Task Flush_ms_fires_from_the_periodic_check_without_a_new_append()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig { FlushMs = 1000 }, time);
        log.AppendAsLeader(Batches.Make(3, time.NowMs), 0);
        Assert.False(await log.FlushIfDueAsync());
        Assert.Equal(0, log.RecoveryPoint);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await log.FlushIfDueAsync());
        Assert.Equal(3, log.RecoveryPoint);
        Assert.False(await log.FlushIfDueAsync());
    }

    [Fact]
    public async Task A_roll_flushes_the_closed_segment_and_a_crash_after_the_checkpoint_rescans_only_the_tail()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, Small, time);
        int n = 0;
        while (log.SegmentCount < 4)
        {
            log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100, prefix: $"b{n++}-"), 0);
        }

        log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100, prefix: $"b{n++}-"), 0);
        Assert.Equal(4, log.SegmentCount);
        long activeBase = log.SegmentBaseOffsets[^1];
        long end = log.LogEndOffset;

        // No flush policy and no explicit flush: the rolls alone move the recovery point, off the append path.
        await Wait.UntilAsync(() => log.RecoveryPoint == activeBase, TimeSpan.FromSeconds(10),
            $"the background flush of the rolled segments to move the recovery point to the active segment's base {activeBase}",
            () => $"recovery point {log.RecoveryPoint}");
        string checkpoint = Path.Combine(dir.Partition, PartitionLog.RecoveryPointCheckpointFileName);
        Assert.True(log.CheckpointRecoveryPoint(), "the checkpoint file should have been behind the recovery point");
        Assert.Equal($"0\n{activeBase}\n", File.ReadAllText(checkpoint));
        Assert.False(log.CheckpointRecoveryPoint());

        // A crash now: the files as they are (no close, so no clean-shutdown marker), with the last batch torn.
        string crashed = dir.File("crashed-0");
        Directory.CreateDirectory(crashed);
        foreach (string file in Directory.EnumerateFiles(dir.Partition))
        {
            if (Path.GetFileName(file) != PartitionLog.LockFileName)
            {
                File.Copy(file, Path.Combine(crashed, Path.GetFileName(file)));
            }
        }

        string activeLog = Path.Combine(crashed, $"{activeBase:D20}.log");
        using (var stream = new FileStream(activeLog, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length - 5);
        }

        using var recovered = PartitionLog.Open(crashed, Small, time);
        Assert.False(recovered.LastRecovery.CleanShutdown);
        Assert.Equal(1, recovered.LastRecovery.SegmentsScanned);
        Assert.Equal(end - 2, recovered.LogEndOffset);
        var expected = Batches.ReadAll(log).Take((int)(end - 2)).Select(r => (r.Offset, Convert.ToHexString(r.Value))).ToList();
        Assert.Equal(expected, Batches.ReadAll(recovered).Select(r => (r.Offset, Convert.ToHexString(r.Value))).ToList());
        for (long offset = 0; offset < end - 2; offset++)
        {
            // Every offset read on its own (through the loaded or rebuilt indexes) finds its record.
            Assert.Equal(expected[(int)offset], Batches.ReadAll(recovered, offset).Select(r => (r.Offset, Convert.ToHexString(r.Value))).First());
        }
    }
}
