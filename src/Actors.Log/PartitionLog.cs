using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Actors.Log.Records;
using Actors.Log.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Log;

/// <summary>The log of one partition on local disk, in Apache Kafka's layout: segments
/// <c>&lt;20-digit base offset&gt;.log</c> of record batches (magic 2) with a sparse <c>.index</c> and a
/// <c>.timeindex</c>, plus <c>leader-epoch-checkpoint</c>, <c>log-start-offset-checkpoint</c> and
/// <c>recovery-point-offset-checkpoint</c>. See docs/formats/log.md.</summary>
/// <remarks>
/// <para><b>Threading.</b> Appends (<see cref="AppendAsLeader(ReadOnlySpan{byte}, int)"/>, <see cref="AppendAsFollower"/>),
/// <see cref="TruncateTo"/> and <see cref="AssignLeaderEpoch"/> must be called by one writer at a time; the
/// caller serializes them. <see cref="Read"/>, <see cref="FindOffsetByTimestamp"/>,
/// <see cref="EndOffsetForEpoch"/>, the offset properties, <see cref="FlushAsync"/> and
/// <see cref="DeleteExpiredSegments"/> may run on other threads at the same time as an append. A read sees only
/// whole batches: the writer writes the bytes and index entries first and then publishes the segment size and
/// the log end offset with volatile writes; readers bound themselves by those. Truncation and segment deletion
/// take an exclusive lock that readers share, so a read never sees a file shrink under it.</para>
/// <para><b>Durability.</b> An append returns once the bytes are in the operating system's page cache; like
/// Kafka, durability comes from replication plus the page cache, and data survives a process crash but not
/// necessarily a power loss. With <see cref="LogConfig.FlushMessages"/> or <see cref="LogConfig.FlushMs"/> set,
/// the append that crosses the threshold also fsyncs. <see cref="FlushAsync"/> returns once every batch appended
/// before the call is on disk (and the indexes of closed segments); it then records the new recovery point. A file
/// is only reachable after a power loss once its directory entry is on disk too, so, as Kafka's
/// <c>Utils.flushDir</c> does on Linux, the partition directory is fsynced: by <see cref="FlushAsync"/> (and the
/// flush policy) when a segment or index file was created or a file deleted since the last flush, which in
/// practice means after a roll; after every durable checkpoint rename (<c>leader-epoch-checkpoint</c>,
/// <c>log-start-offset-checkpoint</c>, and <c>recovery-point-offset-checkpoint</c> when a truncation rewrites
/// it), so a truncation that restarts the log is durable when it returns; once at open and at a clean close.
/// Appends never fsync the directory, not even the one that rolls: as in Kafka, a roll hands the segments it closed
/// to a background flush (off the append path) that fsyncs them and the directory and moves the recovery point to
/// the new segment's base offset. A failed directory fsync fails the log like any other write error. The
/// recovery-point file is replaced atomically but neither it nor the directory is fsynced when a flush moves it
/// forward: losing that update only makes the next recovery scan further back. The file follows the in-memory
/// recovery point at most once a minute from flushes, and whenever <see cref="CheckpointRecoveryPoint"/> is called
/// (the broker does every <c>replica.high.watermark.checkpoint.interval.ms</c>, 5 s). After a crash, segments wholly below
/// the recovery point are trusted; the segment holding it and all later ones are re-checked (CRC, lengths,
/// offsets), their indexes rebuilt, and the log is cut at the first torn or corrupt batch.</para>
/// <para><b>Failure.</b> Invalid batches are refused before anything is written. When a write to a file fails
/// (disk full, I/O error) the log becomes failed: every later write throws <see cref="LogWriteFailedException"/>,
/// while reads of stored batches keep working. Reopening the log recovers it.</para>
/// </remarks>
public sealed partial class PartitionLog : IDisposable, IAsyncDisposable
{
    /// <summary>Marker written at a clean close and removed at open; its absence at open triggers recovery.</summary>
    public const string CleanShutdownFileName = ".kafka_cleanshutdown";

    /// <summary>Checkpoint of the log start offset (moved forward by retention).</summary>
    public const string LogStartOffsetCheckpointFileName = "log-start-offset-checkpoint";

    /// <summary>Checkpoint of the offset up to which everything is known to be flushed.</summary>
    public const string RecoveryPointCheckpointFileName = "recovery-point-offset-checkpoint";

    /// <summary>File held with an exclusive lock while the log is open, so a second opener (in this or another
    /// process) fails instead of corrupting the log. The operating system drops the lock when the process dies.</summary>
    public const string LockFileName = ".lock";

    /// <summary>The recovery-point file is rewritten at most this often by flushes (Kafka's
    /// <c>log.flush.offset.checkpoint.interval.ms</c> default); always at close and after a truncation.</summary>
    public const long RecoveryPointCheckpointIntervalMs = 60_000;

    /// <summary>Name of the leader-epoch cache file.</summary>
    public const string LeaderEpochCheckpointFileName = LeaderEpochCache.FileName;

    private LogConfig _config;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly object _segmentsLock = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly LeaderEpochCache _epochs;
    private readonly DirectorySync _directorySync;
    private LogSegment[] _segments = [];
    private long _logEndOffset;
    private long _logStartOffset;
    private long _recoveryPoint;
    private long _segmentSyncCount;
    private long _unflushedMessages;
    private long _lastFlushMs;
    private long _lastRecoveryCheckpointMs = long.MinValue / 2;
    private long _checkpointedRecoveryPoint = -1;
    private long _flushCount;
    private Exception? _failure;
    private byte[] _staging = new byte[64 * 1024];
    private int _disposed;
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _lockHandle;

    private PartitionLog(string directory, LogConfig config, TimeProvider time, ILogger logger)
    {
        Directory = directory;
        _config = config;
        _time = time;
        _logger = logger;
        _directorySync = new DirectorySync(directory);
        _epochs = new LeaderEpochCache(_directorySync);
    }

    /// <summary>The partition directory, e.g. <c>/var/lib/actors/orders-0</c>.</summary>
    public string Directory { get; }

    /// <summary>The settings this log runs with (replaced in place by <see cref="UpdateConfig"/>).</summary>
    public LogConfig Config => Volatile.Read(ref _config);

    /// <summary>Replaces the settings in place, as Kafka does on a topic config change: retention, segment size and
    /// age, max.message.bytes, flush and index settings apply from the next append, roll or retention pass; the
    /// active segment keeps the index size it was created with. Open readers and writers are not disturbed.</summary>
    /// <exception cref="ArgumentException">A setting is out of range (the message names it); the old settings stay.</exception>
    public void UpdateConfig(LogConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Volatile.Write(ref _config, config);
    }

    /// <summary>First offset still stored; moves forward when retention deletes segments.</summary>
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    /// <summary>Offset the next appended record gets (one past the last stored record).</summary>
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    /// <summary>Offset below which everything is known to be on disk.</summary>
    public long RecoveryPoint => Volatile.Read(ref _recoveryPoint);

