using System.Buffers.Binary;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Log.Records;

/// <summary>Walks a buffer of concatenated record batches (a log file region or a fetch response).</summary>
/// <remarks>A trailing partial batch is not returned: <see cref="TryReadNext"/> stops and
/// <see cref="Remaining"/> holds the partial bytes, as Kafka clients do with fetch responses cut at a byte limit.</remarks>
public ref struct RecordBatchReader
{
    private ReadOnlySpan<byte> _remaining;

    /// <summary>Reads batches from <paramref name="buffer"/>.</summary>
    public RecordBatchReader(ReadOnlySpan<byte> buffer)
    {
        _remaining = buffer;
        Position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public int Position { get; private set; }

    /// <summary>The bytes not yet consumed.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _remaining;

    /// <summary>Returns the next whole batch (not validated), or false at the end or at a partial batch.</summary>
    public bool TryReadNext(out RecordBatch batch)
    {
        if (_remaining.Length < LogOverhead)
        {
            batch = default;
            return false;
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(_remaining.Slice(BatchLengthOffset));
        if (length < MinBatchLength || length > _remaining.Length - LogOverhead)
        {
            batch = default;
            return false;
        }

        int size = length + LogOverhead;
        batch = new RecordBatch(_remaining.Slice(0, size));
        _remaining = _remaining.Slice(size);
        Position += size;
        return true;
    }

    /// <summary>Validates the batch at the start of <paramref name="bytes"/>: a complete header, a batch
    /// length that fits the bytes given, magic 2, a consistent record count and last offset delta, the size
    /// limit and the CRC-32C. Records are not decoded.</summary>
    /// <param name="bytes">Bytes starting with a batch (more may follow).</param>
    /// <param name="maxBatchBytes">Largest accepted total batch size.</param>
    /// <param name="size">The batch's total size when the length field is usable, else 0.</param>
    public static RecordBatchError Validate(ReadOnlySpan<byte> bytes, int maxBatchBytes, out int size)
    {
        size = 0;
        if (bytes.Length < LogOverhead)
        {
            return RecordBatchError.Truncated;
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(BatchLengthOffset));
        if (length < MinBatchLength || length > int.MaxValue - LogOverhead)
        {
            return RecordBatchError.InvalidLength;
        }

        if (length > bytes.Length - LogOverhead)
        {
            // Check the magic first when we can so a foreign format is reported as such, not as torn.
            if (bytes.Length > MagicOffset && bytes[MagicOffset] != CurrentMagic)
            {
                return RecordBatchError.UnsupportedMagic;
            }

            return RecordBatchError.Truncated;
        }

        size = length + LogOverhead;
        if (bytes[MagicOffset] != CurrentMagic)
        {
            return RecordBatchError.UnsupportedMagic;
        }

        if (size > maxBatchBytes)
        {
            return RecordBatchError.TooLarge;
        }

        int lastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(LastOffsetDeltaOffset));
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(RecordCountOffset));
        if (lastOffsetDelta < 0 || count < 0 || (count > 0 && count > (long)lastOffsetDelta + 1))
        {
            return RecordBatchError.InvalidRecordCount;
        }

        uint stored = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(CrcOffset));
        if (Crc32C.Compute(bytes.Slice(AttributesOffset, size - AttributesOffset)) != stored)
        {
            return RecordBatchError.CorruptCrc;
        }

        return RecordBatchError.None;
    }
}
