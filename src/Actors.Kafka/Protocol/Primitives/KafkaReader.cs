using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Actors.Kafka.Protocol;

/// <summary>
/// Reads Kafka's primitive types from one contiguous buffer (a whole frame, header or body), big-endian,
/// never past its end.
/// </summary>
/// <remarks>
/// Invariants:
/// 1. <see cref="Consumed"/> only grows and never exceeds the buffer's length; every read checks the bytes
///    it needs against <see cref="Remaining"/> first.
/// 2. A length or count is checked against what remains (each element takes at least one byte) and
///    against the caller's maximum before anything is allocated, so a huge count in a short frame fails at
///    once.
/// 3. Malformed input raises <see cref="KafkaProtocolException"/> naming the problem and its byte
///    position (<see cref="Position"/>, counted from the start of the outermost buffer).
/// A stack-only value: one reader, one thread.
/// </remarks>
public ref struct KafkaReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _basePosition;
    private int _consumed;

    /// <summary>A reader over <paramref name="buffer"/>.</summary>
    public KafkaReader(ReadOnlySpan<byte> buffer)
        : this(buffer, 0)
    {
    }

    /// <summary>A reader over a part of a larger buffer: <paramref name="basePosition"/> is where the part
    /// starts, so error positions are counted from the start of the larger buffer.</summary>
    public KafkaReader(ReadOnlySpan<byte> buffer, int basePosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(basePosition);
        _buffer = buffer;
        _basePosition = basePosition;
        _consumed = 0;
    }

    /// <summary>Bytes read so far from this reader's buffer.</summary>
    public readonly int Consumed => _consumed;

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _buffer.Length - _consumed;

    /// <summary>The position of the next byte, counted from the start of the outermost buffer.</summary>
    public readonly int Position => _basePosition + _consumed;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool End => _consumed == _buffer.Length;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> UnreadSpan => _buffer[_consumed..];

    public sbyte ReadInt8() => (sbyte)Take(1, "int8")[0];

    public bool ReadBoolean()
    {
        var position = Position;
        var value = Take(1, "boolean")[0];
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw new KafkaProtocolException($"A boolean must be 0 or 1, found {value}", position),
        };
    }

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2, "int16"));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2, "uint16"));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4, "int32"));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4, "uint32"));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8, "int64"));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8, "float64"));

    /// <summary>A uuid: 16 bytes, the most significant half first (RFC 4122 order), as
    /// <see cref="Guid"/>'s big-endian form.</summary>
    public Guid ReadUuid() => new(Take(16, "uuid"), bigEndian: true);

    /// <summary>An unsigned varint of at most 5 bytes (7 bits a byte, least significant group first).</summary>
    public uint ReadUnsignedVarint()
    {
        var position = Position;
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1, "unsigned varint")[0];
            if (shift == 28 && b > 0x0F)
            {
                throw new KafkaProtocolException("An unsigned varint does not fit in 32 bits", position);
            }

            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new KafkaProtocolException("An unsigned varint is longer than 5 bytes", position);
    }

    /// <summary>An unsigned varlong of at most 10 bytes.</summary>
    public ulong ReadUnsignedVarlong()
    {
        var position = Position;
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Take(1, "unsigned varlong")[0];
            if (shift == 63 && b > 0x01)
            {
                throw new KafkaProtocolException("A varlong does not fit in 64 bits", position);
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new KafkaProtocolException("A varlong is longer than 10 bytes", position);
    }

    /// <summary>A signed varint: zig-zag encoded, so small magnitudes of either sign take few bytes.</summary>
    public int ReadVarint()
    {
        var raw = ReadUnsignedVarint();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>A signed varlong (zig-zag).</summary>
    public long ReadVarlong()
    {
        var raw = ReadUnsignedVarlong();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A non-null string: int16 length then UTF-8 bytes.</summary>
    public string ReadString(string field) =>
        ReadNullableString(field) ?? throw new KafkaProtocolException($"{field} is null but may not be", Position - 2);

    /// <summary>A nullable string: int16 length (-1 for null) then UTF-8 bytes.</summary>
    public string? ReadNullableString(string field)
    {
        var position = Position;
        int length = ReadInt16();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new KafkaProtocolException($"{field} has length {length}", position);
        }

        return DecodeUtf8(CheckLength((uint)length, field, position), field, position);
    }

    /// <summary>A non-null compact string: unsigned varint length + 1, then UTF-8 bytes.</summary>
    public string ReadCompactString(string field)
    {
        var position = Position;
        return ReadCompactNullableString(field) ?? throw new KafkaProtocolException($"{field} is null but may not be", position);
    }

    /// <summary>A nullable compact string: unsigned varint length + 1 (0 for null), then UTF-8 bytes.</summary>
    public string? ReadCompactNullableString(string field)
    {
        var position = Position;
        var lengthPlusOne = ReadUnsignedVarint();
        if (lengthPlusOne == 0)
        {
            return null;
        }

        return DecodeUtf8(CheckLength(lengthPlusOne - 1, field, position), field, position);
    }

    /// <summary>A string, compact in flexible versions.</summary>
    public string ReadString(bool compact, string field) => compact ? ReadCompactString(field) : ReadString(field);

    /// <summary>A nullable string, compact in flexible versions.</summary>
    public string? ReadNullableString(bool compact, string field) =>
        compact ? ReadCompactNullableString(field) : ReadNullableString(field);

    /// <summary>Non-null bytes: int32 length then the bytes, as a view of the buffer.</summary>
    public ReadOnlySpan<byte> ReadBytes(string field)
    {
        var position = Position;
        var length = ReadInt32();
        if (length < 0)
        {
            throw new KafkaProtocolException($"{field} has length {length} but may not be null", position);
        }

        return Take(CheckLength((uint)length, field, position), field);
    }

    /// <summary>Nullable bytes: int32 length (-1 for null) then the bytes, copied.</summary>
    public byte[]? ReadNullableBytes(string field)
    {
        var position = Position;
        var length = ReadInt32();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new KafkaProtocolException($"{field} has length {length}", position);
        }

        return Take(CheckLength((uint)length, field, position), field).ToArray();
    }

    /// <summary>Non-null compact bytes: unsigned varint length + 1 then the bytes, as a view of the buffer.</summary>
    public ReadOnlySpan<byte> ReadCompactBytes(string field)
    {
        var position = Position;
        var lengthPlusOne = ReadUnsignedVarint();
        if (lengthPlusOne == 0)
        {
            throw new KafkaProtocolException($"{field} is null but may not be", position);
        }

        return Take(CheckLength(lengthPlusOne - 1, field, position), field);
    }

    /// <summary>Nullable compact bytes: unsigned varint length + 1 (0 for null), then the bytes, copied.</summary>
    public byte[]? ReadCompactNullableBytes(string field)
    {
        var position = Position;
        var lengthPlusOne = ReadUnsignedVarint();
        return lengthPlusOne == 0 ? null : Take(CheckLength(lengthPlusOne - 1, field, position), field).ToArray();
    }

    /// <summary>The element count of a non-null array (int32), checked against <paramref name="maxCount"/> and
    /// against what remains (each element takes at least <paramref name="minElementBytes"/> bytes).</summary>
    public int ReadArrayCount(string field, int maxCount, int minElementBytes = 1)
    {
        var position = Position;
        var count = ReadNullableArrayCount(field, maxCount, minElementBytes);
        return count >= 0 ? count : throw new KafkaProtocolException($"{field} is null but may not be", position);
    }

    /// <summary>The element count of a nullable array (int32; -1 for null), bounded as
    /// <see cref="ReadArrayCount"/>.</summary>
    public int ReadNullableArrayCount(string field, int maxCount, int minElementBytes = 1)
    {
        var position = Position;
        var count = ReadInt32();
        if (count == -1)
        {
            return -1;
        }

        if (count < 0)
        {
            throw new KafkaProtocolException($"{field} has element count {count}", position);
        }

        return CheckCount((uint)count, field, maxCount, minElementBytes, position);
    }

    /// <summary>The element count of a non-null compact array (unsigned varint count + 1).</summary>
    public int ReadCompactArrayCount(string field, int maxCount, int minElementBytes = 1)
    {
        var position = Position;
        var count = ReadCompactNullableArrayCount(field, maxCount, minElementBytes);
        return count >= 0 ? count : throw new KafkaProtocolException($"{field} is null but may not be", position);
    }

    /// <summary>The element count of a nullable compact array (unsigned varint count + 1; 0 for null, given as -1).</summary>
    public int ReadCompactNullableArrayCount(string field, int maxCount, int minElementBytes = 1)
    {
        var position = Position;
        var countPlusOne = ReadUnsignedVarint();
        return countPlusOne == 0 ? -1 : CheckCount(countPlusOne - 1, field, maxCount, minElementBytes, position);
    }

    /// <summary>An array count, compact in flexible versions.</summary>
    public int ReadArrayCount(bool compact, string field, int maxCount, int minElementBytes = 1) =>
        compact ? ReadCompactArrayCount(field, maxCount, minElementBytes) : ReadArrayCount(field, maxCount, minElementBytes);

    /// <summary>A nullable array count (-1 for null), compact in flexible versions.</summary>
    public int ReadNullableArrayCount(bool compact, string field, int maxCount, int minElementBytes = 1) =>
        compact
            ? ReadCompactNullableArrayCount(field, maxCount, minElementBytes)
            : ReadNullableArrayCount(field, maxCount, minElementBytes);

    /// <summary>A non-null array of int32 (e.g. broker ids), compact in flexible versions.</summary>
    public int[] ReadInt32Array(bool compact, string field, int maxCount)
    {
        var count = ReadArrayCount(compact, field, maxCount, minElementBytes: 4);
        var values = count == 0 ? [] : new int[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ReadInt32();
        }

        return values;
    }

    /// <summary>
    /// Reads the head of a tagged-field section: the number of fields that follow, each read with
    /// <see cref="ReadTaggedField"/>. The count is bounded by what remains (a field takes at least two bytes).
    /// </summary>
    public int ReadTaggedFieldCount()
    {
        var position = Position;
        var count = ReadUnsignedVarint();
        return CheckCount(count, "tagged fields", TaggedFields.CountMax, minElementBytes: 2, position);
    }

    /// <summary>
    /// Reads one tagged field: its tag and a view of its bytes (the caller decodes the tags it knows, with a
    /// <see cref="KafkaReader"/> over <see cref="TaggedField.Data"/>, and ignores the rest). Tags must rise
    /// strictly; pass -1 as <paramref name="previousTag"/> for the first.
    /// </summary>
    public TaggedField ReadTaggedField(int previousTag)
    {
        var position = Position;
        var tag = ReadUnsignedVarint();
        if (tag > int.MaxValue || (int)tag <= previousTag)
        {
            throw new KafkaProtocolException($"Tag {tag} does not follow tag {previousTag} in ascending order", position);
        }

        var sizePosition = Position;
        var size = CheckLength(ReadUnsignedVarint(), $"tagged field {tag}", sizePosition);
        var dataPosition = Position;
        return new TaggedField((int)tag, Take(size, $"tagged field {tag}"), dataPosition);
    }

    /// <summary>Reads a tagged-field section whose tags this version does not define: every field is skipped.</summary>
    public void SkipTaggedFields()
    {
        var count = ReadTaggedFieldCount();
        var previous = -1;
        for (var i = 0; i < count; i++)
        {
            previous = ReadTaggedField(previous).Tag;
        }
    }

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    public void Skip(int count, string field)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Take(count, field);
    }

    /// <summary>Fails unless every byte was read: a body with bytes left over is malformed.</summary>
    public readonly void EnsureEnd(string what)
    {
        if (!End)
        {
            throw new KafkaProtocolException($"{what} has {Remaining} bytes left over", Position);
        }
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
        {
            ThrowTruncated(what, count);
        }

        var span = _buffer.Slice(_consumed, count);
        _consumed += count;
        return span;
    }

    private string DecodeUtf8(int length, string field, int position)
    {
        var bytes = Take(length, field);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new KafkaProtocolException($"{field} is not valid UTF-8: {e.Message}", position, e);
        }
    }

    private readonly int CheckLength(uint length, string field, int position)
    {
        if (length > (uint)Remaining)
        {
            throw new KafkaProtocolException($"{field} has length {length} but only {Remaining} bytes remain", position);
        }

        return (int)length;
    }

    private readonly int CheckCount(uint count, string field, int maxCount, int minElementBytes, int position)
    {
        if (count > (uint)maxCount)
        {
            throw new KafkaProtocolException($"{field} has {count} elements, more than the {maxCount} allowed", position);
        }

        if (count > (uint)(Remaining / Math.Max(1, minElementBytes)))
        {
            throw new KafkaProtocolException(
                $"{field} has {count} elements but only {Remaining} bytes remain (each takes at least {minElementBytes})", position);
        }

        return (int)count;
    }

    [DoesNotReturn]
    private readonly void ThrowTruncated(string what, int needed) =>
        throw new KafkaProtocolException($"Truncated {what}: needed {needed} bytes, {Remaining} remain", Position);
}

/// <summary>One tagged field as read: its tag, its bytes and where they start in the outermost buffer.</summary>
public readonly ref struct TaggedField
{
    public TaggedField(int tag, ReadOnlySpan<byte> data, int position)
    {
        Tag = tag;
        Data = data;
        Position = position;
    }

    public int Tag { get; }

    public ReadOnlySpan<byte> Data { get; }

    public int Position { get; }

    /// <summary>A reader over the field's bytes, positioned for error messages.</summary>
    public KafkaReader Reader() => new(Data, Position);
}
