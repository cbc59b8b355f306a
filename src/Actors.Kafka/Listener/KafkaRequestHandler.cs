using System.Buffers;
using BrokerMetadataRequest = Actors.Broker.MetadataRequest;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;

namespace Actors.Kafka.Listener;

/// <summary>
/// Answers one request frame (without its size prefix) with one response frame (with it). ApiVersions is answered
/// here; Metadata asks the controller through <see cref="MetadataSource"/> and translates silo names to Kafka broker
/// ids (<see cref="MetadataTranslation"/>).
/// </summary>
/// <remarks>
/// Bad input raises <see cref="KafkaProtocolException"/>: an API we do not serve, a Metadata version we do not
/// serve, a malformed header or body. The connection is then closed, as Kafka does; only an ApiVersions request of
/// an unknown version is answered (UNSUPPORTED_VERSION, as version 0). Stateless and thread-safe.
/// </remarks>
public sealed class KafkaRequestHandler(Func<BrokerMetadataRequest, Task<BrokerMetadataResponse>> metadataSource, string? clusterId)
{
    /// <summary>Where Metadata answers come from (the controller grain in a silo).</summary>
    public Func<BrokerMetadataRequest, Task<BrokerMetadataResponse>> MetadataSource { get; } = metadataSource;

    /// <summary>Reads the header of <paramref name="frame"/>; an API we do not serve fails here, before any work.</summary>
    public static RequestHeader ReadHeader(ReadOnlySpan<byte> frame, out int headerBytes)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        headerBytes = reader.Consumed;
        return header;
    }

    /// <summary>The response frame (size prefix included) to <paramref name="frame"/>.</summary>
    public async Task<byte[]> HandleAsync(ReadOnlyMemory<byte> frame)
    {
        var header = ReadHeader(frame.Span, out var headerBytes);
        var body = frame[headerBytes..];
        return (ApiKey)header.ApiKey switch
        {
            ApiKey.ApiVersions => ApiVersions(header, body.Span, headerBytes),
            ApiKey.Metadata => await MetadataAsync(header, body, headerBytes).ConfigureAwait(false),
            _ => throw new KafkaProtocolException($"API key {header.ApiKey} is not served", 0),
        };
    }

    private static byte[] ApiVersions(RequestHeader header, ReadOnlySpan<byte> body, int bodyPosition)
    {
        if (!ApiKeys.ApiVersions.IsSupported(header.ApiVersion))
        {
            // Not decoded: the client learns our range from the answer and retries.
            return Respond(header, ApiKeys.ApiVersions, 0, (ref KafkaWriter w) =>
                ApiVersionsCodec.WriteResponse(ref w, ApiVersionsResponse.UnsupportedVersion(), 0));
        }

        var reader = new KafkaReader(body, bodyPosition);
        ApiVersionsCodec.ReadRequest(ref reader, header.ApiVersion);
        var response = ApiVersionsResponse.Supported();
        return Respond(header, ApiKeys.ApiVersions, header.ApiVersion, (ref KafkaWriter w) =>
            ApiVersionsCodec.WriteResponse(ref w, response, header.ApiVersion));
    }

    private async Task<byte[]> MetadataAsync(RequestHeader header, ReadOnlyMemory<byte> body, int bodyPosition)
    {
        ApiKeys.Metadata.EnsureSupported(header.ApiVersion);
        var request = ReadMetadataRequest(body.Span, bodyPosition, header.ApiVersion);
        var asked = MetadataTranslation.ToBroker(request);
        var answer = await MetadataSource(asked).ConfigureAwait(false);
        var response = MetadataTranslation.ToKafka(request, answer, clusterId);
        return Respond(header, ApiKeys.Metadata, header.ApiVersion, (ref KafkaWriter w) =>
            MetadataCodec.WriteResponse(ref w, response, header.ApiVersion));
    }

    private static MetadataRequest ReadMetadataRequest(ReadOnlySpan<byte> body, int bodyPosition, short version)
    {
        var reader = new KafkaReader(body, bodyPosition);
        return MetadataCodec.ReadRequest(ref reader, version);
    }

    private delegate void BodyWriter(ref KafkaWriter writer);

    private static byte[] Respond(RequestHeader header, KafkaApi api, short version, BodyWriter body)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        var writer = new KafkaWriter(payload);
        new ResponseHeader(header.CorrelationId).Write(ref writer, api.ResponseHeaderVersion(version));
        body(ref writer);
        var frame = new ArrayBufferWriter<byte>(payload.WrittenCount + KafkaFrameReader.SizePrefixBytes);
        KafkaFrames.WriteFrame(frame, payload.WrittenSpan);
        return frame.WrittenSpan.ToArray();
    }
}
