using System.Buffers;
using System.Buffers.Binary;

namespace Actors.Kafka.Protocol;

/// <summary>
/// Pulls whole size-prefixed frames (int32 big-endian size, then that many bytes) out of the bytes a pipe
/// reader has buffered, as a network loop calls it: <c>while (frames.TryReadFrame(ref buffer, out var frame))</c>
/// handle the frame, then advance the pipe to <c>buffer.Start</c>, examined to <c>buffer.End</c>.
/// </summary>
/// <remarks>
/// A size above <see cref="MaxFrameBytes"/> (the listener's <c>socket.request.max.bytes</c>) or below zero
/// is refused as soon as its four bytes arrive, before any of the frame is buffered: the connection must
/// then be closed, as Kafka does. Immutable and thread-safe.
/// </remarks>
public sealed class KafkaFrameReader
{
    /// <summary>Bytes of the size prefix.</summary>
    public const int SizePrefixBytes = 4;

    /// <summary>Kafka's default for <c>socket.request.max.bytes</c>: 100 MiB.</summary>
    public const int DefaultMaxFrameBytes = 100 * 1024 * 1024;

    /// <summary>The first byte of a TLS handshake record (content type 22).</summary>
    private const byte TlsHandshakeRecord = 0x16;

    /// <summary>The major version byte of every TLS and SSL 3 record (3).</summary>
    private const byte TlsMajorVersion = 0x03;

    public KafkaFrameReader(int maxFrameBytes = DefaultMaxFrameBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameBytes);
        MaxFrameBytes = maxFrameBytes;
    }

    /// <summary>The largest frame accepted, not counting its size prefix.</summary>
    public int MaxFrameBytes { get; }

    /// <summary>
    /// Takes one whole frame (without its size prefix) from the start of <paramref name="buffer"/> and moves
    /// <paramref name="buffer"/> past it; returns false, leaving <paramref name="buffer"/> as it was, while
    /// the frame is incomplete.
    /// </summary>
    /// <exception cref="KafkaProtocolException">The size is negative or above <see cref="MaxFrameBytes"/>.</exception>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (!TryPeekSize(buffer, out var size))
        {
            return false;
        }

        if (buffer.Length - SizePrefixBytes < size)
        {
            return false;
        }

        frame = buffer.Slice(SizePrefixBytes, size);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    /// <summary>The size the next frame declares, once its prefix has arrived (false before).</summary>
    /// <exception cref="KafkaProtocolException">The size is negative or above <see cref="MaxFrameBytes"/>.</exception>
    public bool TryPeekSize(ReadOnlySequence<byte> buffer, out int size)
    {
        size = 0;
        if (buffer.Length < SizePrefixBytes)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[SizePrefixBytes];
        buffer.Slice(0, SizePrefixBytes).CopyTo(prefix);
        size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < 0)
        {
            throw new KafkaProtocolException($"A frame declares a negative size ({size})", 0);
        }

        if (size > MaxFrameBytes && prefix[0] == TlsHandshakeRecord && prefix[1] == TlsMajorVersion)
        {
            // A TLS record header (handshake, version 3.x) read as a size: a client speaking TLS to a listener without it.
            throw new KafkaProtocolException(
                "A TLS handshake arrived at a listener without TLS: the client's security.protocol is SSL or SASL_SSL. "
                + "Point it at an SSL or SASL_SSL listener (listeners=SASL_SSL://...), or set its security.protocol to PLAINTEXT or SASL_PLAINTEXT",
                0);
        }

        if (size > MaxFrameBytes)
        {
            throw new KafkaProtocolException(
                $"A frame of {size} bytes is larger than the {MaxFrameBytes} allowed (socket.request.max.bytes)", 0);
        }

        return true;
    }
}
