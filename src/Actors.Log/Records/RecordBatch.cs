using System.Buffers.Binary;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Log.Records;

/// <summary>Why a byte range is not a valid record batch.</summary>
public enum RecordBatchError
{
    /// <summary>The batch is valid.</summary>
    None,

    /// <summary>Fewer bytes than the 61-byte batch header, or than the batch length announces (a torn batch).</summary>
    Truncated,

    /// <summary>The batch length field is below the header size or otherwise impossible.</summary>
    InvalidLength,

    /// <summary>The magic byte is not 2.</summary>
    UnsupportedMagic,

    /// <summary>The stored CRC-32C does not match the bytes.</summary>
    CorruptCrc,

    /// <summary>The record count or last offset delta is negative or inconsistent.</summary>
    InvalidRecordCount,

    /// <summary>The batch exceeds the size limit given to the validator.</summary>
    TooLarge,
}

/// <summary>A read-only view of one record batch (magic 2) over its bytes; nothing is copied or decoded
/// until records are enumerated.</summary>
/// <remarks>Construct with <see cref="RecordBatchReader.TryReadNext"/> or <see cref="RecordBatch(ReadOnlySpan{byte})"/>,
/// then call <see cref="Validate"/> before trusting the records. Header accessors require at least
/// <see cref="RecordBatchLayout.HeaderSize"/> bytes.</remarks>
public readonly ref struct RecordBatch
{
    /// <summary>Wraps the batch at the start of <paramref name="bytes"/>; <see cref="Bytes"/> is cut to the
    /// announced size when enough bytes are present.</summary>
    public RecordBatch(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= LogOverhead)
        {
            long size = (long)BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(BatchLengthOffset)) + LogOverhead;
            if (size >= LogOverhead && size <= bytes.Length)
            {
                bytes = bytes.Slice(0, (int)size);
            }
        }

        Bytes = bytes;
    }

    /// <summary>The batch bytes.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>Offset of the first record.</summary>
    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(Bytes);

    /// <summary>The batch length field (size minus 12).</summary>
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(Bytes.Slice(BatchLengthOffset));

    /// <summary>Total size in bytes, header included.</summary>
    public int SizeInBytes => BatchLength + LogOverhead;

    /// <summary>Epoch of the leader that appended the batch, -1 if unknown.</summary>
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(Bytes.Slice(PartitionLeaderEpochOffset));

    /// <summary>Format version; 2.</summary>
    public byte Magic => Bytes[MagicOffset];

    /// <summary>The stored CRC-32C.</summary>
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(Bytes.Slice(CrcOffset));

    /// <summary>Raw attributes.</summary>
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(Bytes.Slice(AttributesOffset));

    /// <summary>Compression codec (bits 0-2).</summary>
    public CompressionType Compression => (CompressionType)(Attributes & 0x07);

    /// <summary>Timestamp type (bit 3).</summary>
    public TimestampType TimestampType => (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;

    /// <summary>Part of a transaction (bit 4).</summary>
    public bool IsTransactional => (Attributes & 0x10) != 0;

    /// <summary>A control batch (bit 5): transaction markers.</summary>
    public bool IsControl => (Attributes & 0x20) != 0;

    /// <summary>Offset delta of the last record.</summary>
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(Bytes.Slice(LastOffsetDeltaOffset));

    /// <summary>Offset of the last record: <see cref="BaseOffset"/> + <see cref="LastOffsetDelta"/>.</summary>
    public long LastOffset => BaseOffset + LastOffsetDelta;

    /// <summary>Offset that follows this batch.</summary>
    public long NextOffset => LastOffset + 1;

    /// <summary>Timestamp of the first record; record timestamps are deltas from it.</summary>
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(Bytes.Slice(BaseTimestampOffset));

    /// <summary>Largest record timestamp, or the log append time for <see cref="TimestampType.LogAppendTime"/>.</summary>
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(Bytes.Slice(MaxTimestampOffset));

    /// <summary>Producer id, -1 for none.</summary>
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(Bytes.Slice(ProducerIdOffset));

    /// <summary>Producer epoch, -1 for none.</summary>
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(Bytes.Slice(ProducerEpochOffset));

    /// <summary>Sequence of the first record, -1 for none.</summary>
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(Bytes.Slice(BaseSequenceOffset));

    /// <summary>Number of records.</summary>
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(Bytes.Slice(RecordCountOffset));

    /// <summary>Computes the CRC-32C over attributes..end, the range the stored <see cref="Crc"/> covers.</summary>
    public uint ComputeCrc() => Crc32C.Compute(Bytes.Slice(AttributesOffset));

    /// <summary>Checks length fields, magic, record count and CRC without decoding records.</summary>
    /// <param name="maxBatchBytes">Largest accepted <see cref="SizeInBytes"/>.</param>
    public RecordBatchError Validate(int maxBatchBytes = int.MaxValue) => RecordBatchReader.Validate(Bytes, maxBatchBytes, out _);

    /// <summary>Enumerates the records. Only uncompressed batches can be enumerated.</summary>
    /// <exception cref="NotSupportedException">The batch is compressed.</exception>
    public RecordEnumerator GetEnumerator()
    {
        if (Compression != CompressionType.None)
        {
            throw new NotSupportedException($"Record batch at offset {BaseOffset} uses {Compression} compression; only uncompressed batches can be enumerated here.");
        }

        return new RecordEnumerator(Bytes.Slice(HeaderSize), BaseOffset, BaseTimestamp, RecordCount);
    }
}

