using System.Buffers;

namespace Actors.Kafka.Protocol;

/// <summary>A buffer writer over one array of a known size, from a given position. Near the end, a request for more
/// room than is left (a varint asks for its widest form) is given a scratch span whose written bytes are moved into
/// the array on <see cref="Advance"/>; writing past the array's end is a bug (the size was measured wrong) and raises
/// <see cref="InvalidOperationException"/>.</summary>
/// <remarks>One writer, one thread.</remarks>
public sealed class FixedBufferWriter(byte[] buffer, int start) : IBufferWriter<byte>
{
    private byte[]? scratch;
    private bool inScratch;

    /// <summary>Where the next byte goes.</summary>
    public int Position { get; private set; } = start;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var left = buffer.Length - Position;
        if (count > left)
        {
            throw new InvalidOperationException($"Advanced {count} bytes with {left} left: the message's measured size was wrong.");
        }

        if (inScratch)
        {
            scratch.AsSpan(0, count).CopyTo(buffer.AsSpan(Position));
            inScratch = false;
        }

        Position += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Room(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Room(sizeHint).Span;

    private Memory<byte> Room(int sizeHint)
    {
        var left = buffer.Length - Position;
        if (sizeHint <= left)
        {
            inScratch = false;
            return buffer.AsMemory(Position);
        }

        if (scratch is null || scratch.Length < sizeHint)
        {
            scratch = new byte[Math.Max(sizeHint, 16)];
        }

        inScratch = true;
        return scratch;
    }
}
