using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Actors.Serialization;

/// <summary>
/// Writes the runtime's binary format into an <see cref="IBufferWriter{T}"/> (a pooled frame buffer
/// or a pipe). Every write goes straight to the output: there is nothing to flush.
/// </summary>
/// <remarks>Not thread-safe. Integers in fixed fields are little-endian; varints are LEB128.</remarks>
public ref struct ActorWriter
{
    private readonly IBufferWriter<byte> output;

    public ActorWriter(IBufferWriter<byte> output)
    {
        this.output = output;
    }

    /// <summary>The underlying output, for codecs that write large payloads directly.</summary>
    public readonly IBufferWriter<byte> Output => output;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteFieldHeader(uint fieldId, WireType wireType) =>
        WriteVarUInt64(((ulong)fieldId << 3) | (byte)wireType);

    /// <summary>Ends the current <see cref="WireType.TagDelimited"/> object.</summary>
    public void WriteEndObject() => WriteFieldHeader(0, WireType.EndTagDelimited);

    public void WriteByte(byte value)
    {
        var span = output.GetSpan(1);
        span[0] = value;
        output.Advance(1);
    }

    public void WriteVarUInt64(ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }

    public void WriteVarUInt32(uint value) => WriteVarUInt64(value);

    /// <summary>Zig-zag encoded signed varint.</summary>
    public void WriteVarInt64(long value) => WriteVarUInt64((ulong)((value << 1) ^ (value >> 63)));

    public void WriteVarInt32(int value) => WriteVarInt64(value);

    public void WriteFixed32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    public void WriteFixed64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    /// <summary>A varint length and the bytes.</summary>
    public void WriteLengthPrefixed(scoped ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt64((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteRaw(scoped ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = output.GetSpan(Math.Min(bytes.Length, 64 * 1024));
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            output.Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>A UTF-8 string as a length-prefixed payload. Callers encode null with <see cref="WireType.Null"/>.</summary>
    public void WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt64((ulong)byteCount);
        if (byteCount <= 64 * 1024)
        {
            var span = output.GetSpan(byteCount);
            Encoding.UTF8.GetBytes(value, span);
            output.Advance(byteCount);
        }
        else
        {
            WriteRaw(Encoding.UTF8.GetBytes(value));
        }
    }
}
