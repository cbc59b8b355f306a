namespace Actors.Kafka.Protocol;

/// <summary>
/// The header before every request body. v0: api key (int16), api version (int16), correlation id (int32).
/// v1 adds the client id (nullable int16-length string). v2 (flexible requests) adds a tagged-field
/// section after it; the client id stays an int16-length string, not a compact one.
/// </summary>
/// <param name="ApiKey">The API key, as sent (it may be one we do not serve).</param>
/// <param name="ApiVersion">The API version, as sent.</param>
/// <param name="CorrelationId">Echoed in the response header.</param>
/// <param name="ClientId">The client's id; null in v0 or when the client sent null.</param>
public sealed record RequestHeader(short ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    /// <summary>Reads a header of <paramref name="headerVersion"/> (0, 1 or 2).</summary>
    public static RequestHeader Read(ref KafkaReader reader, short headerVersion)
    {
        CheckVersion(headerVersion);
        var apiKey = reader.ReadInt16();
        var apiVersion = reader.ReadInt16();
        var correlationId = reader.ReadInt32();
        return ReadRest(ref reader, headerVersion, apiKey, apiVersion, correlationId);
    }

    /// <summary>
    /// Reads a request's header, choosing its version from the API table by the key and version it starts
    /// with. An API we do not serve is a protocol error (Kafka closes such connections); a version we do
    /// not support is framed by Kafka's rule for that API, so the caller can answer UNSUPPORTED_VERSION.
    /// </summary>
    public static RequestHeader Read(ref KafkaReader reader)
    {
        var keyPosition = reader.Position;
        var apiKey = reader.ReadInt16();
        var apiVersion = reader.ReadInt16();
        var correlationId = reader.ReadInt32();
        if (!ApiKeys.TryGet(apiKey, out var api))
        {
            throw new KafkaProtocolException($"API key {apiKey} (correlation id {correlationId}) is not served", keyPosition);
        }

        return ReadRest(ref reader, api.RequestHeaderVersion(apiVersion), apiKey, apiVersion, correlationId);
    }

    /// <summary>Writes this header as <paramref name="headerVersion"/> (0, 1 or 2).</summary>
    public void Write(ref KafkaWriter writer, short headerVersion)
    {
        CheckVersion(headerVersion);
        writer.WriteInt16(ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1)
        {
            writer.WriteNullableString(ClientId, "client_id");
        }

        if (headerVersion >= 2)
        {
            writer.WriteEmptyTaggedFields();
        }
    }

    private static RequestHeader ReadRest(ref KafkaReader reader, short headerVersion, short apiKey, short apiVersion, int correlationId)
    {
        var clientId = headerVersion >= 1 ? reader.ReadNullableString("client_id") : null;
        if (headerVersion >= 2)
        {
            reader.SkipTaggedFields();
        }

        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }

    private static void CheckVersion(short headerVersion)
    {
        if (headerVersion is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(headerVersion), headerVersion, "Request headers are versions 0 to 2");
        }
    }
}
