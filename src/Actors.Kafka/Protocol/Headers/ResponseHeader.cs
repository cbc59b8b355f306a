namespace Actors.Kafka.Protocol;

/// <summary>
/// The header before every response body. v0: the request's correlation id (int32). v1 (flexible
/// responses, except ApiVersions) adds a tagged-field section.
/// </summary>
/// <param name="CorrelationId">The correlation id of the request answered.</param>
public readonly record struct ResponseHeader(int CorrelationId)
{
    /// <summary>Reads a header of <paramref name="headerVersion"/> (0 or 1); unknown tags are skipped.</summary>
    public static ResponseHeader Read(ref KafkaReader reader, short headerVersion)
    {
        CheckVersion(headerVersion);
        var correlationId = reader.ReadInt32();
        if (headerVersion >= 1)
        {
            reader.SkipTaggedFields();
        }

        return new ResponseHeader(correlationId);
    }

    /// <summary>Writes this header as <paramref name="headerVersion"/> (0 or 1).</summary>
    public void Write(ref KafkaWriter writer, short headerVersion)
    {
        CheckVersion(headerVersion);
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1)
        {
            writer.WriteEmptyTaggedFields();
        }
    }

    private static void CheckVersion(short headerVersion)
    {
        if (headerVersion is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(headerVersion), headerVersion, "Response headers are versions 0 and 1");
        }
    }
}
