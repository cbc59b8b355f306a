using System.Buffers.Binary;
using System.Text;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Log.Records;

/// <summary>A record header for <see cref="RecordBatchBuilder"/>: a string key and a nullable value.</summary>
/// <param name="Key">Header key (UTF-8 encoded on the wire, never null).</param>
/// <param name="Value">Header value; null is stored as length -1.</param>
public readonly record struct RecordHeader(string Key, byte[]? Value);

/// <summary>Builds one uncompressed record batch, magic 2, in Kafka's byte layout.</summary>
/// <remarks>
/// Records are encoded as they are added; <see cref="Build"/> or <see cref="WriteTo"/> writes the header and the
/// CRC-32C. The first record's timestamp becomes the base timestamp; offset deltas are 0, 1, 2, ... in order.
/// Not thread-safe; reuse with <see cref="Clear"/>.
/// </remarks>
public sealed class RecordBatchBuilder
{
    private byte[] _records;
    private int _length;
    private int _count;
    private long _baseTimestamp = -1;
    private long _maxTimestamp = -1;

    /// <summary>Creates a builder whose record buffer starts at <paramref name="initialCapacity"/> bytes.</summary>
    public RecordBatchBuilder(int initialCapacity = 256)
    {
        _records = new byte[Math.Max(16, initialCapacity)];
    }

    /// <summary>Base offset written into the batch (a leader overwrites it on append). Default 0.</summary>
    public long BaseOffset { get; set; }

    /// <summary>Partition leader epoch written into the batch. Default -1.</summary>
    public int PartitionLeaderEpoch { get; set; } = -1;

    /// <summary>Producer id, -1 for none.</summary>
    public long ProducerId { get; set; } = NoProducerValue;

    /// <summary>Producer epoch, -1 for none.</summary>
    public short ProducerEpoch { get; set; } = NoProducerValue;

    /// <summary>Sequence number of the first record, -1 for none.</summary>
    public int BaseSequence { get; set; } = NoProducerValue;

    /// <summary>Sets attribute bit 4.</summary>
    public bool IsTransactional { get; set; }

    /// <summary>Sets attribute bit 5.</summary>
    public bool IsControl { get; set; }

    /// <summary>Timestamp type (attribute bit 3).</summary>
    public TimestampType TimestampType { get; set; }

    /// <summary>Records added so far.</summary>
    public int Count => _count;

    /// <summary>Size of the batch <see cref="Build"/> would produce.</summary>
    public int SizeInBytes => HeaderSize + _length;

    /// <summary>Adds a record; null key or value are stored as length -1.</summary>
    public RecordBatchBuilder Add(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers = null) =>
        Add(timestamp, key, key is null, value, value is null, headers);

    /// <summary>Adds a record from spans; the flags say whether key or value are null.</summary>
    public RecordBatchBuilder Add(long timestamp, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, IReadOnlyList<RecordHeader>? headers = null)
    {
        if (_count == 0)
        {
            _baseTimestamp = timestamp;
        }

        long timestampDelta = timestamp - _baseTimestamp;
        int offsetDelta = _count;
        int headerCount = headers?.Count ?? 0;

        int bodySize = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(offsetDelta)
            + BytesFieldSize(keyIsNull ? -1 : key.Length)
            + BytesFieldSize(valueIsNull ? -1 : value.Length)
            + Varint.SizeOf(headerCount);
        for (int i = 0; i < headerCount; i++)
        {
            RecordHeader h = headers![i];
            ArgumentNullException.ThrowIfNull(h.Key, "header key");
            bodySize += BytesFieldSize(Encoding.UTF8.GetByteCount(h.Key)) + BytesFieldSize(h.Value?.Length ?? -1);
        }

        int total = Varint.SizeOf(bodySize) + bodySize;
        if ((long)HeaderSize + _length + total > int.MaxValue - 64)
        {
            throw new InvalidOperationException("The record batch would exceed 2 GiB.");
        }

        EnsureCapacity(_length + total);
        Span<byte> d = _records.AsSpan(_length, total);
        int p = Varint.Write(d, bodySize);
        d[p++] = 0; // record attributes: unused
        p += Varint.Write(d.Slice(p), timestampDelta);
        p += Varint.Write(d.Slice(p), offsetDelta);
        p += WriteBytes(d.Slice(p), key, keyIsNull);
        p += WriteBytes(d.Slice(p), value, valueIsNull);
        p += Varint.Write(d.Slice(p), headerCount);
        for (int i = 0; i < headerCount; i++)
        {
            RecordHeader h = headers![i];
            int keyBytes = Encoding.UTF8.GetByteCount(h.Key);
            p += Varint.Write(d.Slice(p), keyBytes);
            p += Encoding.UTF8.GetBytes(h.Key, d.Slice(p));
            p += WriteBytes(d.Slice(p), h.Value, h.Value is null);
        }

        _length += p;
        _count++;
        if (timestamp > _maxTimestamp)
        {
            _maxTimestamp = timestamp;
        }

        return this;
    }

    /// <summary>Writes the batch into <paramref name="destination"/> and returns its size.</summary>
    /// <exception cref="ArgumentException">The destination is smaller than <see cref="SizeInBytes"/>.</exception>
    public int WriteTo(Span<byte> destination)
    {
        int size = SizeInBytes;
        if (destination.Length < size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the batch needs {size}.", nameof(destination));
        }

        Span<byte> b = destination.Slice(0, size);
        short attributes = (short)((int)CompressionType.None
            | (TimestampType == TimestampType.LogAppendTime ? 0x08 : 0)
            | (IsTransactional ? 0x10 : 0)
            | (IsControl ? 0x20 : 0));
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(BaseOffsetOffset), BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(BatchLengthOffset), size - LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(PartitionLeaderEpochOffset), PartitionLeaderEpoch);
        b[MagicOffset] = CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(b.Slice(AttributesOffset), attributes);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(LastOffsetDeltaOffset), Math.Max(0, _count - 1));
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(BaseTimestampOffset), _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(MaxTimestampOffset), _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(ProducerIdOffset), ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(b.Slice(ProducerEpochOffset), ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(BaseSequenceOffset), BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(RecordCountOffset), _count);
        _records.AsSpan(0, _length).CopyTo(b.Slice(HeaderSize));
        BinaryPrimitives.WriteUInt32BigEndian(b.Slice(CrcOffset), Crc32C.Compute(b.Slice(AttributesOffset)));
        return size;
    }

    /// <summary>Returns the batch as a new array.</summary>
    public byte[] Build()
    {
        var result = new byte[SizeInBytes];
        WriteTo(result);
        return result;
    }

    /// <summary>Removes all records; header settings are kept.</summary>
    public void Clear()
    {
        _length = 0;
        _count = 0;
        _baseTimestamp = -1;
        _maxTimestamp = -1;
    }

    private static int BytesFieldSize(int length) => Varint.SizeOf(length) + Math.Max(0, length);

    private static int WriteBytes(Span<byte> d, ReadOnlySpan<byte> bytes, bool isNull)
    {
        if (isNull)
        {
            return Varint.Write(d, -1);
        }

        int n = Varint.Write(d, bytes.Length);
        bytes.CopyTo(d.Slice(n));
        return n + bytes.Length;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed > _records.Length)
        {
            Array.Resize(ref _records, (int)Math.Min(Math.Max((long)_records.Length * 2, needed), int.MaxValue - 64));
        }
    }
}
