using System.Buffers.Binary;

namespace Actors.Kafka.Tests;

/// <summary>Answers built in rented memory: the size prefix, growth past the hint, and the exact frame handed out.</summary>
public sealed class FrameBufferTests
{
    [Fact]
    public void A_payload_within_the_hint_becomes_one_frame_of_its_exact_size()
    {
        using var buffer = new FrameBuffer(sizeHint: 16);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt32(7);
        writer.WriteInt16(-2);
        var frame = buffer.ToFrame();
        Assert.Equal(Bytes.Hex("00000006 00000007 FFFE"), frame);
        Assert.Equal(6, buffer.PayloadLength);
    }

    [Fact]
    public void A_payload_past_the_hint_grows_and_keeps_every_byte_in_order()
    {
        var payload = new byte[300_000];
        new Random(3).NextBytes(payload);
        using var buffer = new FrameBuffer(sizeHint: 10);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt8(1);
        // Written in uneven pieces so that several growths land in the middle of a piece.
        for (var at = 0; at < payload.Length; at += 7_777)
        {
            writer.WriteRaw(payload.AsSpan(at, Math.Min(7_777, payload.Length - at)));
        }

        var frame = buffer.ToFrame();
        Assert.Equal(4 + 1 + payload.Length, frame.Length);
        Assert.Equal(1 + payload.Length, BinaryPrimitives.ReadInt32BigEndian(frame));
        Assert.Equal(1, frame[4]);
        Assert.True(frame.AsSpan(5).SequenceEqual(payload), "the payload after the growths differs from what was written");
    }

    [Fact]
    public void Advancing_past_the_memory_handed_out_is_refused()
    {
        using var buffer = new FrameBuffer(sizeHint: 8);
        var available = buffer.GetSpan(8).Length;
        var error = Assert.Throws<InvalidOperationException>(() => buffer.Advance(available + 1));
        Assert.Contains("past the", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disposed_buffer_hands_out_no_more_memory()
    {
        var buffer = new FrameBuffer(sizeHint: 8);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.GetSpan(1));
        buffer.Dispose();
    }
}