/// <summary>Enumerates the records of an uncompressed batch.</summary>
public ref struct RecordEnumerator
{
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;
    private ReadOnlySpan<byte> _remaining;
    private int _left;

    internal RecordEnumerator(ReadOnlySpan<byte> records, long baseOffset, long baseTimestamp, int count)
    {
        _remaining = records;
        _baseOffset = baseOffset;
        _baseTimestamp = baseTimestamp;
        _left = count;
        Current = default;
    }

    /// <summary>The current record.</summary>
    public Record Current { get; private set; }

    /// <summary>Moves to the next record.</summary>
    /// <exception cref="InvalidDataException">A record's framing is malformed.</exception>
    public bool MoveNext()
    {
        if (_left <= 0)
        {
            return false;
        }

        if (!Varint.TryReadInt32(_remaining, out int length, out int n) || length < 0 || length > _remaining.Length - n)
        {
            throw new InvalidDataException($"Malformed record length at record {_left} from the end of the batch at offset {_baseOffset}.");
        }

        ReadOnlySpan<byte> body = _remaining.Slice(n, length);
        _remaining = _remaining.Slice(n + length);
        _left--;
        Current = Record.Parse(body, _baseOffset, _baseTimestamp);
        return true;
    }
}

/// <summary>One record inside an uncompressed batch; spans point into the batch bytes.</summary>
public readonly ref struct Record
{
    private readonly ReadOnlySpan<byte> _headers;

    private Record(long offset, long timestamp, byte attributes, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, int headerCount, ReadOnlySpan<byte> headers)
    {
        Offset = offset;
        Timestamp = timestamp;
        Attributes = attributes;
        Key = key;
        KeyIsNull = keyIsNull;
        Value = value;
        ValueIsNull = valueIsNull;
        HeaderCount = headerCount;
        _headers = headers;
    }

    /// <summary>Absolute offset: batch base offset + offset delta.</summary>
    public long Offset { get; }

    /// <summary>Absolute timestamp: batch base timestamp + timestamp delta.</summary>
    public long Timestamp { get; }

    /// <summary>Record attributes (unused by Kafka, 0).</summary>
    public byte Attributes { get; }

    /// <summary>Key bytes; empty when <see cref="KeyIsNull"/>.</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>True when the key is null (length -1).</summary>
    public bool KeyIsNull { get; }

    /// <summary>Value bytes; empty when <see cref="ValueIsNull"/>.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>True when the value is null (a tombstone).</summary>
    public bool ValueIsNull { get; }

    /// <summary>Number of headers.</summary>
    public int HeaderCount { get; }

    /// <summary>Enumerates the headers.</summary>
    public HeaderEnumerator Headers => new(_headers, HeaderCount);

    internal static Record Parse(ReadOnlySpan<byte> body, long baseOffset, long baseTimestamp)
    {
        if (body.Length < 1)
        {
            throw Malformed("attributes", baseOffset);
        }

        byte attributes = body[0];
        int p = 1;
        if (!Varint.TryReadInt64(body.Slice(p), out long timestampDelta, out int n))
        {
            throw Malformed("timestamp delta", baseOffset);
        }

        p += n;
        if (!Varint.TryReadInt32(body.Slice(p), out int offsetDelta, out n))
        {
            throw Malformed("offset delta", baseOffset);
        }

        p += n;
        ReadOnlySpan<byte> key = ReadBytes(body, ref p, out bool keyNull, "key", baseOffset);
        ReadOnlySpan<byte> value = ReadBytes(body, ref p, out bool valueNull, "value", baseOffset);
        if (!Varint.TryReadInt32(body.Slice(p), out int headerCount, out n) || headerCount < 0)
        {
            throw Malformed("header count", baseOffset);
        }

        p += n;
        return new Record(baseOffset + offsetDelta, baseTimestamp + timestampDelta, attributes, key, keyNull, value, valueNull, headerCount, body.Slice(p));
    }

    internal static ReadOnlySpan<byte> ReadBytes(ReadOnlySpan<byte> body, scoped ref int p, out bool isNull, string field, long baseOffset)
    {
        if (!Varint.TryReadInt32(body.Slice(p), out int length, out int n) || length < -1 || length > body.Length - p - n)
        {
            throw Malformed(field + " length", baseOffset);
        }

        p += n;
        isNull = length < 0;
        if (isNull)
        {
            return default;
        }

        ReadOnlySpan<byte> result = body.Slice(p, length);
        p += length;
        return result;
    }

    internal static InvalidDataException Malformed(string field, long baseOffset) =>
        new($"Malformed record {field} in the batch at offset {baseOffset}.");
}