    /// <summary>Latest leader epoch in the epoch cache, -1 when none.</summary>
    public int LatestEpoch => _epochs.LatestEpoch;

    /// <summary>The epoch cache entries, oldest first.</summary>
    public IReadOnlyList<EpochEntry> EpochEntries => _epochs.Entries;

    /// <summary>What recovery did when the log was opened.</summary>
    public LogRecoveryInfo LastRecovery { get; private set; }

    /// <summary>Number of segments.</summary>
    public int SegmentCount => Volatile.Read(ref _segments).Length;

    /// <summary>Base offsets of the segments, oldest first.</summary>
    public IReadOnlyList<long> SegmentBaseOffsets => Array.ConvertAll(Volatile.Read(ref _segments), s => s.BaseOffset);

    /// <summary>Total bytes in all segment files.</summary>
    public long SizeInBytes
    {
        get
        {
            long total = 0;
            foreach (LogSegment s in Volatile.Read(ref _segments))
            {
                total += s.Size;
            }

            return total;
        }
    }

    /// <summary>True once a write failed; see <see cref="LogWriteFailedException"/>.</summary>
    public bool HasFailed => Volatile.Read(ref _failure) is not null;

    /// <summary>fsyncs of <see cref="Directory"/> done so far; tests use it to prove the syncs happen where the
    /// durability contract needs them and nowhere on the append path.</summary>
    internal long DirectorySyncCount => _directorySync.SyncCount;

    /// <summary>How many times a segment's log file was fsynced (tests check where durability is paid for).</summary>
    internal long SegmentSyncCount => Interlocked.Read(ref _segmentSyncCount);

    /// <summary>Flushes done since open: explicit (<see cref="FlushAsync"/>), by the flush policy
    /// (<see cref="LogConfig.FlushMessages"/>, <see cref="LogConfig.FlushMs"/>) and of rolled segments.</summary>
    public long FlushCount => Interlocked.Read(ref _flushCount);

