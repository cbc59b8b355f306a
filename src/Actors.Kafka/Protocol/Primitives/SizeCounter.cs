using System.Buffers;

namespace Actors.Kafka.Protocol;

/// <summary>
/// A buffer writer that only counts: a first pass of a message through a <see cref="KafkaWriter"/> over it gives the
/// message's exact size, so the real pass writes into an array of that size once. Byte fields are counted without
/// being copied (<see cref="KafkaWriter.WriteRaw"/> skips them); the small fixed-size fields land in a scratch buffer
/// that is overwritten.
/// </summary>
/// <remarks>One writer, one thread; <see cref="Reset"/> makes it reusable.</remarks>
public sealed class SizeCounter : IBufferWriter<byte>
{
    private byte[] scratch = new byte[256];

    /// <summary>Bytes counted since the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    public void Reset() => Count = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = checked(Count + count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

    private byte[] Scratch(int sizeHint)
    {
        if (sizeHint > scratch.Length)
        {
            scratch = new byte[Math.Max(sizeHint, scratch.Length * 2)];
        }

        return scratch;
    }
}
