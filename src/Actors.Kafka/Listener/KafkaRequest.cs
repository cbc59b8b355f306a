using System.Buffers.Binary;
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
    public byte[] Respond<T>(T response)
        where T : IKafkaMessage<T>
    {
        ArgumentNullException.ThrowIfNull(response);
        return Respond(Version, (ref KafkaWriter w) => response.Write(ref w, Version));
    }

    /// <summary>The response frame for <paramref name="body"/> written as <paramref name="version"/>: a sizing pass
    /// (which copies no byte fields) and then one pass into an array of exactly the frame's size, so the records of a
    /// fetch response are copied once, with the size prefix written in place.</summary>
    internal byte[] Respond(short version, BodyWriter body)
    {
        var headerVersion = Api.ResponseHeaderVersion(version);
        var header = new ResponseHeader(Header.CorrelationId);
        var counter = Counter ??= new SizeCounter();
        counter.Reset();
        var sizing = new KafkaWriter(counter);
        header.Write(ref sizing, headerVersion);
        body(ref sizing);
        var size = counter.Count;

        var frame = GC.AllocateUninitializedArray<byte>(checked(size + KafkaFrameReader.SizePrefixBytes));
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        var output = new FixedBufferWriter(frame, KafkaFrameReader.SizePrefixBytes);
        var writer = new KafkaWriter(output);
        header.Write(ref writer, headerVersion);
        body(ref writer);
        if (output.Position != frame.Length)
        {
            throw new InvalidOperationException($"The {Api.Key} response measured {size} bytes but wrote {output.Position - KafkaFrameReader.SizePrefixBytes}.");
        }

        return frame;
    }

    /// <summary>This thread's sizing writer (a response is sized and written without awaiting in between).</summary>
    [ThreadStatic]
    private static SizeCounter? Counter;

    /// <summary>Writes a response body.</summary>
    internal delegate void BodyWriter(ref KafkaWriter writer);
}