    /// <summary>Opens (creating if needed) the log in <paramref name="directory"/> and recovers it: without a clean
    /// shutdown marker, segments from the recovery point on are scanned and cut at the first torn or corrupt
    /// batch; missing or damaged indexes are rebuilt. The log is writable afterwards.</summary>
    /// <param name="directory">The partition directory (<c>&lt;log.dirs&gt;/&lt;topic&gt;-&lt;partition&gt;</c>).</param>
    /// <param name="config">Settings; validated here.</param>
    /// <param name="timeProvider">Clock for rolls, retention, flush.ms and log-append time.</param>
    /// <param name="logger">Optional logger.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    /// <exception cref="InvalidDataException">A checkpoint file is unreadable or segments overlap.</exception>
    public static PartitionLog Open(string directory, LogConfig config, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        config.Validate();
        string full = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(full);
        Microsoft.Win32.SafeHandles.SafeFileHandle lockHandle;
        try
        {
            lockHandle = File.OpenHandle(Path.Combine(full, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The log in '{full}' is already open, by this process or another; close it first.", e);
        }

        PartitionLog log;
        try
        {
            log = new PartitionLog(full, config, timeProvider, logger ?? NullLogger.Instance) { _lockHandle = lockHandle };
        }
        catch
        {
            lockHandle.Dispose();
            throw;
        }

        try
        {
            log.Load();
        }
        catch
        {
            foreach (LogSegment s in log._segments)
            {
                s.Dispose();
            }

            lockHandle.Dispose();
            throw;
        }

        return log;
    }

    /// <summary>Appends batches as the leader: validates each (size, magic, lengths, record count, CRC), assigns
    /// offsets from <see cref="LogEndOffset"/>, writes <paramref name="leaderEpoch"/> into each batch's partition
    /// leader epoch, and with log-append-time stamps the max timestamp (recomputing the CRC). Base offset and
    /// epoch are outside the CRC, so they are patched without recomputing it. Records are not decoded.</summary>
    /// <param name="batches">One or more concatenated batches, as a producer sends them.</param>
    /// <param name="leaderEpoch">The current leader epoch; a new epoch is added to the epoch cache at the first offset.</param>
    /// <exception cref="CorruptRecordBatchException">A batch is malformed; nothing was written.</exception>
    /// <exception cref="RecordBatchTooLargeException">A batch exceeds max.message.bytes; nothing was written.</exception>
    /// <exception cref="StaleLeaderEpochException"><paramref name="leaderEpoch"/> is below <see cref="LatestEpoch"/>;
    /// nothing was written.</exception>
    /// <exception cref="LogWriteFailedException">The log has failed a write.</exception>
    public LogAppendInfo AppendAsLeader(ReadOnlySpan<byte> batches, int leaderEpoch)
    {
        ThrowIfUnwritable();
        return AppendAsLeader(ValidateAsLeader(batches), leaderEpoch);
    }

    /// <summary>Checks producer batches as <see cref="AppendAsLeader(ReadOnlySpan{byte}, int)"/> does (size, magic,
    /// lengths, record count, CRC) without writing, so a caller can refuse a corrupt request before it interprets
    /// any header field, then append the result without a second pass.</summary>
    /// <exception cref="CorruptRecordBatchException">A batch is malformed.</exception>
    /// <exception cref="RecordBatchTooLargeException">A batch exceeds max.message.bytes.</exception>
    public ValidatedBatches ValidateAsLeader(ReadOnlySpan<byte> batches)
    {
        int limit = Config.MaxMessageBytes;
        return new ValidatedBatches(batches, ValidateBatches(batches, leader: true, limit), limit);
    }

    /// <summary>Appends batches <see cref="ValidateAsLeader"/> checked (see
    /// <see cref="AppendAsLeader(ReadOnlySpan{byte}, int)"/>). They are checked again only when max.message.bytes was
    /// lowered in between.</summary>
    /// <exception cref="RecordBatchTooLargeException">A batch exceeds a max.message.bytes lowered since validation.</exception>
    /// <exception cref="LogWriteFailedException">The log has failed a write.</exception>
    public LogAppendInfo AppendAsLeader(ValidatedBatches validated, int leaderEpoch)
    {
        ThrowIfUnwritable();
        int latestEpoch = _epochs.LatestEpoch;
        if (leaderEpoch < latestEpoch)
        {
            // A newer leader already wrote here (or this log was told of a newer epoch): an append stamped with an
            // older epoch would put a deposed leader's records after the newer leader's.
            throw new StaleLeaderEpochException(Directory, leaderEpoch, latestEpoch);
        }

        ReadOnlySpan<byte> batches = validated.Bytes;
        LogConfig config = Config;
        int batchCount = config.MaxMessageBytes < validated.MaxMessageBytes
            ? ValidateBatches(batches, leader: true, config.MaxMessageBytes)
            : validated.BatchCount;
        if (_staging.Length < batches.Length)
        {
            _staging = new byte[Math.Max(batches.Length, (int)Math.Min(int.MaxValue, (long)_staging.Length * 2))];
        }

        Span<byte> staged = _staging.AsSpan(0, batches.Length);
        batches.CopyTo(staged);
        long first = LogEndOffset;
        long next = first;
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        bool stampAppendTime = config.MessageTimestampType == TimestampType.LogAppendTime;
        long maxTimestamp = -1;
        long offsetOfMax = first;
        int pos = 0;
        while (pos < staged.Length)
        {
            Span<byte> b = staged.Slice(pos);
            int size = BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
            long last = next + BinaryPrimitives.ReadInt32BigEndian(b.Slice(LastOffsetDeltaOffset));
            BinaryPrimitives.WriteInt64BigEndian(b, next);
            BinaryPrimitives.WriteInt32BigEndian(b.Slice(PartitionLeaderEpochOffset), leaderEpoch);
            if (stampAppendTime)
            {
                short attributes = BinaryPrimitives.ReadInt16BigEndian(b.Slice(AttributesOffset));
                BinaryPrimitives.WriteInt16BigEndian(b.Slice(AttributesOffset), (short)(attributes | 0x08));
                BinaryPrimitives.WriteInt64BigEndian(b.Slice(MaxTimestampOffset), now);
                BinaryPrimitives.WriteUInt32BigEndian(b.Slice(CrcOffset), Crc32C.Compute(b.Slice(AttributesOffset, size - AttributesOffset)));
            }

            long ts = BinaryPrimitives.ReadInt64BigEndian(b.Slice(MaxTimestampOffset));
            if (ts > maxTimestamp)
            {
                maxTimestamp = ts;
                offsetOfMax = last;
            }

            next = last + 1;
            pos += size;
        }

        if (leaderEpoch >= 0 && leaderEpoch > _epochs.LatestEpoch)
        {
            AssignEpoch(leaderEpoch, first);
        }

        WriteToSegments(staged, batchCount, first, next - 1, maxTimestamp, now);
        return new LogAppendInfo(first, next - 1, maxTimestamp, offsetOfMax, stampAppendTime ? now : -1, LogStartOffset, batchCount, staged.Length);
    }

    /// <summary>Appends batches as a follower, keeping the offsets and epochs the leader gave them. Batches are
    /// validated like a leader's (minus the producer-only record count rule); their offsets must start at or
    /// above <see cref="LogEndOffset"/> and increase. New epochs found in the batches enter the epoch cache.</summary>
    /// <exception cref="CorruptRecordBatchException">A batch is malformed; nothing was written.</exception>
    /// <exception cref="RecordBatchTooLargeException">A batch exceeds max.message.bytes; nothing was written.</exception>
    /// <exception cref="OffsetOrderException">Offsets go below the log end or backwards; nothing was written.</exception>
    /// <exception cref="LogWriteFailedException">The log has failed a write.</exception>
    public LogAppendInfo AppendAsFollower(ReadOnlySpan<byte> batches)
    {
        ThrowIfUnwritable();
        int batchCount = ValidateBatches(batches, leader: false, Config.MaxMessageBytes);
        long expected = LogEndOffset;
        long first = BinaryPrimitives.ReadInt64BigEndian(batches);
        long last = first;
        long maxTimestamp = -1;
        long offsetOfMax = first;
        int pos = 0;
        while (pos < batches.Length)
        {
            ReadOnlySpan<byte> b = batches.Slice(pos);
            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(b);
            if (baseOffset < expected)
            {
                throw new OffsetOrderException(pos == 0
                    ? $"Follower append starts at offset {baseOffset}, below the log end offset {expected} of '{Directory}'; truncate the log first."
                    : $"Follower append has a batch at offset {baseOffset} after one ending at {expected - 1}; offsets must increase.");
            }

            last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(b.Slice(LastOffsetDeltaOffset));
            long ts = BinaryPrimitives.ReadInt64BigEndian(b.Slice(MaxTimestampOffset));
            if (ts > maxTimestamp)
            {
                maxTimestamp = ts;
                offsetOfMax = last;
            }

            expected = last + 1;
            pos += BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
        }

        int latest = _epochs.LatestEpoch;
        pos = 0;
        while (pos < batches.Length)
        {
            ReadOnlySpan<byte> b = batches.Slice(pos);
            int epoch = BinaryPrimitives.ReadInt32BigEndian(b.Slice(PartitionLeaderEpochOffset));
            if (epoch > latest)
            {
                AssignEpoch(epoch, BinaryPrimitives.ReadInt64BigEndian(b));
                latest = epoch;
            }

            pos += BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
        }

        WriteToSegments(batches, batchCount, first, last, maxTimestamp, _time.GetUtcNow().ToUnixTimeMilliseconds());
        return new LogAppendInfo(first, last, maxTimestamp, offsetOfMax, -1, LogStartOffset, batchCount, batches.Length);
    }

    /// <summary>Records that <paramref name="epoch"/> starts at the current log end offset, as a new leader does
    /// before its first append. Ignored when the epoch is not newer than <see cref="LatestEpoch"/>.</summary>
    public void AssignLeaderEpoch(int epoch)
    {
        ThrowIfUnwritable();
        if (epoch > _epochs.LatestEpoch)
        {
            AssignEpoch(epoch, LogEndOffset);
        }
    }

    /// <summary>Reads whole batches from <paramref name="offset"/>, copied straight from the segment file.</summary>
    /// <param name="offset">First offset wanted; the first batch returned is the one containing it (it may start earlier).</param>
    /// <param name="maxBytes">Byte limit; only whole batches are returned.</param>
    /// <param name="maxOffsetExclusive">No batch whose last offset reaches this is returned (pass the high
    /// watermark for consumers, <see cref="long.MaxValue"/> for replicas).</param>
    /// <param name="minOneBatch">Return the first batch even when it alone exceeds <paramref name="maxBytes"/>
    /// (Kafka's behaviour, so a consumer always progresses).</param>
    /// <returns>Ok with zero or more batches from one segment, or OffsetOutOfRange when <paramref name="offset"/>
    /// is below <see cref="LogStartOffset"/> or above <see cref="LogEndOffset"/>. Dispose it.</returns>
    public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            long start = LogStartOffset;
            long end = LogEndOffset;
            if (offset < start || offset > end)
            {
                return new LogReadResult(LogReadStatus.OffsetOutOfRange, null, 0, start, end, -1, offset);
            }

            long limit = Math.Min(maxOffsetExclusive, end);
            LogSegment[] segments = Volatile.Read(ref _segments);
            Span<byte> header = stackalloc byte[HeaderSize];
            for (int i = FloorSegment(segments, offset); i < segments.Length && offset < limit; i++)
            {
                LogSegment segment = segments[i];
                int size = segment.Size;
                long target = Math.Max(offset, segment.BaseOffset);
                // Fast path: the index entry at or after the target usually names the very batch holding it, so one
                // read fetches header and data together. Otherwise find the batch by scanning headers.
                byte[]? buffer = null;
                int read = 0;
                int pos = segment.GuessPosition(target);
                if (pos >= 0 && size - pos >= HeaderSize)
                {
                    int guessWant = Math.Min(Math.Max(maxBytes, HeaderSize), size - pos);
                    buffer = ArrayPool<byte>.Shared.Rent(guessWant);
                    read = segment.Read(pos, buffer.AsSpan(0, guessWant));
                    if (read >= HeaderSize
                        && BinaryPrimitives.ReadInt64BigEndian(buffer) <= target
                        && BinaryPrimitives.ReadInt64BigEndian(buffer) + BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(LastOffsetDeltaOffset)) >= target
                        && BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(BatchLengthOffset)) >= MinBatchLength)
                    {
                        buffer.AsSpan(0, HeaderSize).CopyTo(header);
                    }
                    else
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                        read = 0;
                        pos = -1;
                    }
                }
                else
                {
                    pos = -1;
                }

