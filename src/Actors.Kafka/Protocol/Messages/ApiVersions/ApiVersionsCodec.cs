namespace Actors.Kafka.Protocol;

/// <summary>
/// Reads and writes ApiVersions (key 18), versions 0 to 3. Layout, in wire order:
/// <code>
/// request   v0-v2: (empty)
///           v3:    client_software_name compact string, client_software_version compact string, tags
/// response  error_code int16,
///           api_keys array of { api_key int16, min_version int16, max_version int16, [v3: tags] },
///           v1+: throttle_time_ms int32,
///           v3:  tags { 0: supported_features, 1: finalized_features_epoch int64,
///                       2: finalized_features, 3: zk_migration_ready bool }
/// </code>
/// Version 3 is flexible (compact arrays and strings, tags), yet its response header stays v0.
/// </summary>
public static class ApiVersionsCodec
{
    private const short FirstThrottleVersion = 1;

    private static KafkaApi Api => ApiKeys.ApiVersions;

    /// <summary>The version to answer a request of <paramref name="requestVersion"/> with: the same version when
    /// served, else 0 (with <see cref="ApiVersionsResponse.UnsupportedVersion"/>).</summary>
    public static short ResponseVersion(short requestVersion) => Api.IsSupported(requestVersion) ? requestVersion : (short)0;

    public static ApiVersionsRequest ReadRequest(ref KafkaReader reader, short version)
    {
        Api.EnsureSupported(version);
        var request = new ApiVersionsRequest();
        if (Api.IsFlexible(version))
        {
            request = new ApiVersionsRequest
            {
                ClientSoftwareName = reader.ReadCompactString("client_software_name"),
                ClientSoftwareVersion = reader.ReadCompactString("client_software_version"),
            };
            reader.SkipTaggedFields();
        }

        reader.EnsureEnd("ApiVersions request");
        return request;
    }

    public static void WriteRequest(ref KafkaWriter writer, ApiVersionsRequest request, short version)
    {
        ArgumentNullException.ThrowIfNull(request);
        Api.EnsureWritable(version);
        if (Api.IsFlexible(version))
        {
            writer.WriteCompactString(request.ClientSoftwareName, "client_software_name");
            writer.WriteCompactString(request.ClientSoftwareVersion, "client_software_version");
            writer.WriteEmptyTaggedFields();
        }
    }

    public static ApiVersionsResponse ReadResponse(ref KafkaReader reader, short version)
    {
        Api.EnsureSupported(version);
        var flexible = Api.IsFlexible(version);
        var errorCode = (ErrorCode)reader.ReadInt16();
        var count = reader.ReadArrayCount(flexible, "api_keys", ProtocolLimits.ApiKeysMax, minElementBytes: 6);
        var ranges = new ApiVersionRange[count];
        for (var i = 0; i < count; i++)
        {
            ranges[i] = new ApiVersionRange(reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16());
            if (flexible)
            {
                reader.SkipTaggedFields();
            }
        }

        var response = new ApiVersionsResponse
        {
            ErrorCode = errorCode,
            ApiKeys = ranges,
            ThrottleTimeMs = version >= FirstThrottleVersion ? reader.ReadInt32() : 0,
        };
        if (flexible)
        {
            response = ReadResponseTags(ref reader, response);
        }

        reader.EnsureEnd("ApiVersions response");
        return response;
    }

    public static void WriteResponse(ref KafkaWriter writer, ApiVersionsResponse response, short version)
    {
        ArgumentNullException.ThrowIfNull(response);
        Api.EnsureWritable(version);
        var flexible = Api.IsFlexible(version);
        writer.WriteInt16((short)response.ErrorCode);
        writer.WriteArrayCount(flexible, response.ApiKeys.Count);
        foreach (var range in response.ApiKeys)
        {
            writer.WriteInt16(range.ApiKey);
            writer.WriteInt16(range.MinVersion);
            writer.WriteInt16(range.MaxVersion);
            if (flexible)
            {
                writer.WriteEmptyTaggedFields();
            }
        }

        if (version >= FirstThrottleVersion)
        {
            writer.WriteInt32(response.ThrottleTimeMs);
        }

        if (flexible)
        {
            WriteResponseTags(ref writer, response);
        }
    }

