using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Actors.Serialization;

/// <summary>Reads what <see cref="ActorWriter"/> wrote, from one contiguous span or from a sequence of
/// segments (a whole frame as a receive pipe holds it).</summary>
/// <remarks>Not thread-safe. A read past the end throws <see cref="SerializationException"/>.
/// A reader made with <see cref="ActorReader(ReadOnlyMemory{byte}, bool)"/> and <c>payloadsMayAlias</c>
/// true returns <see cref="ReadOnlyMemory{T}"/> payloads as slices of the input instead of copies: the
/// caller hands the input over and must never reuse or change it afterwards.
/// Over a sequence, byte payloads (<see cref="ReadLengthPrefixedArray"/>, <see cref="ReadLengthPrefixedMemory"/>)
/// are copied once, straight from the segments, into the array that holds them; only a value of a few bytes
/// that straddles two segments is gathered into a temporary first.</remarks>
public ref struct ActorReader
{
    /// <summary>How deeply objects may nest (generated codecs and skipped objects count); deeper input
    /// is rejected instead of exhausting the stack.</summary>
    public const int MaxDepth = 512;

    /// <summary>The current segment (the whole input for a span or memory reader).</summary>
    private ReadOnlySpan<byte> input;
    private readonly ReadOnlyMemory<byte> memory;
    private readonly bool payloadsMayAlias;

    /// <summary>Position in <see cref="input"/>.</summary>
    private int position;

    /// <summary>Bytes of the segments before <see cref="input"/>.</summary>
    private int consumedBefore;

    /// <summary>The sequence read (default for a span or memory reader), where its next segment starts, and the
    /// bytes after <see cref="input"/>.</summary>
    private readonly ReadOnlySequence<byte> sequence;
    private SequencePosition nextSegment;
    private int restLength;
    private int depth;

    public ActorReader(ReadOnlySpan<byte> input)
    {
        this.input = input;
        position = 0;
    }

    /// <summary>A reader over the segments of <paramref name="input"/>, read in place (nothing is copied up front).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input is 2 GiB or longer.</exception>
    public ActorReader(ReadOnlySequence<byte> input)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(input.Length, int.MaxValue);
        sequence = input;
        nextSegment = input.Start;
        input.TryGet(ref nextSegment, out var first, advance: true);
        this.input = first.Span;
        restLength = (int)input.Length - first.Length;
    }

    /// <summary>A reader over <paramref name="input"/>. With <paramref name="payloadsMayAlias"/> true,
    /// <see cref="ReadLengthPrefixedMemory"/> returns slices of <paramref name="input"/> (no copy), so the
    /// caller must give up the buffer: it is owned by the values read from it from now on.</summary>
    public ActorReader(ReadOnlyMemory<byte> input, bool payloadsMayAlias)
        : this(input.Span)
    {
        memory = input;
        this.payloadsMayAlias = payloadsMayAlias;
    }

    public readonly int Position => consumedBefore + position;

    public readonly int Remaining => input.Length - position + restLength;

    public readonly bool IsEnd => Remaining == 0;

    /// <summary>The current object nesting depth.</summary>
    public readonly int Depth => depth;

    /// <summary>Called by codecs when they start reading a nested object; throws past <see cref="MaxDepth"/>.</summary>
    public void EnterObject()
    {
        if (++depth > MaxDepth)
        {
            throw new SerializationException(
                $"Objects nest more than {MaxDepth} levels deep at position {Position}; the input is corrupt or hostile.");
        }
    }

    /// <summary>Called by codecs when they finish reading a nested object.</summary>
    public void ExitObject() => depth--;

    /// <summary>Reads a field header. Returns the id and wire type.</summary>
    public (uint FieldId, WireType WireType) ReadFieldHeader()
    {
        var header = ReadVarUInt64();
        var wireType = (WireType)(header & 7);
        if (wireType > WireType.Null)
        {
            throw new SerializationException($"Unknown wire type {(byte)wireType} at position {Position}.");
        }

        return ((uint)(header >> 3), wireType);
    }

    public byte ReadByte()
    {
        if (position >= input.Length)
        {
            NextSegment(1);
        }

        return input[position++];
    }

    public ulong ReadVarUInt64()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new SerializationException($"Malformed varint at position {Position}.");
    }

    public uint ReadVarUInt32() => checked((uint)ReadVarUInt64());

    public long ReadVarInt64()
    {
        var raw = ReadVarUInt64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int ReadVarInt32() => checked((int)ReadVarInt64());

    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadRaw(4));

    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadRaw(8));

    /// <summary>Reads a length-prefixed payload as a slice of the input (no copy; a payload that straddles two
    /// segments is gathered into a temporary array).</summary>
    public ReadOnlySpan<byte> ReadLengthPrefixed() => ReadRaw(ReadPayloadLength());

    /// <summary>Reads a length-prefixed payload as memory the result may keep: a slice of the input when
    /// the reader was made over memory that payloads may alias, else one copy into a new array.</summary>
    public ReadOnlyMemory<byte> ReadLengthPrefixedMemory()
    {
        if (!payloadsMayAlias)
        {
            return ReadLengthPrefixedArray();
        }

        var span = ReadLengthPrefixed();
        return span.IsEmpty ? ReadOnlyMemory<byte>.Empty : memory.Slice(position - span.Length, span.Length);
    }

    /// <summary>Reads a length-prefixed payload into a new array the result owns (one copy, from the segments
    /// it spans).</summary>
    public byte[] ReadLengthPrefixedArray()
    {
        var length = ReadPayloadLength();
        if (length <= input.Length - position)
        {
            return CopyToNewArray(ReadRaw(length));
        }

        var array = GC.AllocateUninitializedArray<byte>(length);
        CopyAcrossSegments(array);
        return array;
    }

    /// <summary>Copies <paramref name="source"/> into a new array that is not zeroed first: every byte is
    /// overwritten by the copy, and zeroing large payload arrays costs as much as copying them.</summary>
    internal static byte[] CopyToNewArray(ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            return [];
        }

        var array = GC.AllocateUninitializedArray<byte>(source.Length);
        source.CopyTo(array);
        return array;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadLengthPrefixed());

    public ReadOnlySpan<byte> ReadRaw(int count)
    {
        if ((uint)count <= (uint)(input.Length - position))
        {
            var slice = input.Slice(position, count);
            position += count;
            return slice;
        }

        if (count < 0 || count > Remaining)
        {
            throw EndOfInput(count);
        }

        // Straddles segments: gather it (short values at segment ends, or a payload read as a span).
        var gathered = new byte[count];
        CopyAcrossSegments(gathered);
        return gathered;
    }

    /// <summary>Skips the payload of a field whose header was just read (unknown field ids from newer writers).</summary>
    public void SkipField(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.VarInt:
                ReadVarUInt64();
                break;
            case WireType.Fixed32:
                ReadRaw(4);
                break;
            case WireType.Fixed64:
                ReadRaw(8);
                break;
            case WireType.LengthPrefixed:
                ReadLengthPrefixed();
                break;
            case WireType.TagDelimited:
                SkipObject();
                break;
            case WireType.Null:
                break;
            default:
                throw new SerializationException($"Unexpected wire type {wireType} at position {Position}.");
        }
    }

    /// <summary>Skips fields up to and including the end of the current nested object.</summary>
    public void SkipObject()
    {
        EnterObject();
        while (true)
        {
            var (_, wireType) = ReadFieldHeader();
            if (wireType == WireType.EndTagDelimited)
            {
                ExitObject();
                return;
            }

            SkipField(wireType);
        }
    }

    private int ReadPayloadLength()
    {
        var length = ReadVarUInt64();
        if (length > (ulong)Remaining)
        {
            throw new SerializationException(
                $"Length {length} at position {Position} runs past the end of the input ({Remaining} bytes left).");
        }

        return (int)length;
    }

    /// <summary>Fills <paramref name="destination"/> from the current position on, moving through the segments.
    /// The caller has checked that enough input remains.</summary>
    private void CopyAcrossSegments(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (position >= input.Length)
            {
                NextSegment(destination.Length);
            }

            var take = Math.Min(destination.Length, input.Length - position);
            input.Slice(position, take).CopyTo(destination);
            position += take;
            destination = destination[take..];
        }
    }

    /// <summary>Moves to the next non-empty segment; throws when the input has ended.</summary>
    private void NextSegment(int wanted)
    {
        if (restLength == 0)
        {
            throw EndOfInput(wanted);
        }

        consumedBefore += input.Length;
        do
        {
            if (!sequence.TryGet(ref nextSegment, out var next, advance: true))
            {
                throw EndOfInput(wanted);
            }

            input = next.Span;
        }
        while (input.IsEmpty);

        restLength -= input.Length;
        position = 0;
    }

    private readonly SerializationException EndOfInput(int wanted) =>
        new($"Unexpected end of input: wanted {wanted} bytes at position {Position}, {Remaining} left.");
}

/// <summary>Malformed or truncated serialized data.</summary>
public class SerializationException : Exception
{
    public SerializationException()
    {
    }

    public SerializationException(string message)
        : base(message)
    {
    }

    public SerializationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
