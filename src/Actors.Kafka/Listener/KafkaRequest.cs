using System.Buffers;
using Actors.Kafka.Protocol.Messages;

namespace Actors.Kafka.Listener;

/// <summary>One request as the listener received it: its header and its body, and how to answer it.</summary>
/// <param name="Header">The request header.</param>
/// <param name="Api">The API and the versions we serve of it.</param>
/// <param name="Body">The bytes after the header.</param>
/// <param name="BodyPosition">Where the body starts in the frame (for error positions).</param>
public sealed record KafkaRequest(RequestHeader Header, KafkaApi Api, ReadOnlyMemory<byte> Body, int BodyPosition)
{
    /// <summary>The client's address as Kafka shows it ("/127.0.0.1"), or null when unknown.</summary>
    public string? ClientHost { get; init; }

    /// <summary>The connection's authentication (plaintext and anonymous when the caller has none).</summary>
    public Security.ConnectionSession? Session { get; init; }

    /// <summary>For a Produce request, its place among the connection's Produce requests (null when the caller does not
    /// order them, e.g. a single request).</summary>
    public ProduceTurn? ProduceTurn { get; init; }

    /// <summary>The request's API version.</summary>
    public short Version => Header.ApiVersion;

    /// <summary>The body, read as <typeparamref name="T"/> of this version; a version we do not serve is refused with
    /// UNSUPPORTED_VERSION, a malformed or truncated body with INVALID_REQUEST (both close the connection). Bytes after
    /// the body are ignored, as Kafka's brokers ignore them (some clients send a few).</summary>
    public T Read<T>()
        where T : IKafkaMessage<T>
    {
        Api.EnsureSupported(Version);
        var reader = new KafkaReader(Body.Span, BodyPosition);
        return T.Read(ref reader, Version);
    }

    /// <summary>The response frame (size prefix included) carrying <paramref name="response"/> in this version.</summary>
    /// <param name="sizeHint">The expected size of the answer (e.g. the records a fetch returns): writing up to it
    /// needs no larger buffer.</param>
    public byte[] Respond<T>(T response, int sizeHint = 256)
        where T : IKafkaMessage<T>
    {
        ArgumentNullException.ThrowIfNull(response);
        return Respond(Version, (ref KafkaWriter w) => response.Write(ref w, Version), sizeHint);
    }

    /// <summary>The response frame for <paramref name="body"/> written as <paramref name="version"/>.</summary>
    internal byte[] Respond(short version, BodyWriter body, int sizeHint = 256)
    {
        using var frame = new FrameBuffer(sizeHint);
        var writer = new KafkaWriter(frame);
        new ResponseHeader(Header.CorrelationId).Write(ref writer, Api.ResponseHeaderVersion(version));
        body(ref writer);
        return frame.ToFrame();
    }

    /// <summary>Writes a response body.</summary>
    internal delegate void BodyWriter(ref KafkaWriter writer);
}
