using System.Buffers;
using System.Buffers.Binary;

namespace Actors.Kafka.Protocol;

/// <summary>
/// Builds one size-prefixed frame in memory rented from <see cref="ArrayPool{T}.Shared"/>: the int32 size is reserved
/// first and filled in by <see cref="ToFrame"/>, which copies the frame once into an array of its exact size. A large
/// answer (a fetch of a megabyte) thus costs one copy of its records into the frame and one array, where a growing
/// array buffer, a framing copy and a final copy cost a few of each (and the garbage of every larger step).
/// </summary>
/// <remarks>One writer, one thread; <see cref="Dispose"/> returns the rented memory (after <see cref="ToFrame"/>,
/// or on an exception while writing).</remarks>
public sealed class FrameBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] buffer;
    private int written;

    /// <param name="sizeHint">The expected size of the frame's payload: writing up to it rents no more memory.</param>
    public FrameBuffer(int sizeHint = 256)
    {
        buffer = ArrayPool<byte>.Shared.Rent(KafkaFrameReader.SizePrefixBytes + Math.Max(sizeHint, 64));
        written = KafkaFrameReader.SizePrefixBytes;
    }

    /// <summary>Payload bytes written so far (the size prefix not counted).</summary>
    public int PayloadLength => written - KafkaFrameReader.SizePrefixBytes;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > buffer.Length - written)
        {
            throw new InvalidOperationException($"Advanced {count} bytes past the {buffer.Length - written} bytes available.");
        }

        written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return buffer.AsMemory(written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return buffer.AsSpan(written);
    }

    /// <summary>The whole frame (size prefix and payload) in a new array of its exact size.</summary>
    public byte[] ToFrame()
    {
        BinaryPrimitives.WriteInt32BigEndian(buffer, PayloadLength);
        return buffer.AsSpan(0, written).ToArray();
    }

    public void Dispose()
    {
        var rented = buffer;
        buffer = [];
        written = 0;
        if (rented.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (buffer.Length - written >= needed)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(buffer.Length == 0, this);
        // Doubles (at least), as a growing buffer must, but the steps are rented and given back.
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, written + needed));
        buffer.AsSpan(0, written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
    }
}
