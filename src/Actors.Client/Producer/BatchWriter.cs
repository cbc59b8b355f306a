using System.Buffers.Binary;
using System.Text;
using Actors.Log.Records;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Client;

/// <summary>
/// One uncompressed record batch (magic 2, Kafka's layout) written in place: records are encoded straight after room
/// left for the batch header, and <see cref="Seal"/> fills in the header and CRC-32C around them, so the batch is sent
/// from the buffer it was built in, with no copy.
/// </summary>
/// <remarks>Not thread-safe (the partition sender appends under its lock and seals from its loop).</remarks>
internal sealed class BatchWriter(int capacity)
{
    // Not zeroed: every byte sent is written first (records as added, the header at Seal).
    private byte[] buffer = GC.AllocateUninitializedArray<byte>(Math.Max(HeaderSize + 64, capacity));
    private int length = HeaderSize;
    private int count;
    private long baseTimestamp = -1;
    private long maxTimestamp = -1;
    private bool sealedOnce;

    /// <summary>Records added so far.</summary>
    public int Count => count;

    /// <summary>Bytes of the whole batch, header included.</summary>
    public int SizeInBytes => length;

    public long ProducerId { get; set; } = NoProducerValue;

    public short ProducerEpoch { get; set; } = NoProducerValue;

    public int BaseSequence { get; set; } = NoProducerValue;

    /// <summary>The encoded records (the part after the header).</summary>
    public ReadOnlySpan<byte> Records => buffer.AsSpan(HeaderSize, length - HeaderSize);

    /// <summary>Adds a record; a null key or value is stored as length −1.</summary>
    public void Add(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers)
    {
        if (count == 0)
        {
            baseTimestamp = timestamp;
        }

        var timestampDelta = timestamp - baseTimestamp;
        var headerCount = headers?.Count ?? 0;
        var bodySize = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(count)
            + FieldSize(key?.Length ?? -1) + FieldSize(value?.Length ?? -1) + Varint.SizeOf(headerCount);
        for (var i = 0; i < headerCount; i++)
        {
            var h = headers![i];
            ArgumentNullException.ThrowIfNull(h.Key, "header key");
            bodySize += FieldSize(Encoding.UTF8.GetByteCount(h.Key)) + FieldSize(h.Value?.Length ?? -1);
        }

        var total = Varint.SizeOf(bodySize) + bodySize;
        if ((long)length + total > int.MaxValue - 64)
        {
            throw new InvalidOperationException("The record batch would exceed 2 GiB.");
        }

        if (length + total > buffer.Length)
        {
            Array.Resize(ref buffer, (int)Math.Min(Math.Max((long)buffer.Length * 2, length + total), int.MaxValue - 64));
        }

        var d = buffer.AsSpan(length, total);
        var p = Varint.Write(d, bodySize);
        d[p++] = 0; // record attributes: unused
        p += Varint.Write(d[p..], timestampDelta);
        p += Varint.Write(d[p..], count);
        p += Field(d[p..], key);
        p += Field(d[p..], value);
        p += Varint.Write(d[p..], headerCount);
        for (var i = 0; i < headerCount; i++)
        {
            var h = headers![i];
            p += Varint.Write(d[p..], Encoding.UTF8.GetByteCount(h.Key));
            p += Encoding.UTF8.GetBytes(h.Key, d[p..]);
            p += Field(d[p..], h.Value);
        }

        length += p;
        count++;
        maxTimestamp = Math.Max(maxTimestamp, timestamp);
    }

    /// <summary>Writes the header (with the current producer id, epoch and base sequence) and the CRC; returns the batch.
    /// Sealing again (new sequence numbers) first moves the batch to a new buffer, so bytes handed out before never
    /// change under a call that may still be sending them.</summary>
    public ReadOnlyMemory<byte> Seal()
    {
        if (sealedOnce)
        {
            buffer = buffer.AsSpan(0, length).ToArray();
        }

        sealedOnce = true;
        var b = buffer.AsSpan(0, length);
        BinaryPrimitives.WriteInt64BigEndian(b[BaseOffsetOffset..], 0);
        BinaryPrimitives.WriteInt32BigEndian(b[BatchLengthOffset..], length - LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[PartitionLeaderEpochOffset..], -1);
        b[MagicOffset] = CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(b[AttributesOffset..], (short)CompressionType.None);
        BinaryPrimitives.WriteInt32BigEndian(b[LastOffsetDeltaOffset..], Math.Max(0, count - 1));
        BinaryPrimitives.WriteInt64BigEndian(b[BaseTimestampOffset..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[MaxTimestampOffset..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[ProducerIdOffset..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(b[ProducerEpochOffset..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b[BaseSequenceOffset..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordCountOffset..], count);
        BinaryPrimitives.WriteUInt32BigEndian(b[CrcOffset..], Crc32C.Compute(b[AttributesOffset..]));
        return buffer.AsMemory(0, length);
    }

    private static int FieldSize(int size) => Varint.SizeOf(size) + Math.Max(0, size);

    private static int Field(Span<byte> d, byte[]? bytes)
    {
        if (bytes is null)
        {
            return Varint.Write(d, -1);
        }

        var n = Varint.Write(d, bytes.Length);
        bytes.CopyTo(d[n..]);
        return n + bytes.Length;
    }
}
