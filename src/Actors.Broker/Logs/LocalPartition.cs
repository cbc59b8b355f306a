using System.Buffers.Binary;
using System.Globalization;
using Actors.Broker.Producers;
using Actors.Log;
using Actors.Log.Records;

namespace Actors.Broker.Logs;

/// <summary>
/// One silo's copy of one partition: its <see cref="PartitionLog"/>, the idempotent-producer state (rebuilt from
/// its newest snapshot and the log after it), the high watermark this silo knows (checkpointed in the partition
/// directory) and a signal that wakes long-polling fetches. Owned by the <see cref="LogManager"/>; the grain that
/// holds the role on this silo (the partition leader, or the replica following the leader) writes through it, so
/// leadership moves without moving files.
/// </summary>
/// <remarks>
/// Writes (appends, truncation) and the producer state take <c>writeLock</c> and carry the leader epoch of the
/// role that makes them: a write with an epoch older than the newest role claimed (<see cref="ClaimRole"/>) is
/// refused, so a deposed leader or a follower of an old leader cannot write after a newer role took over. Writers
/// come from several threads (the leader's produces, the follower's fetch loop, the log manager's retention loop),
/// so the lock, not a grain turn, serializes them. It is taken after the leader's <c>gate</c> and before the
/// log's own lock, never the other way round (docs/lock-ordering.md). Reads and the offset properties take no
/// lock here and are safe from any thread.
/// </remarks>
public sealed class LocalPartition : IDisposable
{
    /// <summary>The high-watermark checkpoint file in the partition directory.</summary>
    public const string HighWatermarkFileName = "high-watermark-checkpoint";

    /// <summary>Producer-state snapshot files: <c>&lt;20-digit offset&gt;.snapshot</c>.</summary>
    public const string ProducerSnapshotExtension = ".snapshot";

    private readonly object writeLock = new();
    private readonly TimeProvider time;
    private long lastSnapshotOffset = -1;
    private TaskCompletionSource changed = NewSignal();
    private long highWatermark;
    private int roleEpoch = -1;
    private bool disposed;

    internal LocalPartition(TopicPartition topicPartition, PartitionLog log, TimeProvider time)
    {
        TopicPartition = topicPartition;
        Log = log;
        this.time = time;
        highWatermark = Math.Min(ReadHighWatermarkCheckpoint(log.Directory), log.LogEndOffset);

        // The fence survives a restart: no role may claim an epoch older than the newest one the log holds, so a
        // silo restarted over a log that a newer leader wrote to cannot lead (or follow) an older epoch again.
        roleEpoch = Math.Max(-1, log.LatestEpoch);
        Metadata = PartitionMetadata.Read(log.Directory);
        RebuildProducerState();
    }

    /// <summary>The topic id and cluster id recorded in the partition directory (<see cref="PartitionMetadata"/>).</summary>
    public PartitionMetadata Metadata { get; private set; }

    public TopicPartition TopicPartition { get; }

    /// <summary>The log. Write to it only through this class.</summary>
    public PartitionLog Log { get; }

    /// <summary>Idempotence state; touch only under <c>writeLock</c>.</summary>
    public ProducerStateTable Producers { get; } = new();

    public long LogEndOffset => Log.LogEndOffset;

    public long LogStartOffset => Log.LogStartOffset;

    /// <summary>The high watermark as this silo knows it (the leader's own, or the last a follower learnt).</summary>
    public long HighWatermark => Volatile.Read(ref highWatermark);

    /// <summary>The newest leader epoch a role on this silo claimed.</summary>
    public int RoleEpoch => Volatile.Read(ref roleEpoch);

    /// <summary>A task that completes at the next append, truncation or high-watermark change.</summary>
    public Task Changed => Volatile.Read(ref changed).Task;