    private static ApiVersionsResponse ReadResponseTags(ref KafkaReader reader, ApiVersionsResponse response)
    {
        var count = reader.ReadTaggedFieldCount();
        var previous = -1;
        for (var i = 0; i < count; i++)
        {
            var field = reader.ReadTaggedField(previous);
            previous = field.Tag;
            var fieldReader = field.Reader();
            switch (field.Tag)
            {
                case 0:
                    response = response with { SupportedFeatures = ReadSupportedFeatures(ref fieldReader) };
                    break;
                case 1:
                    response = response with { FinalizedFeaturesEpoch = fieldReader.ReadInt64() };
                    break;
                case 2:
                    response = response with { FinalizedFeatures = ReadFinalizedFeatures(ref fieldReader) };
                    break;
                case 3:
                    response = response with { ZkMigrationReady = fieldReader.ReadBoolean() };
                    break;
                default:
                    continue;
            }

            fieldReader.EnsureEnd($"Tagged field {field.Tag}");
        }

        return response;
    }

    private static void WriteResponseTags(ref KafkaWriter writer, ApiVersionsResponse response)
    {
        var count = (response.SupportedFeatures.Count > 0 ? 1 : 0)
            + (response.FinalizedFeaturesEpoch != -1 ? 1 : 0)
            + (response.FinalizedFeatures.Count > 0 ? 1 : 0)
            + (response.ZkMigrationReady ? 1 : 0);
        writer.WriteUnsignedVarint((uint)count);
        if (response.SupportedFeatures.Count > 0)
        {
            TaggedFields.Write(ref writer, 0, response.SupportedFeatures, WriteSupportedFeatures);
        }

        if (response.FinalizedFeaturesEpoch != -1)
        {
            TaggedFields.Write(ref writer, 1, response.FinalizedFeaturesEpoch, (ref KafkaWriter w, long epoch) => w.WriteInt64(epoch));
        }

        if (response.FinalizedFeatures.Count > 0)
        {
            TaggedFields.Write(ref writer, 2, response.FinalizedFeatures, WriteFinalizedFeatures);
        }

        if (response.ZkMigrationReady)
        {
            TaggedFields.Write(ref writer, 3, true, (ref KafkaWriter w, bool ready) => w.WriteBoolean(ready));
        }
    }

    private static SupportedFeature[] ReadSupportedFeatures(ref KafkaReader reader)
    {
        var features = new SupportedFeature[reader.ReadCompactArrayCount("supported_features", ProtocolLimits.FeaturesMax, 6)];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = new SupportedFeature(reader.ReadCompactString("name"), reader.ReadInt16(), reader.ReadInt16());
            reader.SkipTaggedFields();
        }

        return features;
    }

    private static void WriteSupportedFeatures(ref KafkaWriter writer, IReadOnlyList<SupportedFeature> features)
    {
        writer.WriteArrayCount(compact: true, features.Count);
        foreach (var feature in features)
        {
            writer.WriteCompactString(feature.Name, "name");
            writer.WriteInt16(feature.MinVersion);
            writer.WriteInt16(feature.MaxVersion);
            writer.WriteEmptyTaggedFields();
        }
    }

    private static FinalizedFeature[] ReadFinalizedFeatures(ref KafkaReader reader)
    {
        var features = new FinalizedFeature[reader.ReadCompactArrayCount("finalized_features", ProtocolLimits.FeaturesMax, 6)];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = new FinalizedFeature(reader.ReadCompactString("name"), reader.ReadInt16(), reader.ReadInt16());
            reader.SkipTaggedFields();
        }

        return features;
    }

    private static void WriteFinalizedFeatures(ref KafkaWriter writer, IReadOnlyList<FinalizedFeature> features)
    {
        writer.WriteArrayCount(compact: true, features.Count);
        foreach (var feature in features)
        {
            writer.WriteCompactString(feature.Name, "name");
            writer.WriteInt16(feature.MaxVersionLevel);
            writer.WriteInt16(feature.MinVersionLevel);
            writer.WriteEmptyTaggedFields();
        }
    }
}