                if (pos < 0)
                {
                    pos = segment.FindPosition(target, size, header, out _);
                    if (pos < 0)
                    {
                        continue;
                    }
                }

                long firstBase = BinaryPrimitives.ReadInt64BigEndian(header);
                int firstSize = BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) + LogOverhead;
                long firstLast = firstBase + BinaryPrimitives.ReadInt32BigEndian(header.Slice(LastOffsetDeltaOffset));
                if (firstLast >= limit || (firstSize > maxBytes && !minOneBatch))
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }

                    break;
                }

                int want = Math.Max(firstSize, Math.Min(maxBytes, size - pos));
                if (buffer is null || read < Math.Min(want, size - pos))
                {
                    // Nothing read yet, or the first batch is larger than the guess window: read what is missing.
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(want);
                    if (buffer is not null)
                    {
                        buffer.AsSpan(0, read).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                    }

                    buffer = bigger;
                    read += segment.Read(pos + read, buffer.AsSpan(read, want - read));
                }

                int p = 0;
                long nextOffset = offset;
                while (read - p >= HeaderSize)
                {
                    ReadOnlySpan<byte> b = buffer.AsSpan(p, read - p);
                    int batchSize = BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
                    long last = BinaryPrimitives.ReadInt64BigEndian(b) + BinaryPrimitives.ReadInt32BigEndian(b.Slice(LastOffsetDeltaOffset));
                    if (batchSize > read - p || last >= limit)
                    {
                        break;
                    }

                    p += batchSize;
                    nextOffset = last + 1;
                }

                return new LogReadResult(LogReadStatus.Ok, buffer, p, start, end, p > 0 ? firstBase : -1, nextOffset);
            }

            return new LogReadResult(LogReadStatus.Ok, null, 0, start, end, -1, offset);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Finds the first record whose timestamp is at least <paramref name="timestamp"/> (Kafka's
    /// ListOffsets by time): the segment by its largest timestamp, the start position through the time and offset
    /// indexes, then a bounded scan. Null when no record is that recent.</summary>
    /// <remarks>For compressed or log-append-time batches, the batch's max timestamp and base offset are returned.</remarks>
    public TimestampAndOffset? FindOffsetByTimestamp(long timestamp)
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            long start = LogStartOffset;
            foreach (LogSegment segment in Volatile.Read(ref _segments))
            {
                if (segment.MaxTimestamp < timestamp)
                {
                    continue;
                }

                TimestampAndOffset? found = FindInSegment(segment, timestamp, start);
                if (found is not null)
                {
                    return found;
                }
            }

            return null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The record with the largest timestamp (Kafka's ListOffsets MAX_TIMESTAMP, KIP-734): the segment with
    /// the largest timestamp (the first on ties), the batch holding it, and in that batch the first record carrying
    /// it. Null when the log holds no timestamped record.</summary>
    /// <remarks>For compressed or log-append-time batches, the batch's max timestamp and last offset are returned.</remarks>
    public TimestampAndOffset? FindMaxTimestamp()
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            long start = LogStartOffset;
            LogSegment? best = null;
            foreach (LogSegment segment in Volatile.Read(ref _segments))
            {
                if (segment.MaxTimestamp >= 0 && segment.OffsetOfMaxTimestamp >= start && segment.MaxTimestamp > (best?.MaxTimestamp ?? -1))
                {
                    best = segment;
                }
            }

            return best is null ? null : MaxTimestampInSegment(best, start);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Kafka's OffsetsForLeaderEpoch: the largest known epoch at most <paramref name="epoch"/> and the end
    /// offset of that epoch (the start offset of the next epoch, or <see cref="LogEndOffset"/> for the latest).
    /// (-1, -1) when the epoch is newer than any known.</summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch) => _epochs.EndOffsetFor(epoch, LogEndOffset);

    /// <summary>Removes every batch whose last offset is at least <paramref name="offset"/> (a follower does this
    /// after a leader change). When <paramref name="offset"/> falls inside a batch the whole batch goes, so the log
    /// end offset becomes that batch's base offset. Epoch cache entries at or after the new end are dropped (also
    /// when nothing is cut: an epoch starting at the log end holds no batch).
    /// Truncating to at or below the first segment's base offset empties the log and restarts it at
    /// <paramref name="offset"/>.</summary>
    /// <exception cref="LogWriteFailedException">The log has failed, or the truncation's file operations failed.</exception>
    public void TruncateTo(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ThrowIfUnwritable();
        if (offset >= LogEndOffset)
        {
            // Nothing to cut, but an epoch that starts at the log end and holds no batch (this replica led it and
            // appended nothing before another leader took over) is dropped, as Kafka does: the new leader never had
            // that epoch, so a follower that kept it would ask with it and be answered "diverging" at its own end
            // forever, never catching up or rejoining the ISR.
            _epochs.TruncateFromEnd(LogEndOffset);
            return;
        }

        long before = LogEndOffset;
        _lock.EnterWriteLock();
        try
        {
            LogSegment[] segments = _segments;
            if (offset <= segments[0].BaseOffset)
            {
                RestartEmptyAt(offset);
            }
            else
            {
                int keep = segments.Length;
                while (segments[keep - 1].BaseOffset >= offset)
                {
                    keep--;
                }

                for (int i = keep; i < segments.Length; i++)
                {
                    segments[i].Delete();
                }

                LogSegment active = segments[keep - 1];
                active.TruncateTo(offset);
                active.ReserveIndexes();
                lock (_segmentsLock)
                {
                    Volatile.Write(ref _segments, segments[..keep]);
                }

                Volatile.Write(ref _logEndOffset, active.NextOffset);
            }

            _epochs.TruncateFromEnd(LogEndOffset);
            if (RecoveryPoint > LogEndOffset)
            {
                Volatile.Write(ref _recoveryPoint, LogEndOffset);
                WriteRecoveryPointCheckpoint(LogEndOffset, durable: true);
                Interlocked.Exchange(ref _checkpointedRecoveryPoint, LogEndOffset);
            }
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        LogTruncated(_logger, Directory, offset, before, LogEndOffset);
    }

    /// <summary>Kafka's truncate-fully-and-start-at: deletes every segment and restarts the log, empty, at
    /// <paramref name="offset"/>, which may lie past the current end. A follower does this when its whole log lies
    /// below the leader's log start offset (the leader's retention removed what it would fetch next).</summary>
    /// <exception cref="LogWriteFailedException">The log has failed, or the file operations failed.</exception>
    public void TruncateFullyAndStartAt(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ThrowIfUnwritable();
        long before = LogEndOffset;
        _lock.EnterWriteLock();
        try
        {
            RestartEmptyAt(offset);
            _epochs.Clear();
            Volatile.Write(ref _recoveryPoint, offset);
            WriteRecoveryPointCheckpoint(offset, durable: true);
            Interlocked.Exchange(ref _checkpointedRecoveryPoint, offset);
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        LogTruncated(_logger, Directory, offset, before, LogEndOffset);
    }

    /// <summary>Replaces every segment with one empty segment based at <paramref name="offset"/> and moves the log
    /// start and end there. Caller holds the write lock.</summary>
    private void RestartEmptyAt(long offset)
    {
        foreach (LogSegment s in _segments)
        {
            s.Delete();
        }

        LogSegment fresh = LogSegment.Create(_directorySync, offset, _time.GetUtcNow(), Config.SegmentIndexBytes);
        lock (_segmentsLock)
        {
            Volatile.Write(ref _segments, [fresh]);
        }

        Volatile.Write(ref _logStartOffset, offset);
        // A durable checkpoint write: its directory fsync also makes the new segment and the deletions durable.
        WriteLogStartCheckpoint(offset);
        Volatile.Write(ref _logEndOffset, offset);
    }

    /// <summary>Applies retention: deletes the oldest closed segments while their largest timestamp is older than
    /// retention.ms or while the log exceeds retention.bytes. The active segment is never deleted, nor, as in Kafka,
    /// any segment holding an offset at or above <paramref name="highWatermark"/>: only segments whose every record
    /// is committed may go, so a record not yet replicated is never removed from under its followers. The log start
    /// offset moves to the first remaining segment and is checkpointed. May run concurrently with appends.</summary>
    /// <param name="highWatermark">The partition's high watermark; <see cref="long.MaxValue"/> (the default) when
    /// the log is used without replication.</param>
    /// <returns>The number of segments deleted.</returns>
    public int DeleteExpiredSegments(long highWatermark = long.MaxValue)
    {
        if (Volatile.Read(ref _disposed) != 0 || HasFailed)
        {
            return 0;
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lock.EnterWriteLock();
        try
        {
            LogSegment[] deleted;
            lock (_segmentsLock)
            {
                LogSegment[] segments = _segments;
                LogConfig config = Config;
                long total = 0;
                foreach (LogSegment s in segments)
                {
                    total += s.Size;
                }

                int count = 0;
                for (int i = 0; i < segments.Length - 1; i++)
                {
                    LogSegment s = segments[i];
                    if (segments[i + 1].BaseOffset > highWatermark)
                    {
                        // The segment holds offsets at or above the high watermark: not fully committed yet.
                        break;
                    }

                    bool expired = config.RetentionMs >= 0 && now - LargestTimestamp(s) > config.RetentionMs;
                    bool oversize = config.RetentionBytes >= 0 && total - s.Size >= config.RetentionBytes;
                    if (!expired && !oversize)
                    {
                        break;
                    }

                    total -= s.Size;
                    count++;
                }

                if (count == 0)
                {
                    return 0;
                }

                deleted = segments[..count];
                Volatile.Write(ref _segments, segments[count..]);
            }

            long newStart = Math.Max(LogStartOffset, Volatile.Read(ref _segments)[0].BaseOffset);
            Volatile.Write(ref _logStartOffset, newStart);
            WriteLogStartCheckpoint(newStart);
            _epochs.TruncateFromStart(newStart);
            foreach (LogSegment s in deleted)
            {
                s.Delete();
            }

            LogRetentionDeleted(_logger, Directory, deleted.Length, newStart);
            return deleted.Length;
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>fsyncs the active segment and every closed segment with unflushed bytes or index entries, then the
    /// partition directory when a file was created, renamed or deleted in it since the last flush (a roll), then
    /// checkpoints the recovery point. Returns once everything appended before the call is on disk and reachable
    /// through a durable directory entry.</summary>
    /// <exception cref="LogWriteFailedException">The log has failed, or the flush failed (the log is then failed).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnwritable();
        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(FlushHeld, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Closes the log cleanly: writes the final index entries, flushes, checkpoints and leaves the clean
    /// shutdown marker so the next open skips the scan. A failed log closes without the marker.</summary>
    public void Dispose() => Close(clean: true);

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the log and removes its directory with every file in it.</summary>
    public void Delete()
    {
        Close(clean: false);
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    internal static int FloorSegment(LogSegment[] segments, long offset)
    {
        int lo = 0;
        int hi = segments.Length - 1;
        int found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    private static long LargestTimestamp(LogSegment segment)
    {
        long ts = segment.MaxTimestamp;
        return ts >= 0 ? ts : new DateTimeOffset(File.GetLastWriteTimeUtc(segment.LogPath)).ToUnixTimeMilliseconds();
    }

    private static TimestampAndOffset? MaxTimestampInSegment(LogSegment segment, long logStart)
    {
        long maxTs = segment.MaxTimestamp;
        long offset = segment.OffsetOfMaxTimestamp;
        int size = segment.Size;
        Span<byte> header = stackalloc byte[HeaderSize];
        int pos = segment.FindPosition(offset, size, out _);
        if (pos < 0 || !segment.TryReadHeader(pos, size, header))
        {
            return new TimestampAndOffset(maxTs, offset);
        }

        int batchSize = BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) + LogOverhead;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(batchSize);
        try
        {
            int read = segment.Read(pos, buffer.AsSpan(0, batchSize));
            var batch = new RecordBatch(buffer.AsSpan(0, read));
            if (read == batchSize && batch.Compression == CompressionType.None && batch.TimestampType == TimestampType.CreateTime)
            {
                foreach (Record record in batch)
                {
                    if (record.Timestamp == maxTs && record.Offset >= logStart)
                    {
                        return new TimestampAndOffset(record.Timestamp, record.Offset);
                    }
                }
            }

            return new TimestampAndOffset(maxTs, read >= HeaderSize ? batch.LastOffset : offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static TimestampAndOffset? FindInSegment(LogSegment segment, long timestamp, long logStart)
    {
        int size = segment.Size;
        int timeEntry = segment.TimeIndex.FloorIndex(timestamp - 1);
        long startOffset = timeEntry < 0 ? segment.BaseOffset : segment.BaseOffset + segment.TimeIndex.ValueAt(timeEntry);
        startOffset = Math.Max(startOffset, logStart);
        int pos = segment.FindPosition(startOffset, size, out _);
        if (pos < 0)
        {
            return null;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        while (segment.TryReadHeader(pos, size, header))
        {
            int batchSize = BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) + LogOverhead;
            long maxTs = BinaryPrimitives.ReadInt64BigEndian(header.Slice(MaxTimestampOffset));
            if (maxTs >= timestamp)
            {
                byte[] buffer = ArrayPool<byte>.Shared.Rent(batchSize);
                try
                {
                    int read = segment.Read(pos, buffer.AsSpan(0, batchSize));
                    var batch = new RecordBatch(buffer.AsSpan(0, read));
                    if (read == batchSize && batch.Compression == CompressionType.None && batch.TimestampType == TimestampType.CreateTime)
                    {
                        foreach (Record record in batch)
                        {
                            if (record.Timestamp >= timestamp && record.Offset >= logStart)
                            {
                                return new TimestampAndOffset(record.Timestamp, record.Offset);
                            }
                        }
                    }
                    else
                    {
                        return new TimestampAndOffset(maxTs, Math.Max(batch.BaseOffset, logStart));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            pos += batchSize;
        }

        return null;
    }

    private static int ValidateBatches(ReadOnlySpan<byte> batches, bool leader, int maxMessageBytes)
    {
        if (batches.IsEmpty)
        {
            throw new CorruptRecordBatchException(RecordBatchError.Truncated, 0, "The append holds no record batch.");
        }

        int pos = 0;
        int count = 0;
        while (pos < batches.Length)
        {
            RecordBatchError error = RecordBatchReader.Validate(batches.Slice(pos), maxMessageBytes, out int size);
            if (error == RecordBatchError.TooLarge)
            {
                throw new RecordBatchTooLargeException(size, maxMessageBytes);
            }

            if (error != RecordBatchError.None)
            {
                throw new CorruptRecordBatchException(error, pos, DescribeError(error, pos, batches.Length - pos));
            }

            if (leader)
            {
                int lastDelta = BinaryPrimitives.ReadInt32BigEndian(batches.Slice(pos + LastOffsetDeltaOffset));
                int records = BinaryPrimitives.ReadInt32BigEndian(batches.Slice(pos + RecordCountOffset));
                if (records == 0 || lastDelta != records - 1)
                {
                    throw new CorruptRecordBatchException(RecordBatchError.InvalidRecordCount, pos,
                        $"The record batch at byte {pos} has {records} records but a last offset delta of {lastDelta}; a producer batch must hold at least one record with deltas 0..count-1.");
                }
            }

            pos += size;
            count++;
        }

        return count;
    }

    private static string DescribeError(RecordBatchError error, int pos, int available) => error switch
    {
        RecordBatchError.Truncated => $"The record batch at byte {pos} is cut short: {available} bytes remain, fewer than its header or length field announce.",
        RecordBatchError.InvalidLength => $"The record batch at byte {pos} has an impossible length field (below {MinBatchLength}).",
        RecordBatchError.UnsupportedMagic => $"The record batch at byte {pos} is not magic {CurrentMagic}; only record batch v2 is stored.",
        RecordBatchError.CorruptCrc => $"The record batch at byte {pos} fails its CRC-32C check.",
        RecordBatchError.InvalidRecordCount => $"The record batch at byte {pos} has a negative or inconsistent record count or last offset delta.",
        _ => $"The record batch at byte {pos} is invalid: {error}.",
    };

    private void WriteToSegments(ReadOnlySpan<byte> bytes, int batchCount, long firstOffset, long lastOffset, long maxTimestamp, long nowMs)
    {
        LogSegment segment = Volatile.Read(ref _segments)[^1];
        try
        {
            if (ShouldRoll(segment, bytes.Length, batchCount, lastOffset, maxTimestamp, nowMs))
            {
                segment = Roll(firstOffset);
            }

            segment.WriteAtEnd(bytes);
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }

        int position = segment.Size;
        int pos = 0;
        while (pos < bytes.Length)
        {
            ReadOnlySpan<byte> b = bytes.Slice(pos);
            int size = BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(b);
            long last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(b.Slice(LastOffsetDeltaOffset));
            segment.OnBatchAppended(baseOffset, last, BinaryPrimitives.ReadInt64BigEndian(b.Slice(MaxTimestampOffset)), position + pos, size, Config.IndexIntervalBytes);
            pos += size;
        }

        segment.Publish(position + bytes.Length, lastOffset + 1);
        Volatile.Write(ref _logEndOffset, lastOffset + 1);
        long unflushed = Interlocked.Add(ref _unflushedMessages, lastOffset - firstOffset + 1);
        LogConfig config = Config;
        if (unflushed >= config.FlushMessages
            || (config.FlushMs != long.MaxValue && nowMs - Volatile.Read(ref _lastFlushMs) >= config.FlushMs))
        {
            _flushGate.Wait();
            try
            {
                FlushHeld();
            }
            finally
            {
                _flushGate.Release();
            }
        }
    }

    /// <summary>Kafka's roll rule. For segment.ms, the age of a segment is measured in record time when the
    /// segment's first batch has a timestamp (incoming max timestamp minus that first timestamp, so old
    /// producer timestamps do not force a roll on every append), and in broker time since creation otherwise.</summary>
    private bool ShouldRoll(LogSegment segment, int appendBytes, int batchCount, long lastOffset, long maxTimestamp, long nowMs)
    {
        if (segment.Size == 0)
        {
            return lastOffset - segment.BaseOffset > int.MaxValue;
        }

        long waited = segment.FirstBatchTimestamp >= 0
            ? maxTimestamp - segment.FirstBatchTimestamp
            : nowMs - segment.Created.ToUnixTimeMilliseconds();
        LogConfig config = Config;
        return (long)segment.Size + appendBytes > config.SegmentBytes
            || waited > config.SegmentMs
            || segment.IndexesFull(batchCount)
            || lastOffset - segment.BaseOffset > int.MaxValue;
    }

    private LogSegment Roll(long newBaseOffset)
    {
        LogSegment old = Volatile.Read(ref _segments)[^1];
        if (old.Size > 0)
        {
            // Finish the old segment while it is still the active one: retention never touches the active segment.
            old.OnBecomeInactive();
        }

        // The new file's directory entry is fsynced by the next flush (FlushHeld), not here on the append path.
        LogSegment fresh = LogSegment.Create(_directorySync, newBaseOffset, _time.GetUtcNow(), Config.SegmentIndexBytes);
        lock (_segmentsLock)
        {
            LogSegment[] segments = _segments;
            if (old.Size == 0)
            {
                // An empty active segment is replaced rather than kept (an offset gap from a follower append).
                var replaced = (LogSegment[])segments.Clone();
                replaced[^1] = fresh;
                Volatile.Write(ref _segments, replaced);
            }
            else
            {
                var grown = new LogSegment[segments.Length + 1];
                Array.Copy(segments, grown, segments.Length);
                grown[^1] = fresh;
                Volatile.Write(ref _segments, grown);
            }
        }

        if (old.Size == 0)
        {
            old.Delete();
            if (old.BaseOffset == LogStartOffset && Volatile.Read(ref _segments).Length == 1)
            {
                Volatile.Write(ref _logStartOffset, newBaseOffset);
                WriteLogStartCheckpoint(newBaseOffset);
            }
        }

        LogRolled(_logger, Directory, newBaseOffset);
        if (old.Size > 0)
        {
            FlushRolledInBackground(newBaseOffset);
        }

        return fresh;
    }

    private void AssignEpoch(int epoch, long startOffset)
    {
        try
        {
            _epochs.Assign(epoch, startOffset);
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
    }

    /// <summary>As Kafka does after a roll, flushes the segments below <paramref name="upTo"/> (the new active
    /// segment's base offset) off the append path, then the directory (the new segment's entry), and moves the
    /// recovery point there. So a closed segment is on disk soon after it closes, and the recovery point advances
    /// at runtime even when the flush policy never fires.</summary>
    private void FlushRolledInBackground(long upTo) => _ = Task.Run(async () =>
    {
        await _flushGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0 || HasFailed)
            {
                return;
            }

            FlushRolledHeld(upTo);
        }
        catch (LogException)
        {
            // Fail already logged it; the log refuses writes until reopened.
        }
        finally
        {
            _flushGate.Release();
        }
    });

    /// <summary>Body of <see cref="FlushRolledInBackground"/>; the caller holds <see cref="_flushGate"/>.</summary>
    private void FlushRolledHeld(long upTo)
    {
        _lock.EnterReadLock();
        try
        {
            LogSegment[] segments = Volatile.Read(ref _segments);
            // Only closed segments are flushed here: a truncation since the roll may have made an older segment
            // active again, and nothing at or above its base is known to be on disk.
            long bound = Math.Min(upTo, segments[^1].BaseOffset);
            for (int i = 0; i < segments.Length - 1 && segments[i].BaseOffset < bound; i++)
            {
                if (segments[i].IsDirty)
                {
                    segments[i].Flush(includeIndexes: true);
                    Interlocked.Increment(ref _segmentSyncCount);
                }
            }

            _directorySync.SyncIfChanged();
            Interlocked.Increment(ref _flushCount);
            if (bound > RecoveryPoint)
            {
                Volatile.Write(ref _recoveryPoint, bound);
            }
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Writes the recovery point (<see cref="RecoveryPoint"/>) to <c>recovery-point-offset-checkpoint</c> when
    /// it moved since the file was last written, so a process that dies later recovers only what lies after it. The
    /// broker calls this every <c>replica.high.watermark.checkpoint.interval.ms</c>. Like the flush's own checkpoint
    /// it is not fsynced: losing it only makes the next recovery scan further back. No-op on a closed or failed log.</summary>
    /// <returns>True when the file was written.</returns>
    /// <exception cref="LogWriteFailedException">Writing the file failed (the log is then failed).</exception>
    public bool CheckpointRecoveryPoint()
    {
        if (Volatile.Read(ref _disposed) != 0 || HasFailed)
        {
            return false;
        }

        _flushGate.Wait();
        try
        {
            if (Volatile.Read(ref _disposed) != 0 || HasFailed)
            {
                return false;
            }

            _lock.EnterReadLock();
            try
            {
                long point = RecoveryPoint;
                if (point == Interlocked.Read(ref _checkpointedRecoveryPoint))
                {
                    return false;
                }

                WriteRecoveryPointCheckpoint(point);
                Interlocked.Exchange(ref _checkpointedRecoveryPoint, point);
                return true;
            }
            catch (Exception e) when (e is not LogException)
            {
                throw Fail(e);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Flushes when <see cref="LogConfig.FlushMs"/> is set, records are unflushed and the last flush is at
    /// least that old: the time-based half of the flush policy for a log that stopped receiving appends (an append
    /// checks it too). Returns whether it flushed.</summary>
    /// <exception cref="LogWriteFailedException">The flush failed (the log is then failed).</exception>
    public async Task<bool> FlushIfDueAsync(CancellationToken cancellationToken = default)
    {
        if (_config.FlushMs == long.MaxValue || Volatile.Read(ref _disposed) != 0 || HasFailed || Interlocked.Read(ref _unflushedMessages) <= 0)
        {
            return false;
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - Volatile.Read(ref _lastFlushMs) < _config.FlushMs)
        {
            return false;
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Flush body; the caller holds <see cref="_flushGate"/>.</summary>
    private void FlushHeld()
    {
        ThrowIfUnwritable();
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lock.EnterReadLock();
        try
        {
            long end = LogEndOffset;
            long pending = Interlocked.Read(ref _unflushedMessages);
            LogSegment[] segments = Volatile.Read(ref _segments);
            for (int i = 0; i < segments.Length - 1; i++)
            {
                if (segments[i].IsDirty)
                {
                    segments[i].Flush(includeIndexes: true);
                    Interlocked.Increment(ref _segmentSyncCount);
                }
            }

            if (segments[^1].NeedsLogSync)
            {
                segments[^1].Flush(includeIndexes: false);
                Interlocked.Increment(ref _segmentSyncCount);
            }

            // A segment or index file created since the last flush (a roll) is durable only once the directory
            // is; a no-op when no file was created, renamed or deleted, so flushes without a roll skip it.
            _directorySync.SyncIfChanged();

            if (end != RecoveryPoint)
            {
                Volatile.Write(ref _recoveryPoint, end);
                if (now - _lastRecoveryCheckpointMs >= RecoveryPointCheckpointIntervalMs)
                {
                    WriteRecoveryPointCheckpoint(end);
                    Interlocked.Exchange(ref _checkpointedRecoveryPoint, end);
                    _lastRecoveryCheckpointMs = now;
                }
            }

            Interlocked.Increment(ref _flushCount);
            Interlocked.Add(ref _unflushedMessages, -pending);
            Volatile.Write(ref _lastFlushMs, now);
        }
        catch (Exception e) when (e is not LogException)
        {
            throw Fail(e);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void Load()
    {
        string marker = Path.Combine(Directory, CleanShutdownFileName);
        bool clean = File.Exists(marker);
        // A previous process may have died after creating or renaming files but before fsyncing the directory, and
        // recovery below may create, cut or delete files: the FlushHeld at the end fsyncs the directory once.
        _directorySync.MarkChanged();
        foreach (string stray in System.IO.Directory.EnumerateFiles(Directory, "*.tmp"))
        {
            File.Delete(stray);
        }

        long startCheckpoint = CheckpointFile.ReadSingleLong(Path.Combine(Directory, LogStartOffsetCheckpointFileName), 0);
        long recoveryPoint;
        try
        {
            recoveryPoint = CheckpointFile.ReadSingleLong(Path.Combine(Directory, RecoveryPointCheckpointFileName), 0);
        }
        catch (InvalidDataException)
        {
            recoveryPoint = 0;
        }
        var bases = new SortedSet<long>();
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*.log"))
        {
            if (TryParseBase(file, out long b))
            {
                bases.Add(b);
            }
        }

        foreach (string pattern in (string[])["*.index", "*.timeindex"])
        {
            foreach (string file in System.IO.Directory.EnumerateFiles(Directory, pattern))
            {
                if (TryParseBase(file, out long b) && !bases.Contains(b))
                {
                    File.Delete(file);
                }
            }
        }

        long[] ordered = bases.ToArray();
        int firstToScan = ordered.Length;
        if (!clean)
        {
            firstToScan = 0;
            for (int i = 0; i < ordered.Length; i++)
            {
                if (ordered[i] <= recoveryPoint)
                {
                    firstToScan = i;
                }
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        var segments = new List<LogSegment>();
        int scanned = 0;
        int rebuilt = 0;
        long truncated = 0;
        for (int i = 0; i < ordered.Length; i++)
        {
            LogSegment segment = LogSegment.OpenExisting(_directorySync, ordered[i], now, Config.SegmentIndexBytes);
            segments.Add(segment);
            if (segments.Count > 1 && segment.BaseOffset < segments[^2].NextOffset)
            {
                throw new InvalidDataException($"Segment {LogSegment.FileStem(segment.BaseOffset)}.log in '{Directory}' starts at offset {segment.BaseOffset}, inside the previous segment, which ends at {segments[^2].NextOffset - 1}.");
            }

            long cut = 0;
            if (i >= firstToScan)
            {
                scanned++;
                rebuilt++;
                cut = segment.Recover(Config.MaxMessageBytes, Config.IndexIntervalBytes);
                segment.WriteIndexes(flushToDisk: false);
            }
            else if (!segment.LoadIndexes(active: i == ordered.Length - 1))
            {
                rebuilt++;
                LogIndexRebuilt(_logger, Directory, segment.BaseOffset);
                cut = segment.Recover(Config.MaxMessageBytes, Config.IndexIntervalBytes);
                segment.WriteIndexes(flushToDisk: false);
            }

            if (cut > 0)
            {
                truncated += cut;
                LogTornTail(_logger, Directory, segment.BaseOffset, cut, segment.NextOffset);
                for (int j = i + 1; j < ordered.Length; j++)
                {
                    string path = Path.Combine(Directory, LogSegment.FileStem(ordered[j]));
                    truncated += new FileInfo(path + ".log").Length;
                    File.Delete(path + ".log");
                    File.Delete(path + ".index");
                    File.Delete(path + ".timeindex");
                }

                break;
            }
        }

        if (segments.Count == 0)
        {
            segments.Add(LogSegment.Create(_directorySync, Math.Max(0, startCheckpoint), now, Config.SegmentIndexBytes));
        }

        for (int i = 0; i < segments.Count - 1; i++)
        {
            segments[i].CompactIndexes();
        }

        segments[^1].ReserveIndexes();
        _segments = segments.ToArray();
        long end = segments[^1].NextOffset;
        long start = Math.Min(Math.Max(startCheckpoint, segments[0].BaseOffset), end);
        _logEndOffset = end;
        _logStartOffset = start;
        _recoveryPoint = Math.Min(recoveryPoint, end);
        _lastFlushMs = now.ToUnixTimeMilliseconds();
        // An epoch may start exactly at the log end (a leader that has not appended yet); later ones are stale.
        _epochs.TruncateFromEnd(end + 1);
        _epochs.TruncateFromStart(start);
        if (start != startCheckpoint)
        {
            WriteLogStartCheckpoint(start);
        }

        // Everything recovered is now consistent; make it durable before the marker goes.
        FlushHeld();
        if (clean)
        {
            File.Delete(marker);
        }

        LastRecovery = new LogRecoveryInfo(clean, scanned, truncated, rebuilt);
        LogOpened(_logger, Directory, clean, start, end, segments.Count, scanned, truncated);
    }

    private static bool TryParseBase(string path, out long baseOffset)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        baseOffset = 0;
        return name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);
    }

    // Durable: the file and then the directory are fsynced around the rename.
    private void WriteLogStartCheckpoint(long offset) =>
        CheckpointFile.Write(_directorySync, LogStartOffsetCheckpointFileName, [offset.ToString(CultureInfo.InvariantCulture)]);

    // Moving the recovery point forward is not fsynced (neither the file nor the directory): losing that only makes
    // the next recovery scan more. Moving it back (truncation) is, both. A damaged file is read as 0 (scan everything).
    private void WriteRecoveryPointCheckpoint(long offset, bool durable = false) =>
        CheckpointFile.Write(_directorySync, RecoveryPointCheckpointFileName, [offset.ToString(CultureInfo.InvariantCulture)], durable);

    private void ThrowIfUnwritable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            throw new LogWriteFailedException(Directory, failure);
        }
    }

    private LogWriteFailedException Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        LogWriteFailed(_logger, e, Directory);
        return new LogWriteFailedException(Directory, Volatile.Read(ref _failure)!);
    }

    private void Close(bool clean)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _flushGate.Wait();
        _lock.EnterWriteLock();
        try
        {
            LogSegment[] segments = _segments;
            if (clean && _failure is null)
            {
                try
                {
                    segments[^1].OnBecomeInactive();
                    foreach (LogSegment s in segments)
                    {
                        if (s.IsDirty)
                        {
                            s.Flush();
                        }
                    }

                    _directorySync.SyncIfChanged();
                    WriteRecoveryPointCheckpoint(LogEndOffset);
                    File.WriteAllBytes(Path.Combine(Directory, CleanShutdownFileName), []);
                }
                catch (Exception e)
                {
                    LogCloseFailed(_logger, e, Directory);
                }
            }

            foreach (LogSegment s in segments)
            {
                s.Dispose();
            }

            _lockHandle?.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
            _flushGate.Release();
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Opened log {Directory}: clean shutdown {Clean}, offsets [{Start}, {End}), {Segments} segments, {Scanned} scanned, {Truncated} bytes truncated")]
    private static partial void LogOpened(ILogger logger, string directory, bool clean, long start, long end, int segments, int scanned, long truncated);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Log {Directory}: segment {BaseOffset} had a torn or corrupt tail; cut {Bytes} bytes, the log now ends at offset {End}")]
    private static partial void LogTornTail(ILogger logger, string directory, long baseOffset, long bytes, long end);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Log {Directory}: the index of segment {BaseOffset} was missing or damaged and is rebuilt")]
    private static partial void LogIndexRebuilt(ILogger logger, string directory, long baseOffset);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Log {Directory}: rolled a new segment at offset {BaseOffset}")]
    private static partial void LogRolled(ILogger logger, string directory, long baseOffset);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Critical, Message = "Log {Directory} failed a write and refuses further writes until reopened")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Log {Directory}: retention deleted {Count} segments; log start offset is now {Start}")]
    private static partial void LogRetentionDeleted(ILogger logger, string directory, int count, long start);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information, Message = "Log {Directory}: truncated to offset {Offset} (end was {Before}, now {After})")]
    private static partial void LogTruncated(ILogger logger, string directory, long offset, long before, long after);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Error, Message = "Log {Directory}: clean close failed; the next open will recover")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string directory);
}
