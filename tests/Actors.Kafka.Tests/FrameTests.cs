using System.Buffers;

namespace Actors.Kafka.Tests;

/// <summary>Size-prefixed frames pulled from buffered bytes, whole or split across segments.</summary>
public sealed class FrameTests
{
    [Fact]
    public void Whole_frames_are_taken_one_by_one_and_a_partial_one_waits()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("00000002 0A0B 00000000 00000003 01"));
        var frames = new KafkaFrameReader(16);
        Assert.True(frames.TryReadFrame(ref buffer, out var first));
        Assert.Equal(new byte[] { 10, 11 }, first.ToArray());
        Assert.True(frames.TryReadFrame(ref buffer, out var empty));
        Assert.True(empty.IsEmpty);
        Assert.False(frames.TryReadFrame(ref buffer, out _));
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void A_frame_split_over_segments_is_read_whole()
    {
        var bytes = Bytes.Hex("00000004 01020304");
        var buffer = Segments.Split(bytes, 1, 3, 6);
        Assert.True(new KafkaFrameReader(16).TryReadFrame(ref buffer, out var frame));
        Assert.False(frame.IsSingleSegment);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, KafkaFrames.Contiguous(frame).ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_frame_larger_than_the_limit_is_refused_from_its_size_alone()
    {
        // Only the size prefix has arrived: the refusal must not wait for the body.
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("00000011"));
        var error = Assert.Throws<KafkaProtocolException>(() => new KafkaFrameReader(16).TryReadFrame(ref buffer, out _));
        Assert.Contains("socket.request.max.bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("17", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tls_client_hello_is_refused_saying_the_client_speaks_tls_to_a_listener_without_it()
    {
        // The first bytes of a TLS 1.2/1.3 ClientHello: a handshake record (22), version 3.1, 512 bytes long.
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("16030102 00010001FC0303"));
        var error = Assert.Throws<KafkaProtocolException>(() => new KafkaFrameReader().TryReadFrame(ref buffer, out _));
        Assert.Contains("TLS handshake arrived at a listener without TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("security.protocol", error.Message, StringComparison.Ordinal);

        // A frame as large that is not a TLS record keeps the size message.
        buffer = new ReadOnlySequence<byte>(Bytes.Hex("17030102"));
        Assert.Contains("socket.request.max.bytes", Assert.Throws<KafkaProtocolException>(() => new KafkaFrameReader().TryReadFrame(ref buffer, out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_frame_size_is_refused()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("FFFFFFFF"));
        Assert.Throws<KafkaProtocolException>(() => new KafkaFrameReader(16).TryReadFrame(ref buffer, out _));
    }

    [Fact]
    public void A_frame_is_written_with_its_size()
    {
        var output = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteFrame(output, [1, 2, 3]);
        Assert.Equal(Bytes.Hex("00000003 010203"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Fewer_than_four_bytes_wait_for_more()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes.Hex("000000"));
        Assert.False(new KafkaFrameReader(16).TryReadFrame(ref buffer, out _));
        Assert.Equal(3, buffer.Length);
    }
}

/// <summary>Builds a multi-segment sequence, as a pipe gives bytes that arrived in pieces.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var bounds = cuts.Append(bytes.Length).ToArray();
        var first = new Segments(bytes.AsMemory(0, bounds[0]), 0);
        var last = first;
        for (var i = 1; i < bounds.Length; i++)
        {
            var next = new Segments(bytes.AsMemory(bounds[i - 1], bounds[i] - bounds[i - 1]), bounds[i - 1]);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