/// <summary>One record header: a UTF-8 key and a nullable value.</summary>
public readonly ref struct RecordHeaderView
{
    internal RecordHeaderView(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool valueIsNull)
    {
        Key = key;
        Value = value;
        ValueIsNull = valueIsNull;
    }

    /// <summary>UTF-8 key bytes.</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>Value bytes; empty when <see cref="ValueIsNull"/>.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>True when the value is null.</summary>
    public bool ValueIsNull { get; }

    /// <summary>The key decoded as UTF-8.</summary>
    public string KeyString => System.Text.Encoding.UTF8.GetString(Key);
}

/// <summary>Enumerates a record's headers.</summary>
public ref struct HeaderEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private int _left;

    internal HeaderEnumerator(ReadOnlySpan<byte> headers, int count)
    {
        _remaining = headers;
        _left = count;
        Current = default;
    }

    /// <summary>The current header.</summary>
    public RecordHeaderView Current { get; private set; }

    /// <summary>Returns this enumerator (so headers work in foreach).</summary>
    public readonly HeaderEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next header.</summary>
    public bool MoveNext()
    {
        if (_left <= 0)
        {
            return false;
        }

        int p = 0;
        ReadOnlySpan<byte> key = Record.ReadBytes(_remaining, ref p, out bool keyNull, "header key", -1);
        if (keyNull)
        {
            throw new InvalidDataException("Malformed record header: a header key is null.");
        }

        ReadOnlySpan<byte> value = Record.ReadBytes(_remaining, ref p, out bool valueNull, "header value", -1);
        _remaining = _remaining.Slice(p);
        _left--;
        Current = new RecordHeaderView(key, value, valueNull);
        return true;
    }
}