    /// <summary>Claims the partition for a role of leader epoch <paramref name="leaderEpoch"/>. Returns false when a
    /// newer epoch already holds it, or the log already holds a newer epoch (<see cref="PartitionLog.LatestEpoch"/>,
    /// which seeds the fence when the log is opened).</summary>
    public bool ClaimRole(int leaderEpoch)
    {
        lock (writeLock)
        {
            if (leaderEpoch < roleEpoch || leaderEpoch < Log.LatestEpoch)
            {
                return false;
            }

            roleEpoch = leaderEpoch;
            return true;
        }
    }

    /// <summary>Appends as leader for <paramref name="leaderEpoch"/>: validates every batch first (sizes, magic, record
    /// counts, CRC), then checks producer state, then writes. A batch that fails validation is refused before any of
    /// its header fields is believed, so a corrupt retry is never taken for a duplicate.</summary>
    /// <exception cref="BrokerException">NOT_LEADER_OR_FOLLOWER when a newer role holds the partition; CORRUPT_MESSAGE,
    /// MESSAGE_TOO_LARGE or KAFKA_STORAGE_ERROR from the log.</exception>
    public LeaderAppendResult AppendAsLeader(ReadOnlyMemory<byte> records, int leaderEpoch)
    {
        lock (writeLock)
        {
            EnsureRole(leaderEpoch);
            ValidatedBatches validated;
            try
            {
                validated = Log.ValidateAsLeader(records.Span);
            }
            catch (LogException e)
            {
                throw ToBrokerException(e);
            }

            var batches = DescribeBatches(validated.Bytes);

            // Idempotence: every batch of the request is checked, in order, before anything is written.
            var check = Producers.CheckRequest(batches, out var index);
            if (check.Outcome == ProducerCheckOutcome.Reject)
            {
                return new LeaderAppendResult(check.Error, check.Message, -1, -1, -1, SequenceGap: check.Gap);
            }

            if (check.Outcome == ProducerCheckOutcome.Duplicate)
            {
                var b = batches[index];
                return batches.Count == 1
                    ? new LeaderAppendResult(ErrorCode.None, null, check.Original.FirstOffset, check.Original.LastOffset, -1, Duplicate: true)
                    : new LeaderAppendResult(ErrorCode.DuplicateSequenceNumber,
                        $"Batch {index} of the request for {TopicPartition} repeats sequence {b.BaseSequence} of producer {b.ProducerId}; send duplicates alone.", -1, -1, -1);
            }

            LogAppendInfo info;
            try
            {
                info = Log.AppendAsLeader(validated, leaderEpoch);
            }
            catch (LogException e)
            {
                throw ToBrokerException(e);
            }

            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var offset = info.FirstOffset;
            foreach (var b in batches)
            {
                Producers.OnAppended(b.ProducerId, b.ProducerEpoch, b.BaseSequence, b.LastSequence, offset, offset + b.LastOffsetDelta, b.MaxTimestamp, now);
                offset += b.LastOffsetDelta + 1;
            }

            Signal();
            return new LeaderAppendResult(ErrorCode.None, null, info.FirstOffset, info.LastOffset, info.LogAppendTime);
        }
    }

