using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Actors.Kafka.Protocol;

/// <summary>
/// Writes Kafka's primitive types, big-endian, to an <see cref="IBufferWriter{T}"/> (a pipe writer, or an
/// array buffer when the size must be known before the bytes are sent).
/// </summary>
/// <remarks>
/// Values a type cannot carry (a string longer than 32767 UTF-8 bytes in an int16-length string, a null
/// where the field is not nullable) are bugs on the caller's side and raise <see cref="ArgumentException"/>;
/// nothing is written for the rejected value. A stack-only value: one writer, one thread.
/// </remarks>
public ref struct KafkaWriter
{
    private readonly IBufferWriter<byte> _output;
    private int _written;

    public KafkaWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _written = 0;
    }

    /// <summary>Bytes written through this writer.</summary>
    public readonly int Written => _written;

    public void WriteInt8(sbyte value)
    {
        _output.GetSpan(1)[0] = (byte)value;
        Advance(1);
    }

    public void WriteBoolean(bool value)
    {
        _output.GetSpan(1)[0] = value ? (byte)1 : (byte)0;
        Advance(1);
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_output.GetSpan(2), value);
        Advance(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_output.GetSpan(2), value);
        Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_output.GetSpan(4), value);
        Advance(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_output.GetSpan(4), value);
        Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_output.GetSpan(8), value);
        Advance(8);
    }

    public void WriteFloat64(double value)
    {
        BinaryPrimitives.WriteDoubleBigEndian(_output.GetSpan(8), value);
        Advance(8);
    }

    /// <summary>A uuid: 16 bytes in RFC 4122 order (Kafka's most significant half first).</summary>
    public void WriteUuid(Guid value)
    {
        var written = value.TryWriteBytes(_output.GetSpan(16), bigEndian: true, out _);
        System.Diagnostics.Debug.Assert(written, "16 bytes always hold a uuid");
        Advance(16);
    }

    public void WriteUnsignedVarint(uint value)
    {
        var span = _output.GetSpan(5);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[length++] = (byte)value;
        Advance(length);
    }

    public void WriteUnsignedVarlong(ulong value)
    {
        var span = _output.GetSpan(10);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[length++] = (byte)value;
        Advance(length);
    }

    /// <summary>A signed varint, zig-zag encoded.</summary>
    public void WriteVarint(int value) => WriteUnsignedVarint((uint)((value << 1) ^ (value >> 31)));

    /// <summary>A signed varlong, zig-zag encoded.</summary>
    public void WriteVarlong(long value) => WriteUnsignedVarlong((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>The number of bytes <paramref name="value"/> takes as an unsigned varint.</summary>
    public static int UnsignedVarintSize(uint value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    /// <summary>A non-null string: int16 length then UTF-8 bytes.</summary>
    public void WriteString(string value, string field)
    {
        ArgumentNullException.ThrowIfNull(value, field);
        WriteNullableString(value, field);
    }

    /// <summary>A nullable string: int16 length (-1 for null) then UTF-8 bytes.</summary>
    public void WriteNullableString(string? value, string field)
    {
        if (value is null)
        {
            WriteInt16(-1);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue)
        {
            throw new ArgumentException($"{field} takes {length} UTF-8 bytes, more than a string's {short.MaxValue}", field);
        }

        WriteInt16((short)length);
        WriteUtf8(value, length);
    }

    /// <summary>A non-null compact string: unsigned varint length + 1 then UTF-8 bytes.</summary>
    public void WriteCompactString(string value, string field)
    {
        ArgumentNullException.ThrowIfNull(value, field);
        WriteCompactNullableString(value, field);
    }

    /// <summary>A nullable compact string: unsigned varint length + 1 (0 for null) then UTF-8 bytes.</summary>
    public void WriteCompactNullableString(string? value, string field)
    {
        if (value is null)
        {
            WriteUnsignedVarint(0);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue)
        {
            throw new ArgumentException($"{field} takes {length} UTF-8 bytes, more than a string's {short.MaxValue}", field);
        }

        WriteUnsignedVarint((uint)length + 1);
        WriteUtf8(value, length);
    }

    /// <summary>A string, compact in flexible versions.</summary>
    public void WriteString(bool compact, string value, string field)
    {
        if (compact)
        {
            WriteCompactString(value, field);
        }
        else
        {
            WriteString(value, field);
        }
    }

    /// <summary>A nullable string, compact in flexible versions.</summary>
    public void WriteNullableString(bool compact, string? value, string field)
    {
        if (compact)
        {
            WriteCompactNullableString(value, field);
        }
        else
        {
            WriteNullableString(value, field);
        }
    }

    /// <summary>Non-null bytes: int32 length then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        WriteRaw(value);
    }

    /// <summary>Nullable bytes: int32 length (-1 for null) then the bytes.</summary>
    public void WriteNullableBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
        }
        else
        {
            WriteBytes(value);
        }
    }

    /// <summary>Non-null compact bytes: unsigned varint length + 1 then the bytes.</summary>
    public void WriteCompactBytes(ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarint((uint)value.Length + 1);
        WriteRaw(value);
    }

    /// <summary>Nullable compact bytes: unsigned varint length + 1 (0 for null) then the bytes.</summary>
    public void WriteCompactNullableBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteUnsignedVarint(0);
        }
        else
        {
            WriteCompactBytes(value);
        }
    }

    /// <summary>An array's element count (int32, or unsigned varint count + 1 when compact).</summary>
    public void WriteArrayCount(bool compact, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (compact)
        {
            WriteUnsignedVarint((uint)count + 1);
        }
        else
        {
            WriteInt32(count);
        }
    }

    /// <summary>A nullable array's element count: -1 (or compact 0) for null.</summary>
    public void WriteNullableArrayCount(bool compact, int? count)
    {
        if (count is { } value)
        {
            WriteArrayCount(compact, value);
        }
        else if (compact)
        {
            WriteUnsignedVarint(0);
        }
        else
        {
            WriteInt32(-1);
        }
    }

    /// <summary>A non-null array of int32, compact in flexible versions.</summary>
    public void WriteInt32Array(bool compact, IReadOnlyList<int> values, string field)
    {
        ArgumentNullException.ThrowIfNull(values, field);
        WriteArrayCount(compact, values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            WriteInt32(values[i]);
        }
    }

    /// <summary>An empty tagged-field section (a count of zero).</summary>
    public void WriteEmptyTaggedFields() => WriteUnsignedVarint(0);

    /// <summary>One tagged field's head: its tag and the size of the bytes that follow.</summary>
    public void WriteTaggedFieldHead(int tag, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tag);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        WriteUnsignedVarint((uint)tag);
        WriteUnsignedVarint((uint)size);
    }

    /// <summary>Bytes as they are, with no length.</summary>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        value.CopyTo(_output.GetSpan(value.Length));
        Advance(value.Length);
    }

    private void WriteUtf8(string value, int length)
    {
        if (length == 0)
        {
            return;
        }

        var span = _output.GetSpan(length);
        var encoded = Encoding.UTF8.GetBytes(value, span);
        System.Diagnostics.Debug.Assert(encoded == length, "the byte count was measured on the same string");
        Advance(length);
    }

    private void Advance(int count)
    {
        _output.Advance(count);
        _written += count;
    }
}
