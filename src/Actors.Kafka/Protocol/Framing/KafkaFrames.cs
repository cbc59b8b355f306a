using System.Buffers;
using System.Buffers.Binary;

namespace Actors.Kafka.Protocol;

/// <summary>Helpers between frames and the span-based <see cref="KafkaReader"/> / <see cref="KafkaWriter"/>.</summary>
public static class KafkaFrames
{
    /// <summary>
    /// The frame's bytes in one piece: the frame's own memory when the pipe holds it in one segment, a copy
    /// otherwise (bounded by the frame size limit the frame passed).
    /// </summary>
    public static ReadOnlyMemory<byte> Contiguous(in ReadOnlySequence<byte> frame) =>
        frame.IsSingleSegment ? frame.First : frame.ToArray();

    /// <summary>Writes <paramref name="payload"/> as one frame: its int32 size, then its bytes.</summary>
    public static void WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        BinaryPrimitives.WriteInt32BigEndian(output.GetSpan(KafkaFrameReader.SizePrefixBytes), payload.Length);
        output.Advance(KafkaFrameReader.SizePrefixBytes);
        if (!payload.IsEmpty)
        {
            payload.CopyTo(output.GetSpan(payload.Length));
            output.Advance(payload.Length);
        }
    }
}
