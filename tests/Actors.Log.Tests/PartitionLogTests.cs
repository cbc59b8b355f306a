using System.Buffers.Binary;
using System.Text;
using Actors.Log.Records;
using Actors.Testing;

namespace Actors.Log.Tests;

public class PartitionLogTests
{
    private static readonly LogConfig Small = new() { SegmentBytes = 4096, AllowTinySegments = true, IndexIntervalBytes = 256 };

    [Fact]
    public void Leader_append_assigns_offsets_patches_epoch_and_keeps_the_crc_valid()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig(), time);
        Assert.Equal(0, log.LogEndOffset);
        LogAppendInfo first = log.AppendAsLeader(Batches.Make(3, time.NowMs, baseOffset: 999), leaderEpoch: 4);
        LogAppendInfo second = log.AppendAsLeader([.. Batches.Make(2, time.NowMs + 10), .. Batches.Make(5, time.NowMs + 20)], leaderEpoch: 4);
        Assert.Equal((0L, 2L), (first.FirstOffset, first.LastOffset));
        Assert.Equal((3L, 9L), (second.FirstOffset, second.LastOffset));
        Assert.Equal(2, second.BatchCount);
        Assert.Equal(time.NowMs + 24, second.MaxTimestamp);
        Assert.Equal(-1, second.LogAppendTime);
        Assert.Equal(10, log.LogEndOffset);

        using LogReadResult read = log.Read(0, 1 << 20, long.MaxValue);
        var reader = new RecordBatchReader(read.Records.Span);
        long expectedBase = 0;
        while (reader.TryReadNext(out RecordBatch batch))
        {
            Assert.Equal(RecordBatchError.None, batch.Validate());
            Assert.Equal(expectedBase, batch.BaseOffset);
            Assert.Equal(4, batch.PartitionLeaderEpoch);
            expectedBase = batch.NextOffset;
        }

        Assert.Equal(10, expectedBase);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), Batches.ReadAll(log).Select(r => r.Offset));
    }

    [Fact]
    public void A_read_buffer_handed_over_stays_with_its_new_owner_after_the_result_is_disposed()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig(), time);
        log.AppendAsLeader(Batches.Make(3, time.NowMs), leaderEpoch: 0);
        var read = log.Read(0, 1 << 20, long.MaxValue);
        var expected = read.Records.ToArray();
        var owned = read.DetachBuffer();
        Assert.NotNull(owned);
        // The result gave it away: disposing returns nothing to the pool, so the bytes stay the new owner's.
        read.Dispose();
        Assert.True(owned.AsSpan(0, expected.Length).SequenceEqual(expected), "the handed-over buffer changed after the read result was disposed");
        Assert.True(read.Records.IsEmpty);
        Assert.Null(read.DetachBuffer());
        System.Buffers.ArrayPool<byte>.Shared.Return(owned);
    }

    [Fact]
    public void Reads_from_a_gap_from_inside_a_batch_and_past_the_end()
    {
        using var dir = new TempDirectory("log");
        using var log = PartitionLog.Open(dir.Partition, new LogConfig(), new ManualClock());
        log.AppendAsFollower(Batches.Make(5, 1000, baseOffset: 0, epoch: 1));      // offsets 0-4
        log.AppendAsFollower(Batches.Make(5, 2000, baseOffset: 10, epoch: 1));     // offsets 10-14, a gap 5-9
        log.AppendAsFollower(Batches.Make(5, 3000, baseOffset: 15, epoch: 1));     // offsets 15-19
        Assert.Equal(20, log.LogEndOffset);

        using (LogReadResult gap = log.Read(7, 1 << 20, long.MaxValue))
        {
            Assert.Equal(LogReadStatus.Ok, gap.Status);
            Assert.Equal(10, gap.FirstBatchOffset);
            Assert.Equal(20, gap.NextOffset);
        }

        using (LogReadResult middle = log.Read(12, 1 << 20, long.MaxValue))
        {
            Assert.Equal(10, middle.FirstBatchOffset);
            Assert.Equal(10, new RecordBatch(middle.Records.Span).BaseOffset);
        }

        using (LogReadResult atEnd = log.Read(20, 1 << 20, long.MaxValue))
        {
            Assert.Equal(LogReadStatus.Ok, atEnd.Status);
            Assert.Equal(0, atEnd.Length);
            Assert.Equal(20, atEnd.NextOffset);
        }

        using (LogReadResult pastEnd = log.Read(21, 1 << 20, long.MaxValue))
        {
            Assert.Equal(LogReadStatus.OffsetOutOfRange, pastEnd.Status);
            Assert.Equal((0L, 20L), (pastEnd.LogStartOffset, pastEnd.LogEndOffset));
        }

        // The high watermark stops the read before the batch that reaches it.
        using (LogReadResult bounded = log.Read(0, 1 << 20, maxOffsetExclusive: 15))
        {
            Assert.Equal(15, bounded.NextOffset);
            Assert.Equal(2, CountBatches(bounded.Records.Span));
        }

        // A byte limit below one batch returns that batch only when asked to.
        int oneBatch = Batches.Make(5, 1000).Length;
        using (LogReadResult minOne = log.Read(0, 10, long.MaxValue))
        {
            Assert.Equal(oneBatch, minOne.Length);
        }

        using (LogReadResult strict = log.Read(0, 10, long.MaxValue, minOneBatch: false))
        {
            Assert.Equal(0, strict.Length);
        }

        using (LogReadResult twoBatches = log.Read(0, (2 * oneBatch) + 10, long.MaxValue))
        {
            Assert.Equal(2, CountBatches(twoBatches.Records.Span));
        }
    }

    [Fact]
    public void Segments_roll_by_size_and_every_offset_stays_readable()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            for (int i = 0; i < 60; i++)
            {
                log.AppendAsLeader(Batches.Make(3, time.NowMs, valueBytes: 100), 0);
            }

            Assert.True(log.SegmentCount > 5, $"expected several segments, saw {log.SegmentCount}");
            foreach (string file in Directory.EnumerateFiles(dir.Partition, "*.log"))
            {
                Assert.True(new FileInfo(file).Length <= Small.SegmentBytes, $"{file} is larger than segment.bytes");
                Assert.Matches("^[0-9]{20}$", Path.GetFileNameWithoutExtension(file));
            }

            Assert.Equal(Enumerable.Range(0, 180).Select(i => (long)i), Batches.ReadAll(log).Select(r => r.Offset));
            for (long o = 0; o < 180; o++)
            {
                using LogReadResult r = log.Read(o, 1, long.MaxValue);
                var batch = new RecordBatch(r.Records.Span);
                Assert.True(batch.BaseOffset <= o && o <= batch.LastOffset, $"read at {o} returned batch {batch.BaseOffset}-{batch.LastOffset}");
            }
        }
    }

    [Fact]
    public void Segments_roll_by_time_with_a_fake_clock()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig { SegmentMs = 60_000 }, time);
        log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
        time.Advance(TimeSpan.FromSeconds(59));
        log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
        Assert.Equal(1, log.SegmentCount);
        time.Advance(TimeSpan.FromSeconds(2));
        log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
        Assert.Equal([0L, 2L], log.SegmentBaseOffsets);
    }

    [Fact]
    public void Old_producer_timestamps_do_not_roll_a_segment_on_every_append()
    {
        // As in Kafka, segment age is measured in record time: the span of timestamps inside the segment.
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        long yearsAgo = time.NowMs - (3L * 365 * 24 * 3600 * 1000);
        var config = new LogConfig { SegmentMs = 60_000 };
        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            log.AppendAsLeader(Batches.Make(1, yearsAgo), 0);
            log.AppendAsLeader(Batches.Make(1, yearsAgo + 1000), 0);
        }

        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            time.Advance(TimeSpan.FromHours(1));
            log.AppendAsLeader(Batches.Make(1, yearsAgo + 2000), 0);
            Assert.Equal(1, log.SegmentCount);
            log.AppendAsLeader(Batches.Make(1, yearsAgo + 61_000), 0);
            Assert.Equal([0L, 3L], log.SegmentBaseOffsets);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Index_lookups_work_after_reopen(bool clean)
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var expected = new List<long>();
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            for (int i = 0; i < 100; i++)
            {
                log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 40), 0);
                time.Advance(TimeSpan.FromMilliseconds(10));
            }

            expected.AddRange(Batches.ReadAll(log).Select(r => r.Timestamp));
            if (!clean)
            {
                log.FlushAsync().GetAwaiter().GetResult();
            }
        }

        if (!clean)
        {
            File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
        }

        foreach (string index in Directory.EnumerateFiles(dir.Partition, "*.index"))
        {
            Assert.Equal(0, new FileInfo(index).Length % 8);
        }

        Assert.Contains(Directory.EnumerateFiles(dir.Partition, "*.index"), f => new FileInfo(f).Length > 0);
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            Assert.Equal(clean, log.LastRecovery.CleanShutdown);
            Assert.Equal(200, log.LogEndOffset);
            for (long o = 0; o < 200; o++)
            {
                using LogReadResult r = log.Read(o, 1, long.MaxValue);
                var batch = new RecordBatch(r.Records.Span);
                Assert.True(batch.BaseOffset <= o && o <= batch.LastOffset, $"read at {o} returned {batch.BaseOffset}-{batch.LastOffset}");
            }

            for (int i = 0; i < expected.Count; i++)
            {
                TimestampAndOffset? found = log.FindOffsetByTimestamp(expected[i]);
                Assert.Equal(new TimestampAndOffset(expected[i], i), found);
            }

            Assert.Equal(new TimestampAndOffset(expected[0], 0), log.FindOffsetByTimestamp(0));
            Assert.Null(log.FindOffsetByTimestamp(expected[^1] + 1));
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(201, log.LogEndOffset);
        }
    }

    [Fact]
    public void Index_files_follow_the_kafka_layout()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, Small with { SegmentBytes = 1 << 20 }, time))
        {
            for (int i = 0; i < 80; i++)
            {
                log.AppendAsLeader(Batches.Make(3, time.NowMs + (i * 7), valueBytes: 50), 0);
            }
        }

        byte[] segment = File.ReadAllBytes(Path.Combine(dir.Partition, "00000000000000000000.log"));
        byte[] index = File.ReadAllBytes(Path.Combine(dir.Partition, "00000000000000000000.index"));
        byte[] timeIndex = File.ReadAllBytes(Path.Combine(dir.Partition, "00000000000000000000.timeindex"));
        Assert.Equal(0, index.Length % 8);
        Assert.Equal(0, timeIndex.Length % 12);
        Assert.True(index.Length / 8 >= 10, $"expected an entry about every 256 bytes, saw {index.Length / 8}");
        for (int e = 0; e < index.Length; e += 8)
        {
            // relative offset int32, position int32: the batch at the position ends at that offset.
            int relative = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan(e));
            int position = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan(e + 4));
            var batch = new RecordBatch(segment.AsSpan(position));
            Assert.Equal(RecordBatchError.None, batch.Validate());
            Assert.Equal(relative, batch.LastOffset);
        }

        long previous = long.MinValue;
        for (int e = 0; e < timeIndex.Length; e += 12)
        {
            // timestamp int64, relative offset int32: the largest timestamp up to that offset.
            long timestamp = BinaryPrimitives.ReadInt64BigEndian(timeIndex.AsSpan(e));
            int relative = BinaryPrimitives.ReadInt32BigEndian(timeIndex.AsSpan(e + 8));
            Assert.True(timestamp > previous);
            Assert.Equal(time.NowMs + ((relative / 3) * 7) + 2, timestamp);
            previous = timestamp;
        }

        // The final time-index entry written at close holds the segment's largest timestamp.
        Assert.Equal(time.NowMs + (79 * 7) + 2, previous);
    }

    [Fact]
    public void Torn_tail_at_every_byte_of_the_last_batch_is_cut_and_the_log_accepts_appends()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        long lastBase;
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig(), time))
        {
            for (int i = 0; i < 5; i++)
            {
                log.AppendAsLeader(Batches.Make(3, time.NowMs, valueBytes: 20), 0);
            }

            lastBase = log.LogEndOffset - 3;
        }

        string segment = Path.Combine(dir.Partition, "00000000000000000000.log");
        byte[] original = File.ReadAllBytes(segment);
        int lastStart = original.Length - Batches.Make(3, time.NowMs, valueBytes: 20).Length;
        for (int cut = lastStart; cut < original.Length; cut++)
        {
            File.WriteAllBytes(segment, original.AsSpan(0, cut).ToArray());
            File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
            using var log = PartitionLog.Open(dir.Partition, new LogConfig(), time);
            Assert.Equal(lastBase, log.LogEndOffset);
            Assert.Equal(cut - lastStart, log.LastRecovery.BytesTruncated);
            Assert.Equal(lastStart, new FileInfo(segment).Length);
            Assert.Equal(lastBase, Batches.ReadAll(log).Count);
            LogAppendInfo appended = log.AppendAsLeader(Batches.Make(1, time.NowMs, prefix: "after"), 0);
            Assert.Equal(lastBase, appended.FirstOffset);
            Assert.Equal("after0", Encoding.UTF8.GetString(Batches.ReadAll(log)[^1].Value.AsSpan(0, 6)));
            log.Dispose();
            File.WriteAllBytes(segment, original);
        }
    }

    [Fact]
    public void A_corrupt_batch_in_the_middle_cuts_the_log_there_and_drops_later_segments()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            for (int i = 0; i < 40; i++)
            {
                log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100), 0);
            }

            Assert.True(log.SegmentCount >= 3);
        }

        File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
        File.Delete(Path.Combine(dir.Partition, PartitionLog.RecoveryPointCheckpointFileName));
        string first = Path.Combine(dir.Partition, "00000000000000000000.log");
        byte[] bytes = File.ReadAllBytes(first);
        int batchSize = Batches.Make(2, time.NowMs, valueBytes: 100).Length;
        bytes[(3 * batchSize) + 100] ^= 0xFF; // inside the fourth batch's records
        File.WriteAllBytes(first, bytes);
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            Assert.Equal(6, log.LogEndOffset);
            Assert.Equal(1, log.SegmentCount);
            Assert.True(log.LastRecovery.BytesTruncated > bytes.Length - (3 * batchSize));
            Assert.Single(Directory.EnumerateFiles(dir.Partition, "*.log"));
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(7, Batches.ReadAll(log).Count);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("partial")]
    [InlineData("missing")]
    [InlineData("past-end")]
    public void Damaged_indexes_are_rebuilt(string damage)
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = Small with { SegmentBytes = 1 << 20 };
        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            for (int i = 0; i < 50; i++)
            {
                log.AppendAsLeader(Batches.Make(2, time.NowMs + i, valueBytes: 60), 0);
            }
        }

        string index = Path.Combine(dir.Partition, "00000000000000000000.index");
        string timeIndex = Path.Combine(dir.Partition, "00000000000000000000.timeindex");
        byte[] good = File.ReadAllBytes(index);
        Assert.True(good.Length >= 16, "the test needs a few index entries");
        var random = new Random(7);
        Console.WriteLine("seed 7");
        switch (damage)
        {
            case "garbage":
                var junk = new byte[good.Length];
                random.NextBytes(junk);
                File.WriteAllBytes(index, junk);
                File.WriteAllBytes(timeIndex, junk.AsSpan(0, junk.Length / 12 * 12).ToArray());
                break;
            case "partial":
                File.WriteAllBytes(index, good.AsSpan(0, good.Length - 3).ToArray());
                break;
            case "missing":
                File.Delete(index);
                File.Delete(timeIndex);
                break;
            case "past-end":
                byte[] shifted = (byte[])good.Clone();
                BinaryPrimitives.WriteInt32BigEndian(shifted.AsSpan(shifted.Length - 4), int.MaxValue - 1);
                File.WriteAllBytes(index, shifted);
                break;
        }

        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            Assert.True(log.LastRecovery.CleanShutdown);
            Assert.Equal(1, log.LastRecovery.IndexesRebuilt);
            Assert.Equal(100, log.LogEndOffset);
            Assert.Equal(good, File.ReadAllBytes(index));
            for (long o = 0; o < 100; o++)
            {
                using LogReadResult r = log.Read(o, 1, long.MaxValue);
                var batch = new RecordBatch(r.Records.Span);
                Assert.True(batch.BaseOffset <= o && o <= batch.LastOffset);
            }

            // Batch i holds offsets 2i and 2i+1 stamped now+i and now+i+1: offset 59 is the first at now+30.
            Assert.Equal(new TimestampAndOffset(time.NowMs + 30, 59), log.FindOffsetByTimestamp(time.NowMs + 30));
        }
    }

    [Fact]
    public void Retention_by_time_deletes_old_closed_segments_and_moves_the_log_start()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = Small with { RetentionMs = 60_000 };
        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            for (int i = 0; i < 60; i++)
            {
                log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100), 0);
                time.Advance(TimeSpan.FromSeconds(5));
            }

            IReadOnlyList<long> bases = log.SegmentBaseOffsets;
            Assert.True(bases.Count >= 4, $"expected at least 4 segments, saw {bases.Count}");

            // Segments whose newest record is older than 60 s are due; the later ones are not.
            int deleted = log.DeleteExpiredSegments();
            Assert.True(deleted > 0 && deleted < bases.Count, $"deleted {deleted} of {bases.Count}");
            Assert.Equal(bases[deleted], log.LogStartOffset);
            using (LogReadResult below = log.Read(0, 1000, long.MaxValue))
            {
                Assert.Equal(LogReadStatus.OffsetOutOfRange, below.Status);
                Assert.Equal(bases[deleted], below.LogStartOffset);
            }

            Assert.Equal(0, log.DeleteExpiredSegments());

            // Far in the future every closed segment expires, but the active one stays.
            time.Advance(TimeSpan.FromDays(1));
            log.DeleteExpiredSegments();
            Assert.Equal(1, log.SegmentCount);
            Assert.Equal(bases[^1], log.LogStartOffset);
            Assert.Equal(120, log.LogEndOffset);
        }

        using (var log = PartitionLog.Open(dir.Partition, config, time))
        {
            Assert.Equal(log.SegmentBaseOffsets[0], log.LogStartOffset);
            Assert.Equal(120, log.LogEndOffset);
            string checkpoint = File.ReadAllText(Path.Combine(dir.Partition, PartitionLog.LogStartOffsetCheckpointFileName));
            Assert.Equal($"0\n{log.LogStartOffset}\n", checkpoint);
        }
    }

    [Fact]
    public void Retention_by_size_keeps_the_log_under_the_limit()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = Small with { RetentionBytes = 10_000, RetentionMs = -1 };
        using var log = PartitionLog.Open(dir.Partition, config, time);
        for (int i = 0; i < 60; i++)
        {
            log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100), i / 20);
        }

        long before = log.SizeInBytes;
        int deleted = log.DeleteExpiredSegments();
        Assert.True(deleted > 0);
        Assert.True(log.SizeInBytes <= 10_000 + Small.SegmentBytes, $"size {log.SizeInBytes} after retention (was {before})");
        Assert.True(log.SizeInBytes >= 10_000 - Small.SegmentBytes || log.SegmentCount == 1);
        Assert.Equal(log.SegmentBaseOffsets[0], log.LogStartOffset);
        Assert.Equal(log.LogEndOffset - log.LogStartOffset, Batches.ReadAll(log, log.LogStartOffset).Count);

        // The epoch cache starts at the new log start: epochs wholly before it are gone, the one spanning it is kept.
        Assert.Equal(log.LogStartOffset, log.EpochEntries[0].StartOffset);
        Assert.Equal(2, log.LatestEpoch);
        Assert.Equal((2, log.LogEndOffset), log.EndOffsetForEpoch(2));
        Assert.Equal(LogReadStatus.OffsetOutOfRange, log.Read(log.LogStartOffset - 1, 100, long.MaxValue).Status);
    }

    [Fact]
    public void Truncate_then_append_replaces_the_tail()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, Small, time);
        for (int i = 0; i < 40; i++)
        {
            log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 100), i < 20 ? 1 : 2);
        }

        Assert.True(log.SegmentCount > 2);
        log.TruncateTo(31); // inside the batch 30-31: the whole batch goes
        Assert.Equal(30, log.LogEndOffset);
        Assert.Equal(1, log.LatestEpoch);
        Assert.All(log.SegmentBaseOffsets, b => Assert.True(b < 30));
        log.AppendAsLeader(Batches.Make(3, time.NowMs, prefix: "new"), 3);
        List<(long Offset, long Timestamp, string Key, byte[] Value)> all = Batches.ReadAll(log);
        Assert.Equal(Enumerable.Range(0, 33).Select(i => (long)i), all.Select(r => r.Offset));
        Assert.StartsWith("new", Encoding.UTF8.GetString(all[^1].Value), StringComparison.Ordinal);
        Assert.Equal([new EpochEntry(1, 0), new EpochEntry(3, 30)], log.EpochEntries);

        log.TruncateTo(0);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(1, log.SegmentCount);
        Assert.Empty(log.EpochEntries);
        log.AppendAsLeader(Batches.Make(1, time.NowMs), 4);
        Assert.Single(Batches.ReadAll(log));
    }

    [Fact]
    public void Epoch_cache_answers_end_offset_for_epoch_and_survives_reopen()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig(), time))
        {
            Assert.Equal((-1, -1L), log.EndOffsetForEpoch(0));
            log.AppendAsLeader(Batches.Make(10, time.NowMs), 1);   // epoch 1: 0-9
            log.AppendAsLeader(Batches.Make(10, time.NowMs), 3);   // epoch 3: 10-19
            log.AppendAsFollower(Batches.Make(5, time.NowMs, baseOffset: 20, epoch: 6)); // epoch 6: 20-24
            Assert.Equal(6, log.LatestEpoch);
            Assert.Equal((0, 0L), log.EndOffsetForEpoch(0));
            Assert.Equal((1, 10L), log.EndOffsetForEpoch(1));
            Assert.Equal((1, 10L), log.EndOffsetForEpoch(2));
            Assert.Equal((3, 20L), log.EndOffsetForEpoch(3));
            Assert.Equal((3, 20L), log.EndOffsetForEpoch(5));
            Assert.Equal((6, 25L), log.EndOffsetForEpoch(6));
            Assert.Equal((-1, -1L), log.EndOffsetForEpoch(7));
            log.AssignLeaderEpoch(8);
            Assert.Equal((6, 25L), log.EndOffsetForEpoch(6));
            Assert.Equal((8, 25L), log.EndOffsetForEpoch(8));
        }

        Assert.Equal("0\n4\n1 0\n3 10\n6 20\n8 25\n", File.ReadAllText(Path.Combine(dir.Partition, PartitionLog.LeaderEpochCheckpointFileName)));
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig(), time))
        {
            Assert.Equal(8, log.LatestEpoch);
            Assert.Equal((3, 20L), log.EndOffsetForEpoch(4));
            log.TruncateTo(20);
            Assert.Equal([new EpochEntry(1, 0), new EpochEntry(3, 10)], log.EpochEntries);
            Assert.Equal((3, 20L), log.EndOffsetForEpoch(3));
            log.TruncateTo(15); // inside the batch 10-19, which goes whole, and epoch 3 with it
            Assert.Equal(10, log.LogEndOffset);
            Assert.Equal([new EpochEntry(1, 0)], log.EpochEntries);
        }
    }

    [Fact]
    public void Invalid_batches_are_refused_and_nothing_stored_changes()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = new LogConfig { MaxMessageBytes = 2000 };
        using var log = PartitionLog.Open(dir.Partition, config, time);
        log.AppendAsLeader(Batches.Make(2, time.NowMs), 0);
        string segment = Path.Combine(dir.Partition, "00000000000000000000.log");
        byte[] before = File.ReadAllBytes(segment);

        var tooLarge = Assert.Throws<RecordBatchTooLargeException>(() => log.AppendAsLeader(Batches.Make(1, time.NowMs, valueBytes: 3000), 0));
        Assert.Contains("max.message.bytes", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal(2000, tooLarge.Limit);

        byte[] good = Batches.Make(2, time.NowMs);
        byte[] badCrc = (byte[])good.Clone();
        badCrc[^1] ^= 1;
        Assert.Equal(RecordBatchError.CorruptCrc, Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader([.. good, .. badCrc], 0)).Error);

        byte[] badMagic = (byte[])good.Clone();
        badMagic[RecordBatchLayout.MagicOffset] = 1;
        Assert.Equal(RecordBatchError.UnsupportedMagic, Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader(badMagic, 0)).Error);

        byte[] badLength = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32BigEndian(badLength.AsSpan(RecordBatchLayout.BatchLengthOffset), 1_000_000);
        Assert.Equal(RecordBatchError.Truncated, Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader(badLength, 0)).Error);
        BinaryPrimitives.WriteInt32BigEndian(badLength.AsSpan(RecordBatchLayout.BatchLengthOffset), 3);
        Assert.Equal(RecordBatchError.InvalidLength, Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader(badLength, 0)).Error);
        Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader(good.AsSpan(0, good.Length - 1), 0));
        Assert.Throws<CorruptRecordBatchException>(() => log.AppendAsLeader(ReadOnlySpan<byte>.Empty, 0));
        Assert.Throws<OffsetOrderException>(() => log.AppendAsFollower(Batches.Make(1, time.NowMs, baseOffset: 1)));

        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(before, File.ReadAllBytes(segment));
        Assert.False(log.HasFailed);
        log.AppendAsLeader(good, 0);
        Assert.Equal(4, log.LogEndOffset);
    }

    [Fact]
    public void A_failed_write_makes_the_log_refuse_writes_while_reads_keep_working()
    {
        // A real disk-full error: the next segment file is a link to /dev/full, whose writes fail with ENOSPC.
        Assert.True(File.Exists("/dev/full"), "this test needs /dev/full (Linux) to produce a real disk-full error");
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        byte[] batch = Batches.Make(2, time.NowMs, valueBytes: 100);
        var log = PartitionLog.Open(dir.Partition, Small, time);
        while (log.SizeInBytes + batch.Length <= Small.SegmentBytes)
        {
            log.AppendAsLeader(batch, 0);
        }

        long end = log.LogEndOffset;
        File.CreateSymbolicLink(Path.Combine(dir.Partition, $"{end:D20}.log"), "/dev/full");
        var failure = Assert.Throws<LogWriteFailedException>(() => log.AppendAsLeader(batch, 0));
        Assert.NotNull(failure.InnerException);
        Assert.True(log.HasFailed);
        Assert.Equal(end, log.LogEndOffset);

        // Sticky: later writes fail the same way, even ones that would not touch the bad file.
        Assert.Throws<LogWriteFailedException>(() => log.AppendAsLeader(batch, 0));
        Assert.Throws<LogWriteFailedException>(() => log.TruncateTo(0));
        Assert.Throws<LogWriteFailedException>(() => log.FlushAsync().GetAwaiter().GetResult());

        // Reads of what is stored keep working.
        Assert.Equal(end, Batches.ReadAll(log).Count);
        log.Dispose();
        Assert.False(File.Exists(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName)));

        File.Delete(Path.Combine(dir.Partition, $"{end:D20}.log"));
        using var reopened = PartitionLog.Open(dir.Partition, Small, time);
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(end, reopened.AppendAsLeader(batch, 0).FirstOffset);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Open_after_a_crash_fsyncs_the_recovered_segments_before_counting_them_durable(bool clean)
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, Small, time))
        {
            for (int i = 0; i < 20; i++)
            {
                log.AppendAsLeader(Batches.Make(2, time.NowMs, valueBytes: 40), 0);
            }
        }

        if (!clean)
        {
            // As after a crash: no marker, and what the dead process wrote may sit in the page cache only.
            File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
        }

        using var reopened = PartitionLog.Open(dir.Partition, Small, time);
        Assert.Equal(clean, reopened.LastRecovery.CleanShutdown);
        Assert.Equal(40, reopened.LogEndOffset);
        if (clean)
        {
            Assert.Equal(0, reopened.SegmentSyncCount);
        }
        else
        {
            Assert.True(reopened.SegmentSyncCount >= 1, "recovered segments were counted durable without an fsync");
        }
    }

    [Fact]
    public async Task A_flush_after_a_roll_fsyncs_the_directory_and_appends_never_do()
    {
        // The counter counts real fsyncs of the directory (open, fsync, close through libc), which exist on Linux only.
        Assert.True(OperatingSystem.IsLinux(), "this test needs Linux, where the log fsyncs its directory");
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        byte[] batch = Batches.Make(2, time.NowMs, valueBytes: 100);
        using var log = PartitionLog.Open(dir.Partition, Small, time);
        Assert.True(log.DirectorySyncCount >= 1, "open must fsync the directory: a crashed writer may have left entries unsynced");

        // Appends and flushes that create no file leave the directory alone.
        long atOpen = log.DirectorySyncCount;
        while (log.SizeInBytes + batch.Length <= Small.SegmentBytes)
        {
            log.AppendAsLeader(batch, -1);
        }

        await log.FlushAsync();
        Assert.Equal(atOpen, log.DirectorySyncCount);

        // The append that rolls does not fsync the directory itself: it hands the closed segment to a background
        // flush, which fsyncs the directory once so the new segment's entry is durable...
        long flushes = log.FlushCount;
        log.AppendAsLeader(batch, -1);
        Assert.Equal(2, log.SegmentCount);
        await Wait.UntilAsync(() => log.FlushCount > flushes, TimeSpan.FromSeconds(10), "the background flush after the roll",
            () => $"flushes {log.FlushCount}");
        Assert.Equal(atOpen + 1, log.DirectorySyncCount);

        // ...so the next flush has no new file to make durable.
        await log.FlushAsync();
        Assert.Equal(atOpen + 1, log.DirectorySyncCount);
        Assert.Equal(log.LogEndOffset, log.RecoveryPoint);

        // The flush after that has no new file to make durable.
        log.AppendAsLeader(batch, -1);
        await log.FlushAsync();
        Assert.Equal(atOpen + 1, log.DirectorySyncCount);

        // A durable checkpoint rename fsyncs the directory before it returns: the epoch cache...
        log.AssignLeaderEpoch(3);
        Assert.Equal(atOpen + 2, log.DirectorySyncCount);

        // ...and a truncation that restarts the log in a new segment.
        log.TruncateFullyAndStartAt(1000);
        Assert.True(log.DirectorySyncCount > atOpen + 2, "restarting the log must fsync the directory holding its new segment");
        Assert.True(File.Exists(Path.Combine(dir.Partition, $"{1000:D20}.log")));
        long afterRestart = log.DirectorySyncCount;

        // The roll's background flush fsyncs the directory once (the new segment, the closed one's index files)...
        long flushesBefore = log.FlushCount;
        while (log.SegmentCount < 2)
        {
            log.AppendAsLeader(batch, -1);
        }

        await Wait.UntilAsync(() => log.FlushCount > flushesBefore, TimeSpan.FromSeconds(10), "the background flush after the roll",
            () => $"flushes {log.FlushCount}");
        Assert.Equal(afterRestart + 1, log.DirectorySyncCount);

        // ...and a clean close once more, for the index files it creates for the active segment.
        log.Dispose();
        Assert.Equal(afterRestart + 2, log.DirectorySyncCount);
    }

    [Fact]
    public async Task A_failed_directory_fsync_fails_the_log_like_any_write_error()
    {
        // A real failure: retention deletes a segment, then the directory is moved away, so the flush that must
        // make the deletion durable cannot open the directory (ENOENT). Segment files stay usable via their handles.
        Assert.True(OperatingSystem.IsLinux(), "this test needs Linux, where the log fsyncs its directory");
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = Small with { RetentionMs = 60_000 };
        byte[] batch = Batches.Make(2, time.NowMs, valueBytes: 100);
        var log = PartitionLog.Open(dir.Partition, config, time);
        while (log.SegmentCount < 3)
        {
            log.AppendAsLeader(batch, 0);
        }

        // The two rolls each hand their closed segment to a background flush; once both ran, no flush but the test's
        // own touches the directory.
        await Wait.UntilAsync(() => log.FlushCount >= 2, TimeSpan.FromSeconds(10), "the background flushes of the two rolls",
            () => $"flushes {log.FlushCount}");
        await log.FlushAsync();
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, log.DeleteExpiredSegments());
        (long start, long end) = (log.LogStartOffset, log.LogEndOffset);
        string moved = dir.Partition + "-moved";
        Directory.Move(dir.Partition, moved);

        var failure = await Assert.ThrowsAsync<LogWriteFailedException>(() => log.FlushAsync());
        IOException cause = Assert.IsType<IOException>(failure.InnerException);
        Assert.Contains("fsync the log directory", cause.Message, StringComparison.Ordinal);
        Assert.Contains(dir.Partition, cause.Message, StringComparison.Ordinal);
        Assert.True(log.HasFailed);

        // Sticky, like any failed write; reads of what is stored keep working.
        Assert.Throws<LogWriteFailedException>(() => log.AppendAsLeader(batch, 0));
        await Assert.ThrowsAsync<LogWriteFailedException>(() => log.FlushAsync());
        Assert.Equal(end - start, Batches.ReadAll(log, start).Count);
        log.Dispose();

        Directory.Move(moved, dir.Partition);
        using var reopened = PartitionLog.Open(dir.Partition, config, time);
        Assert.False(reopened.LastRecovery.CleanShutdown);
        Assert.Equal((start, end), (reopened.LogStartOffset, reopened.LogEndOffset));
        Assert.Equal(end, reopened.AppendAsLeader(batch, 0).FirstOffset);
    }

    [Fact]
    public void Bad_settings_are_named()
    {
        Assert.Contains("segment.bytes", Assert.Throws<ArgumentException>(() => new LogConfig { SegmentBytes = 1000 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("max.message.bytes", Assert.Throws<ArgumentException>(() => new LogConfig { MaxMessageBytes = 10 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("retention.ms", Assert.Throws<ArgumentException>(() => new LogConfig { RetentionMs = -5 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("flush.messages", Assert.Throws<ArgumentException>(() => new LogConfig { FlushMessages = 0 }.Validate()).Message, StringComparison.Ordinal);
        using var dir = new TempDirectory("log");
        Assert.Throws<ArgumentException>(() => PartitionLog.Open(dir.Partition, new LogConfig { IndexIntervalBytes = -1 }, TimeProvider.System));
    }

    [Fact]
    public void Flush_policy_and_flush_async_advance_the_recovery_point()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig { FlushMessages = 5 }, time))
        {
            log.AppendAsLeader(Batches.Make(3, time.NowMs), 0);
            Assert.Equal(0, log.RecoveryPoint);
            log.AppendAsLeader(Batches.Make(3, time.NowMs), 0);
            Assert.Equal(6, log.RecoveryPoint);
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(6, log.RecoveryPoint);
            log.FlushAsync().GetAwaiter().GetResult();
            Assert.Equal(7, log.RecoveryPoint);

            // The file follows at most once a minute (it only bounds recovery work) and always at close.
            Assert.Equal("0\n6\n", File.ReadAllText(Path.Combine(dir.Partition, PartitionLog.RecoveryPointCheckpointFileName)));
        }

        Assert.Equal("0\n7\n", File.ReadAllText(Path.Combine(dir.Partition, PartitionLog.RecoveryPointCheckpointFileName)));

        using (var log = PartitionLog.Open(dir.Partition, new LogConfig { FlushMs = 1000 }, time))
        {
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(7, log.RecoveryPoint);
            time.Advance(TimeSpan.FromSeconds(1));
            log.AppendAsLeader(Batches.Make(1, time.NowMs), 0);
            Assert.Equal(9, log.RecoveryPoint);
        }
    }

    [Fact]
    public void Log_append_time_stamps_the_batch_and_recomputes_the_crc()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig { MessageTimestampType = TimestampType.LogAppendTime }, time);
        LogAppendInfo info = log.AppendAsLeader(Batches.Make(2, 5), 0);
        Assert.Equal(time.NowMs, info.LogAppendTime);
        Assert.Equal(time.NowMs, info.MaxTimestamp);
        using LogReadResult read = log.Read(0, 1 << 16, long.MaxValue);
        var batch = new RecordBatch(read.Records.Span);
        Assert.Equal(RecordBatchError.None, batch.Validate());
        Assert.Equal(TimestampType.LogAppendTime, batch.TimestampType);
        Assert.Equal(time.NowMs, batch.MaxTimestamp);
        Assert.Equal(new TimestampAndOffset(time.NowMs, 0), log.FindOffsetByTimestamp(time.NowMs));
    }

    [Fact]
    public void Reads_running_beside_appends_see_only_whole_valid_batches()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, Small with { SegmentBytes = 64 * 1024 }, time);
        const int appends = 3000;
        using var done = new CancellationTokenSource();
        long reads = 0;
        var readers = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            while (!done.IsCancellationRequested)
            {
                long end = log.LogEndOffset;
                long offset = end == 0 ? 0 : random.NextInt64(0, end + 1);
                using LogReadResult r = log.Read(offset, random.Next(1, 8192), long.MaxValue);
                Assert.Equal(LogReadStatus.Ok, r.Status);
                var reader = new RecordBatchReader(r.Records.Span);
                while (reader.TryReadNext(out RecordBatch batch))
                {
                    Assert.Equal(RecordBatchError.None, batch.Validate());
                    Assert.True(batch.LastOffset < r.LogEndOffset);
                }

                Assert.True(reader.Remaining.IsEmpty);
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        var builder = new RecordBatchBuilder();
        for (int i = 0; i < appends; i++)
        {
            if (i % 100 == 0)
            {
                // The readers must really run beside the appends: every 100 appends, wait for a read that
                // started after the previous check (a fast writer could otherwise finish before they run).
                AwaitReadAfter(Interlocked.Read(ref reads) + 1, i);
            }

            builder.Clear();
            builder.Add(time.NowMs, null, new byte[i % 500]);
            log.AppendAsLeader(builder.Build(), 0);
        }

        done.Cancel();
        Task.WaitAll(readers);
        Assert.True(Interlocked.Read(ref reads) >= appends / 100, $"only {reads} reads ran beside {appends} appends");
        Assert.Equal(appends, Batches.ReadAll(log).Count);

        void AwaitReadAfter(long target, int appended)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Interlocked.Read(ref reads) < target)
            {
                var failed = readers.FirstOrDefault(r => r.IsFaulted);
                Assert.True(failed is null, $"a reader failed: {failed?.Exception}");
                Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for read #{target} after {appended} appends; reads so far {Interlocked.Read(ref reads)}");
                Thread.Yield();
            }
        }
    }

    [Fact]
    public void Retention_and_flushes_running_beside_appends_keep_the_log_consistent()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, Small with { RetentionBytes = 20_000, RetentionMs = -1 }, time);
        using var done = new CancellationTokenSource();
        int deleted = 0;
        Task retention = Task.Run(async () =>
        {
            for (int round = 0; !done.IsCancellationRequested; round++)
            {
                Interlocked.Add(ref deleted, log.DeleteExpiredSegments());
                if (round % 16 == 0)
                {
                    await log.FlushAsync();
                }

                long start = log.LogStartOffset;
                using LogReadResult r = log.Read(start, 4096, long.MaxValue);
                Assert.True(r.Status == LogReadStatus.Ok || log.LogStartOffset > start, $"read at the log start {start} failed");
            }
        });

        var builder = new RecordBatchBuilder();
        for (int i = 0; i < 3000; i++)
        {
            builder.Clear();
            builder.Add(time.NowMs, null, Encoding.UTF8.GetBytes($"value-{i}-{new string('y', i % 200)}"));
            log.AppendAsLeader(builder.Build(), 0);
        }

        done.Cancel();
        retention.GetAwaiter().GetResult();
        Interlocked.Add(ref deleted, log.DeleteExpiredSegments());
        Assert.True(Volatile.Read(ref deleted) > 0);
        Assert.True(log.SizeInBytes <= 20_000 + Small.SegmentBytes, $"{log.SizeInBytes} bytes left after retention");
        var records = Batches.ReadAll(log, log.LogStartOffset);
        Assert.Equal(log.LogEndOffset - log.LogStartOffset, records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            long offset = log.LogStartOffset + i;
            Assert.Equal(offset, records[i].Offset);
            Assert.StartsWith($"value-{offset}-", Encoding.UTF8.GetString(records[i].Value), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Leader_appends_do_not_allocate_per_batch()
    {
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        using var log = PartitionLog.Open(dir.Partition, new LogConfig(), time);
        byte[] batch = Batches.Make(10, time.NowMs, valueBytes: 1000);
        for (int i = 0; i < 200; i++)
        {
            log.AppendAsLeader(batch, 0);
        }

        const int count = 5000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            log.AppendAsLeader(batch, 0);
        }

        long perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / count;
        Assert.True(perBatch < 8, $"{perBatch} bytes allocated per append (index growth amortized); expected none");
    }

    [Fact]
    public void A_second_open_of_the_same_directory_is_refused()
    {
        using var dir = new TempDirectory("log");
        using (var log = PartitionLog.Open(dir.Partition, new LogConfig(), new ManualClock()))
        {
            var error = Assert.Throws<IOException>(() => PartitionLog.Open(dir.Partition, new LogConfig(), new ManualClock()));
            Assert.Contains("already open", error.Message, StringComparison.Ordinal);
        }

        using var again = PartitionLog.Open(dir.Partition, new LogConfig(), new ManualClock());
        Assert.True(again.LastRecovery.CleanShutdown);
    }

    [Fact]
    public void Delete_removes_the_directory()
    {
        using var dir = new TempDirectory("log");
        var log = PartitionLog.Open(dir.Partition, new LogConfig(), new ManualClock());
        log.AppendAsLeader(Batches.Make(1, 1), 0);
        log.Delete();
        Assert.False(Directory.Exists(dir.Partition));
        Assert.Throws<ObjectDisposedException>(() => log.AppendAsLeader(Batches.Make(1, 1), 0));
    }

    private static int CountBatches(ReadOnlySpan<byte> bytes)
    {
        var reader = new RecordBatchReader(bytes);
        int n = 0;
        while (reader.TryReadNext(out _))
        {
            n++;
        }

        return n;
    }
}