    /// <summary>Appends batches fetched from the leader of <paramref name="leaderEpoch"/>, keeping their offsets.</summary>
    /// <exception cref="BrokerException">FENCED_LEADER_EPOCH when a newer role holds the partition, or a log error.</exception>
    public LogAppendInfo AppendAsFollower(ReadOnlySpan<byte> records, int leaderEpoch)
    {
        lock (writeLock)
        {
            EnsureRole(leaderEpoch);
            LogAppendInfo info;
            try
            {
                info = Log.AppendAsFollower(records);
            }
            catch (LogException e)
            {
                throw new BrokerException(e is LogWriteFailedException ? ErrorCode.KafkaStorageError : ErrorCode.CorruptMessage, $"{TopicPartition}: {e.Message}", e);
            }

            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var b in DescribeBatches(records))
            {
                Producers.OnAppended(b.ProducerId, b.ProducerEpoch, b.BaseSequence, b.LastSequence, b.BaseOffset, b.BaseOffset + b.LastOffsetDelta, b.MaxTimestamp, now);
            }

            Signal();
            return info;
        }
    }

    /// <summary>Cuts the log at <paramref name="offset"/> (a follower's divergent tail) and rebuilds producer state.</summary>
    public void TruncateTo(long offset, int leaderEpoch)
    {
        lock (writeLock)
        {
            EnsureRole(leaderEpoch);
            if (offset >= Log.LogEndOffset)
            {
                // No batch goes; only an epoch begun at the log end with no batch in it (see PartitionLog.TruncateTo).
                Log.TruncateTo(offset);
                return;
            }

            Log.TruncateTo(offset);
            if (HighWatermark > Log.LogEndOffset)
            {
                Volatile.Write(ref highWatermark, Log.LogEndOffset);
            }

            RebuildProducerState();
            Signal();
        }
    }

    /// <summary>Empties the log and restarts it at <paramref name="offset"/> (the leader's log start, when this
    /// follower's whole log lies below it), then rebuilds producer state.</summary>
    public void TruncateFullyAndStartAt(long offset, int leaderEpoch)
    {
        lock (writeLock)
        {
            EnsureRole(leaderEpoch);
            Log.TruncateFullyAndStartAt(offset);
            Volatile.Write(ref highWatermark, offset);
            RebuildProducerState();
            Signal();
        }
    }

    /// <summary>Forgets idempotent producers silent for longer than <paramref name="expirationMs"/>
    /// (producer.id.expiration.ms); returns how many were dropped.</summary>
    public int RemoveExpiredProducers(long expirationMs)
    {
        lock (writeLock)
        {
            return Producers.RemoveExpired(time.GetUtcNow().ToUnixTimeMilliseconds(), expirationMs);
        }
    }

    /// <summary>Records the first offset of a new leader epoch before the leader's first append.</summary>
    public void AssignLeaderEpoch(int leaderEpoch)
    {
        lock (writeLock)
        {
            EnsureRole(leaderEpoch);
            Log.AssignLeaderEpoch(leaderEpoch);
        }
    }

    /// <summary>Moves the known high watermark forward (never back, never past the log end) and wakes waiters.</summary>
    public void UpdateHighWatermark(long value)
    {
        var bounded = Math.Min(value, Log.LogEndOffset);
        long current;
        do
        {
            current = Volatile.Read(ref highWatermark);
            if (bounded <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref highWatermark, bounded, current) != current);
        Signal();
    }

    /// <summary>Writes the high watermark checkpoint (on clean close and periodically).</summary>
    public void CheckpointHighWatermark()
    {
        var path = Path.Combine(Log.Directory, HighWatermarkFileName);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, HighWatermark.ToString(CultureInfo.InvariantCulture));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Gives the log new settings in place (a topic config change): under the write lock, so an append
    /// validates and writes against one set of settings; reads and fetches in flight keep the same log.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the old settings stay.</exception>
    internal void UpdateConfig(LogConfig config)
    {
        lock (writeLock)
        {
            if (!disposed)
            {
                Log.UpdateConfig(config);
            }
        }
    }

    /// <summary>Records <paramref name="metadata"/> in the partition directory (<c>partition.metadata</c>).</summary>
    internal void WriteMetadata(PartitionMetadata metadata)
    {
        lock (writeLock)
        {
            if (disposed)
            {
                return;
            }

            metadata.Write(Log.Directory);
            Metadata = metadata;
        }
    }

    /// <summary>Closes the log cleanly and renames its directory to <paramref name="newDirectory"/>, keeping every
    /// file: a log that must not be served (a deleted topic's leftover, or a topic this silo cannot place) is kept
    /// for an operator to inspect or restore, never deleted.</summary>
    internal void CloseAndMoveTo(string newDirectory)
    {
        lock (writeLock)
        {
            if (!disposed)
            {
                try
                {
                    CheckpointHighWatermark();
                    WriteProducerSnapshot();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Best effort, as in Dispose: the log's own files are what matters.
                }

                disposed = true;
                Log.Dispose();
            }

            Directory.Move(Log.Directory, newDirectory);
        }

        Volatile.Read(ref changed).TrySetResult();
    }

    /// <summary>Rebuilds idempotence state: from the newest intact producer-state snapshot inside the log (snapshots
    /// past the log end, left by a truncation, or below the log start are deleted), then by replaying the batches
    /// after it; with no usable snapshot, from the whole log.</summary>
    public void RebuildProducerState()
    {
        lock (writeLock)
        {
            Producers.Clear();
            var offset = Log.LogStartOffset;
            var end = Log.LogEndOffset;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var loaded = false;
            lastSnapshotOffset = -1;
            foreach (var (snapshotOffset, path) in ProducerSnapshots().OrderByDescending(x => x.Offset))
            {
                if (snapshotOffset > end || snapshotOffset < Log.LogStartOffset)
                {
                    // Past the end (the log was cut since) or below the start (retention passed it).
                    DeleteQuietly(path);
                    continue;
                }

                if (loaded)
                {
                    continue;
                }

                try
                {
                    Producers.LoadSnapshot(File.ReadAllBytes(path));
                    offset = snapshotOffset;
                    lastSnapshotOffset = snapshotOffset;
                    loaded = true;
                }
                catch (Exception e) when (e is InvalidDataException or IOException)
                {
                    DeleteQuietly(path);
                }
            }

            var replayed = 0;
            while (offset < end)
            {
                using var read = Log.Read(offset, 1 << 20, long.MaxValue);
                if (read.Status != LogReadStatus.Ok || read.Length == 0)
                {
                    break;
                }

                foreach (var b in DescribeBatches(read.Records.Span))
                {
                    if (b.BaseOffset + b.LastOffsetDelta >= offset)
                    {
                        Producers.OnAppended(b.ProducerId, b.ProducerEpoch, b.BaseSequence, b.LastSequence, b.BaseOffset, b.BaseOffset + b.LastOffsetDelta, b.MaxTimestamp, now);
                        replayed++;
                    }
                }

                offset = read.NextOffset;
            }

            LastRebuildReplayedBatches = replayed;
        }
    }

    /// <summary>Batches the last <see cref="RebuildProducerState"/> read from the log (tests check that snapshots bound it).</summary>
    internal int LastRebuildReplayedBatches { get; private set; }

    /// <summary>Writes the idempotence state as of the log end to <c>&lt;20-digit offset&gt;.snapshot</c> (through a
    /// temporary file and a rename), unless one exists for that offset, and keeps only the two newest. A later
    /// rebuild then replays only what was appended after it. Called on close and from the retention loop.</summary>
    public void WriteProducerSnapshot()
    {
        lock (writeLock)
        {
            var end = Log.LogEndOffset;
            if (disposed || end == lastSnapshotOffset || Log.HasFailed)
            {
                return;
            }

            var path = Path.Combine(Log.Directory, end.ToString("D20", CultureInfo.InvariantCulture) + ProducerSnapshotExtension);
            var temporary = path + ".tmp";
            File.WriteAllBytes(temporary, Producers.ToSnapshot());
            File.Move(temporary, path, overwrite: true);
            lastSnapshotOffset = end;
            foreach (var (_, old) in ProducerSnapshots().OrderByDescending(x => x.Offset).Skip(2))
            {
                DeleteQuietly(old);
            }
        }
    }

    private IEnumerable<(long Offset, string Path)> ProducerSnapshots()
    {
        foreach (var path in Directory.EnumerateFiles(Log.Directory, "*" + ProducerSnapshotExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                yield return (offset, path);
            }
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover snapshot is ignored or deleted by the next rebuild.
        }
    }

    public void Dispose()
    {
        lock (writeLock)
        {
            if (disposed)
            {
                return;
            }

            try
            {
                CheckpointHighWatermark();
                WriteProducerSnapshot();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The log's own checkpoints still bound recovery; the high watermark is relearnt from the leader,
                // and producer state is rebuilt from the log.
            }

            disposed = true;

            Log.Dispose();
        }

        Volatile.Read(ref changed).TrySetResult();
    }

    /// <summary>Closes and removes the partition directory.</summary>
    internal void DeleteFiles()
    {
        lock (writeLock)
        {
            disposed = true;
            Log.Delete();
        }

        Volatile.Read(ref changed).TrySetResult();
    }

    /// <summary>Header fields of the batches in <paramref name="records"/>.</summary>
    public static List<BatchHeader> DescribeBatches(ReadOnlySpan<byte> records)
    {
        var list = new List<BatchHeader>();
        var reader = new RecordBatchReader(records);
        while (reader.TryReadNext(out var b))
        {
            list.Add(new BatchHeader(
                b.BaseOffset,
                b.LastOffsetDelta,
                b.ProducerId,
                b.ProducerEpoch,
                b.BaseSequence,
                b.ProducerId >= 0 ? ProducerStateTable.LastSequenceOf(b.BaseSequence, b.LastOffsetDelta + 1) : -1,
                b.MaxTimestamp,
                b.PartitionLeaderEpoch,
                b.SizeInBytes));
        }

        return list;
    }

    /// <summary>The broker error for a log's refusal of a leader append.</summary>
    private BrokerException ToBrokerException(LogException e) => e switch
    {
        StaleLeaderEpochException => new BrokerException(ErrorCode.FencedLeaderEpoch, $"{TopicPartition}: {e.Message}", e),
        RecordBatchTooLargeException tooLarge => new BrokerException(ErrorCode.MessageTooLarge,
            $"{TopicPartition}: a batch of {tooLarge.Size} bytes exceeds max.message.bytes = {tooLarge.Limit}.", e),
        LogWriteFailedException => new BrokerException(ErrorCode.KafkaStorageError, $"{TopicPartition}: {e.Message}", e),
        _ => new BrokerException(ErrorCode.CorruptMessage, $"{TopicPartition}: {e.Message}", e),
    };

    private void EnsureRole(int leaderEpoch)
    {
        if (disposed)
        {
            // The silo is stopping (or the partition was deleted here): the client retries on the next leader.
            throw new BrokerException(ErrorCode.NotLeaderOrFollower, $"{TopicPartition}: this silo's copy of the log is closed; retry on the current leader.");
        }

        if (leaderEpoch < roleEpoch)
        {
            throw new BrokerException(ErrorCode.FencedLeaderEpoch,
                $"{TopicPartition}: a write for leader epoch {leaderEpoch} was refused; this silo already serves leader epoch {roleEpoch}.");
        }
    }

    private void Signal()
    {
        var old = Interlocked.Exchange(ref changed, NewSignal());
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static long ReadHighWatermarkCheckpoint(string directory)
    {
        var path = Path.Combine(directory, HighWatermarkFileName);
        try
        {
            return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}

/// <summary>What a leader append did.</summary>
/// <param name="Error">None, or the idempotence error.</param>
/// <param name="Message">The error's message.</param>
/// <param name="FirstOffset">The first offset (of the original write for a duplicate).</param>
/// <param name="LastOffset">The last offset.</param>
/// <param name="LogAppendTime">The append time with LogAppendTime topics, else -1.</param>
/// <param name="Duplicate">True when the batch was a retry of one already written (nothing appended).</param>
/// <param name="SequenceGap">True for an OUT_OF_ORDER_SEQUENCE_NUMBER refusal of a batch that starts past its
/// producer's next sequence (<see cref="ProducerCheckResult.Gap"/>).</param>
public readonly record struct LeaderAppendResult(ErrorCode Error, string? Message, long FirstOffset, long LastOffset, long LogAppendTime, bool Duplicate = false,
    bool SequenceGap = false);

/// <summary>The header fields of one batch the broker needs.</summary>
public readonly record struct BatchHeader(
    long BaseOffset,
    int LastOffsetDelta,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    int LastSequence,
    long MaxTimestamp,
    int PartitionLeaderEpoch,
    int SizeInBytes);
