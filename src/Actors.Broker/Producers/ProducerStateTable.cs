using System.Buffers.Binary;
using Actors.Log.Records;

namespace Actors.Broker.Producers;

/// <summary>One appended batch of an idempotent producer, as remembered for duplicate detection.</summary>
public readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset, long MaxTimestamp);

/// <summary>What to do with an incoming batch.</summary>
public enum ProducerCheckOutcome
{
    /// <summary>Append it.</summary>
    Append,

    /// <summary>Already appended: answer with the original offsets, append nothing.</summary>
    Duplicate,

    /// <summary>Refuse it with <see cref="ProducerCheckResult.Error"/>.</summary>
    Reject,
}

/// <summary>The verdict on one batch. <paramref name="Gap"/> marks an OUT_OF_ORDER_SEQUENCE_NUMBER refusal of a batch
/// that starts past the producer's next sequence (in its current epoch, or a new epoch not starting at 0): the batches
/// between may still be on their way to the leader, and the batch fits once they are appended.</summary>
public readonly record struct ProducerCheckResult(ProducerCheckOutcome Outcome, ErrorCode Error, string? Message, ProducerBatch Original, bool Gap = false)
{
    public static ProducerCheckResult Append { get; } = new(ProducerCheckOutcome.Append, ErrorCode.None, null, default);
}

/// <summary>
/// Idempotent-producer state of one partition (Kafka's ProducerStateManager, without transactions): per producer
/// id, its current epoch and its last <see cref="MaxBatchesPerProducer"/> batches. A batch whose sequences
/// match a remembered one is a duplicate (answered with the original offsets); a batch that does not follow the
/// last sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH; a newer epoch must
/// start at sequence 0. The state is rebuilt by replaying the log's batches through <see cref="OnAppended"/>.
/// </summary>
/// <remarks>Not thread-safe: <see cref="Actors.Broker.Logs.LocalPartition"/> touches it only under its <c>writeLock</c>
/// (docs/lock-ordering.md). Bounded: entries of producers silent for longer than the expiration are dropped by
/// <see cref="RemoveExpired"/>.</remarks>
public sealed class ProducerStateTable
{
    /// <summary>Kafka remembers the last five batches per producer (max.in.flight.requests.per.connection ≤ 5).</summary>
    public const int MaxBatchesPerProducer = 5;

    /// <summary>Kafka's "no producer id".</summary>
    public const long NoProducerId = -1;

    private readonly Dictionary<long, Entry> entries = new();

    /// <summary>How many producers are remembered.</summary>
    public int Count => entries.Count;

    /// <summary>The last sequence of a batch of <paramref name="recordCount"/> records starting at <paramref name="firstSequence"/>
    /// (sequences wrap from int.MaxValue to 0).</summary>
    public static int LastSequenceOf(int firstSequence, int recordCount)
    {
        var last = (long)firstSequence + recordCount - 1;
        return (int)(last > int.MaxValue ? last - int.MaxValue - 1 : last);
    }

    /// <summary>Decides whether a batch from a client may be appended.</summary>
    public ProducerCheckResult Check(long producerId, short producerEpoch, int firstSequence, int lastSequence)
    {
        if (producerId < 0)
        {
            return ProducerCheckResult.Append;
        }

        if (!entries.TryGetValue(producerId, out var entry))
        {
            // Unknown producer (new, or its state expired): any sequence is accepted, as in Kafka.
            return ProducerCheckResult.Append;
        }

        if (producerEpoch < entry.Epoch)
        {
            return new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.InvalidProducerEpoch,
                $"Producer {producerId} has epoch {producerEpoch}, older than the current epoch {entry.Epoch}: a newer producer with the same id has taken over.",
                default);
        }

        if (producerEpoch > entry.Epoch)
        {
            return firstSequence == 0
                ? ProducerCheckResult.Append
                : new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.OutOfOrderSequenceNumber,
                    $"Producer {producerId} began epoch {producerEpoch} at sequence {firstSequence}; a new epoch starts at 0.",
                    default, Gap: firstSequence > 0);
        }

        foreach (var batch in entry.Batches)
        {
            if (batch.FirstSequence == firstSequence && batch.LastSequence == lastSequence)
            {
                return new ProducerCheckResult(ProducerCheckOutcome.Duplicate, ErrorCode.None, null, batch);
            }
        }

        var lastAppended = entry.Batches.Count > 0 ? entry.Batches.Last!.Value.LastSequence : -1;
        if (entry.Batches.Count == 0 || InSequence(lastAppended, firstSequence))
        {
            return ProducerCheckResult.Append;
        }

        return new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.OutOfOrderSequenceNumber,
            $"Out of order sequence for producer {producerId} epoch {producerEpoch}: got {firstSequence}, expected {NextSequence(lastAppended)}.",
            default, Gap: IsAhead(NextSequence(lastAppended), firstSequence));
    }

    /// <summary>Decides on every batch of one produce request for this partition, in order: each batch is checked
    /// against the state as it will be once the batches before it in the request are appended (a running expected
    /// sequence per producer), so two consecutive batches of one producer are both accepted. Returns the first
    /// verdict that is not <see cref="ProducerCheckOutcome.Append"/> with its batch's index in
    /// <paramref name="index"/>, or <see cref="ProducerCheckResult.Append"/> with <paramref name="index"/> −1.</summary>
    public ProducerCheckResult CheckRequest(IReadOnlyList<Actors.Broker.Logs.BatchHeader> batches, out int index)
    {
        ArgumentNullException.ThrowIfNull(batches);

        // Producers already met in this request: their epoch and the last sequence the request gives them so far.
        Dictionary<long, (short Epoch, int LastSequence)>? pending = null;
        for (index = 0; index < batches.Count; index++)
        {
            var b = batches[index];
            if (b.ProducerId < 0)
            {
                continue;
            }

            ProducerCheckResult verdict;
            if (pending is not null && pending.TryGetValue(b.ProducerId, out var earlier))
            {
                verdict = CheckAfter(b.ProducerId, earlier.Epoch, earlier.LastSequence, b.ProducerEpoch, b.BaseSequence);
            }
            else
            {
                verdict = Check(b.ProducerId, b.ProducerEpoch, b.BaseSequence, b.LastSequence);
            }

            if (verdict.Outcome != ProducerCheckOutcome.Append)
            {
                return verdict;
            }

            pending ??= [];
            pending[b.ProducerId] = (b.ProducerEpoch, b.LastSequence);
        }

        index = -1;
        return ProducerCheckResult.Append;
    }

    /// <summary>A batch that follows, in the same request, a batch of the same producer (epoch
    /// <paramref name="epoch"/>, last sequence <paramref name="lastSequence"/>) that will be appended before it.</summary>
    private static ProducerCheckResult CheckAfter(long producerId, short epoch, int lastSequence, short producerEpoch, int firstSequence)
    {
        if (producerEpoch < epoch)
        {
            return new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.InvalidProducerEpoch,
                $"Producer {producerId} has epoch {producerEpoch} after a batch of epoch {epoch} in the same request.", default);
        }

        if (producerEpoch > epoch)
        {
            return firstSequence == 0
                ? ProducerCheckResult.Append
                : new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.OutOfOrderSequenceNumber,
                    $"Producer {producerId} began epoch {producerEpoch} at sequence {firstSequence}; a new epoch starts at 0.", default);
        }

        return InSequence(lastSequence, firstSequence)
            ? ProducerCheckResult.Append
            : new ProducerCheckResult(ProducerCheckOutcome.Reject, ErrorCode.OutOfOrderSequenceNumber,
                $"Out of order sequence for producer {producerId} epoch {producerEpoch} within one request: got {firstSequence}, expected {NextSequence(lastSequence)}.",
                default);
    }

    /// <summary>Records an appended batch (after a client append, and when replaying the log on a new leader or a follower).</summary>
    public void OnAppended(long producerId, short producerEpoch, int firstSequence, int lastSequence, long firstOffset, long lastOffset, long maxTimestamp, long nowMs)
    {
        if (producerId < 0)
        {
            return;
        }

        if (!entries.TryGetValue(producerId, out var entry))
        {
            entry = new Entry { Epoch = producerEpoch };
            entries[producerId] = entry;
        }

        if (producerEpoch > entry.Epoch)
        {
            entry.Epoch = producerEpoch;
            entry.Batches.Clear();
        }
        else if (producerEpoch < entry.Epoch)
        {
            // A replayed batch from an older epoch says nothing about the current one.
            return;
        }

        entry.Batches.AddLast(new ProducerBatch(firstSequence, lastSequence, firstOffset, lastOffset, maxTimestamp));
        while (entry.Batches.Count > MaxBatchesPerProducer)
        {
            entry.Batches.RemoveFirst();
        }

        entry.LastUpdateMs = nowMs;
    }

    /// <summary>The current epoch of <paramref name="producerId"/>, or null when unknown.</summary>
    public short? EpochOf(long producerId) => entries.TryGetValue(producerId, out var e) ? e.Epoch : null;

    /// <summary>The remembered batches of <paramref name="producerId"/>, oldest first.</summary>
    public IReadOnlyList<ProducerBatch> BatchesOf(long producerId) =>
        entries.TryGetValue(producerId, out var e) ? e.Batches.ToArray() : [];

    /// <summary>Forgets producers silent since before <paramref name="nowMs"/> − <paramref name="expirationMs"/>; returns how many.</summary>
    public int RemoveExpired(long nowMs, long expirationMs)
    {
        var expired = entries.Where(kv => nowMs - kv.Value.LastUpdateMs > expirationMs).Select(kv => kv.Key).ToList();
        foreach (var id in expired)
        {
            entries.Remove(id);
        }

        return expired.Count;
    }

    /// <summary>Forgets everything (before a rebuild from the log, e.g. after truncation).</summary>
    public void Clear() => entries.Clear();

    private const int SnapshotMagic = 0x41505331; // "APS1"
    private const int SnapshotHeaderBytes = 12;
    private const int SnapshotEntryBytes = 8 + 2 + 8 + 4;
    private const int SnapshotBatchBytes = 4 + 4 + 8 + 8 + 8;

    /// <summary>The table as the bytes of a producer-state snapshot file (layout in docs/formats/log.md): big-endian,
    /// a magic, the CRC-32C of the rest, then every producer with its epoch, last update and remembered batches.</summary>
    public byte[] ToSnapshot()
    {
        var size = SnapshotHeaderBytes + entries.Values.Sum(e => SnapshotEntryBytes + (e.Batches.Count * SnapshotBatchBytes));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, SnapshotMagic);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], entries.Count);
        var at = SnapshotHeaderBytes;
        foreach (var (producerId, entry) in entries.OrderBy(kv => kv.Key))
        {
            BinaryPrimitives.WriteInt64BigEndian(span[at..], producerId);
            BinaryPrimitives.WriteInt16BigEndian(span[(at + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(at + 10)..], entry.LastUpdateMs);
            BinaryPrimitives.WriteInt32BigEndian(span[(at + 18)..], entry.Batches.Count);
            at += SnapshotEntryBytes;
            foreach (var b in entry.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(span[at..], b.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(at + 4)..], b.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(at + 8)..], b.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(at + 16)..], b.LastOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(at + 24)..], b.MaxTimestamp);
                at += SnapshotBatchBytes;
            }
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[4..], Crc32C.Compute(span[8..]));
        return bytes;
    }

    /// <summary>Replaces the table with the producers of a snapshot written by <see cref="ToSnapshot"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole, intact snapshot; the table is left empty.</exception>
    public void LoadSnapshot(ReadOnlySpan<byte> bytes)
    {
        entries.Clear();
        if (bytes.Length < SnapshotHeaderBytes || BinaryPrimitives.ReadInt32BigEndian(bytes) != SnapshotMagic)
        {
            throw new InvalidDataException("Not a producer-state snapshot (wrong length or magic).");
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]) != Crc32C.Compute(bytes[8..]))
        {
            throw new InvalidDataException("The producer-state snapshot fails its CRC-32C check.");
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(bytes[8..]);
        var at = SnapshotHeaderBytes;
        for (var i = 0; i < count; i++)
        {
            if (bytes.Length - at < SnapshotEntryBytes)
            {
                entries.Clear();
                throw new InvalidDataException($"The producer-state snapshot ends inside producer {i} of {count}.");
            }

            var producerId = BinaryPrimitives.ReadInt64BigEndian(bytes[at..]);
            var entry = new Entry
            {
                Epoch = BinaryPrimitives.ReadInt16BigEndian(bytes[(at + 8)..]),
                LastUpdateMs = BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 10)..]),
            };
            var batches = BinaryPrimitives.ReadInt32BigEndian(bytes[(at + 18)..]);
            at += SnapshotEntryBytes;
            if (batches < 0 || batches > MaxBatchesPerProducer || bytes.Length - at < batches * SnapshotBatchBytes)
            {
                entries.Clear();
                throw new InvalidDataException($"The producer-state snapshot holds {batches} batches for producer {producerId}.");
            }

            for (var j = 0; j < batches; j++)
            {
                entry.Batches.AddLast(new ProducerBatch(
                    BinaryPrimitives.ReadInt32BigEndian(bytes[at..]),
                    BinaryPrimitives.ReadInt32BigEndian(bytes[(at + 4)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 8)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 16)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 24)..])));
                at += SnapshotBatchBytes;
            }

            entries[producerId] = entry;
        }
    }

    private static bool InSequence(int last, int next) => next == NextSequence(last);

    /// <summary>Whether <paramref name="sequence"/> lies after <paramref name="expected"/> (sequences wrap from
    /// int.MaxValue to 0; "after" is the nearer half of the circle).</summary>
    private static bool IsAhead(int expected, int sequence)
    {
        var distance = ((long)sequence - expected + int.MaxValue + 1L) % (int.MaxValue + 1L);
        return distance > 0 && distance <= int.MaxValue / 2;
    }

    private static int NextSequence(int last) => last == int.MaxValue ? 0 : last + 1;

    private sealed class Entry
    {
        public short Epoch { get; set; }

        public LinkedList<ProducerBatch> Batches { get; } = new();

        public long LastUpdateMs { get; set; }
    }
}
