namespace Actors.Kafka.Protocol;

/// <summary>
/// Reads and writes Metadata (key 3), versions 0 to 12, flexible from 9. Layout, in wire order (a field
/// marked vN+ exists from version N; flexible versions use compact arrays and strings and end every
/// structure with a tagged-field section):
/// <code>
/// request   topics array of { v10+: topic_id uuid, name string (nullable v10+) } (nullable v1+),
///           v4+: allow_auto_topic_creation bool, v8-v10: include_cluster_authorized_operations bool,
///           v8+: include_topic_authorized_operations bool
/// response  v3+: throttle_time_ms int32,
///           brokers array of { node_id int32, host string, port int32, v1+: rack nullable string },
///           v2+: cluster_id nullable string, v1+: controller_id int32,
///           topics array of { error_code int16, name string (nullable v12+), v10+: topic_id uuid,
///                             v1+: is_internal bool,
///                             partitions array of { error_code int16, partition_index int32, leader_id int32,
///                                                   v7+: leader_epoch int32, replica_nodes []int32,
///                                                   isr_nodes []int32, v5+: offline_replicas []int32 },
///                             v8+: topic_authorized_operations int32 },
///           v8-v10: cluster_authorized_operations int32
/// </code>
/// </summary>
public static class MetadataCodec
{
    private static KafkaApi Api => ApiKeys.Metadata;

    /// <param name="reader">Positioned at the body.</param>
    /// <param name="version">The request's version.</param>
    /// <param name="allowTrailingBytes">Ignore bytes after the body, as Kafka's brokers do (librdkafka 2.12 sends three
    /// after a v12 request for every topic); false refuses them.</param>
    public static MetadataRequest ReadRequest(ref KafkaReader reader, short version, bool allowTrailingBytes = false)
    {
        Api.EnsureSupported(version);
        var flexible = Api.IsFlexible(version);
        var count = version >= 1
            ? reader.ReadNullableArrayCount(flexible, "topics", ProtocolLimits.TopicsMax)
            : reader.ReadArrayCount(flexible, "topics", ProtocolLimits.TopicsMax);
        MetadataRequestTopic[]? topics = null;
        if (count > 0 || (count == 0 && version >= 1))
        {
            topics = new MetadataRequestTopic[count];
            for (var i = 0; i < count; i++)
            {
                var topicId = version >= 10 ? reader.ReadUuid() : Guid.Empty;
                var name = version >= 10 ? reader.ReadNullableString(flexible, "topic name") : reader.ReadString(flexible, "topic name");
                topics[i] = new MetadataRequestTopic(topicId, name);
                SkipTagsIf(ref reader, flexible);
            }
        }

        var request = new MetadataRequest
        {
            Topics = topics,
            AllowAutoTopicCreation = version < 4 || reader.ReadBoolean(),
            IncludeClusterAuthorizedOperations = version is >= 8 and <= 10 && reader.ReadBoolean(),
            IncludeTopicAuthorizedOperations = version >= 8 && reader.ReadBoolean(),
        };
        SkipTagsIf(ref reader, flexible);
        if (!allowTrailingBytes)
        {
            reader.EnsureEnd("Metadata request");
        }

        return request;
    }

    public static void WriteRequest(ref KafkaWriter writer, MetadataRequest request, short version)
    {
        ArgumentNullException.ThrowIfNull(request);
        Api.EnsureWritable(version);
        if (version == 0 && request.Topics is { Count: 0 })
        {
            throw new ArgumentException("Metadata v0 cannot ask for no topics (its empty list means every topic)", nameof(request));
        }

        if (version < 4 && !request.AllowAutoTopicCreation)
        {
            throw new ArgumentException($"Metadata v{version} cannot refuse topic auto-creation (v4+ can)", nameof(request));
        }

        var flexible = Api.IsFlexible(version);
        if (version == 0)
        {
            writer.WriteArrayCount(flexible, request.Topics?.Count ?? 0);
        }
        else
        {
            writer.WriteNullableArrayCount(flexible, request.Topics?.Count);
        }

        foreach (var topic in request.Topics ?? [])
        {
            if (version >= 10)
            {
                writer.WriteUuid(topic.TopicId);
                writer.WriteNullableString(flexible, topic.Name, "topic name");
            }
            else
            {
                writer.WriteString(flexible, topic.Name ?? throw NameRequired(version, firstNullableVersion: 10, nameof(request)), "topic name");
            }

            WriteTagsIf(ref writer, flexible);
        }

        if (version >= 4)
        {
            writer.WriteBoolean(request.AllowAutoTopicCreation);
        }

        if (version is >= 8 and <= 10)
        {
            writer.WriteBoolean(request.IncludeClusterAuthorizedOperations);
        }

        if (version >= 8)
        {
            writer.WriteBoolean(request.IncludeTopicAuthorizedOperations);
        }

        WriteTagsIf(ref writer, flexible);
    }

    public static MetadataResponse ReadResponse(ref KafkaReader reader, short version)
    {
        Api.EnsureSupported(version);
        var flexible = Api.IsFlexible(version);
        var throttleTimeMs = version >= 3 ? reader.ReadInt32() : 0;
        var brokers = new MetadataBroker[reader.ReadArrayCount(flexible, "brokers", ProtocolLimits.BrokersMax)];
        for (var i = 0; i < brokers.Length; i++)
        {
            brokers[i] = new MetadataBroker(
                reader.ReadInt32(),
                reader.ReadString(flexible, "host"),
                reader.ReadInt32(),
                version >= 1 ? reader.ReadNullableString(flexible, "rack") : null);
            SkipTagsIf(ref reader, flexible);
        }

        var clusterId = version >= 2 ? reader.ReadNullableString(flexible, "cluster_id") : null;
        var controllerId = version >= 1 ? reader.ReadInt32() : -1;
        var topics = new MetadataTopic[reader.ReadArrayCount(flexible, "topics", ProtocolLimits.TopicsMax)];
        for (var i = 0; i < topics.Length; i++)
        {
            topics[i] = ReadTopic(ref reader, version, flexible);
        }

        var response = new MetadataResponse
        {
            ThrottleTimeMs = throttleTimeMs,
            Brokers = brokers,
            ClusterId = clusterId,
            ControllerId = controllerId,
            Topics = topics,
            ClusterAuthorizedOperations = version is >= 8 and <= 10 ? reader.ReadInt32() : MetadataTopic.AuthorizedOperationsNotAsked,
        };
        SkipTagsIf(ref reader, flexible);
        reader.EnsureEnd("Metadata response");
        return response;
    }

    public static void WriteResponse(ref KafkaWriter writer, MetadataResponse response, short version)
    {
        ArgumentNullException.ThrowIfNull(response);
        Api.EnsureWritable(version);
        var flexible = Api.IsFlexible(version);
        if (version >= 3)
        {
            writer.WriteInt32(response.ThrottleTimeMs);
        }

        writer.WriteArrayCount(flexible, response.Brokers.Count);
        foreach (var broker in response.Brokers)
        {
            writer.WriteInt32(broker.NodeId);
            writer.WriteString(flexible, broker.Host, "host");
            writer.WriteInt32(broker.Port);
            if (version >= 1)
            {
                writer.WriteNullableString(flexible, broker.Rack, "rack");
            }

            WriteTagsIf(ref writer, flexible);
        }

        if (version >= 2)
        {
            writer.WriteNullableString(flexible, response.ClusterId, "cluster_id");
        }

        if (version >= 1)
        {
            writer.WriteInt32(response.ControllerId);
        }

        writer.WriteArrayCount(flexible, response.Topics.Count);
        foreach (var topic in response.Topics)
        {
            WriteTopic(ref writer, topic, version, flexible);
        }

        if (version is >= 8 and <= 10)
        {
            writer.WriteInt32(response.ClusterAuthorizedOperations);
        }

        WriteTagsIf(ref writer, flexible);
    }

    private static MetadataTopic ReadTopic(ref KafkaReader reader, short version, bool flexible)
    {
        var errorCode = (ErrorCode)reader.ReadInt16();
        var name = version >= 12 ? reader.ReadNullableString(flexible, "topic name") : reader.ReadString(flexible, "topic name");
        var topicId = version >= 10 ? reader.ReadUuid() : Guid.Empty;
        var isInternal = version >= 1 && reader.ReadBoolean();
        var partitions = new MetadataPartition[reader.ReadArrayCount(flexible, "partitions", ProtocolLimits.PartitionsMax)];
        for (var i = 0; i < partitions.Length; i++)
        {
            partitions[i] = new MetadataPartition
            {
                ErrorCode = (ErrorCode)reader.ReadInt16(),
                PartitionIndex = reader.ReadInt32(),
                LeaderId = reader.ReadInt32(),
                LeaderEpoch = version >= 7 ? reader.ReadInt32() : -1,
                ReplicaNodes = reader.ReadInt32Array(flexible, "replica_nodes", ProtocolLimits.ReplicasMax),
                IsrNodes = reader.ReadInt32Array(flexible, "isr_nodes", ProtocolLimits.ReplicasMax),
                OfflineReplicas = version >= 5 ? reader.ReadInt32Array(flexible, "offline_replicas", ProtocolLimits.ReplicasMax) : [],
            };
            SkipTagsIf(ref reader, flexible);
        }

        var topic = new MetadataTopic
        {
            ErrorCode = errorCode,
            Name = name,
            TopicId = topicId,
            IsInternal = isInternal,
            Partitions = partitions,
            TopicAuthorizedOperations = version >= 8 ? reader.ReadInt32() : MetadataTopic.AuthorizedOperationsNotAsked,
        };
        SkipTagsIf(ref reader, flexible);
        return topic;
    }

    private static void WriteTopic(ref KafkaWriter writer, MetadataTopic topic, short version, bool flexible)
    {
        writer.WriteInt16((short)topic.ErrorCode);
        if (version >= 12)
        {
            writer.WriteNullableString(flexible, topic.Name, "topic name");
        }
        else
        {
            writer.WriteString(flexible, topic.Name ?? throw NameRequired(version, firstNullableVersion: 12, "topic"), "topic name");
        }

        if (version >= 10)
        {
            writer.WriteUuid(topic.TopicId);
        }

        if (version >= 1)
        {
            writer.WriteBoolean(topic.IsInternal);
        }

        writer.WriteArrayCount(flexible, topic.Partitions.Count);
        foreach (var partition in topic.Partitions)
        {
            writer.WriteInt16((short)partition.ErrorCode);
            writer.WriteInt32(partition.PartitionIndex);
            writer.WriteInt32(partition.LeaderId);
            if (version >= 7)
            {
                writer.WriteInt32(partition.LeaderEpoch);
            }

            writer.WriteInt32Array(flexible, partition.ReplicaNodes, "replica_nodes");
            writer.WriteInt32Array(flexible, partition.IsrNodes, "isr_nodes");
            if (version >= 5)
            {
                writer.WriteInt32Array(flexible, partition.OfflineReplicas, "offline_replicas");
            }

            WriteTagsIf(ref writer, flexible);
        }

        if (version >= 8)
        {
            writer.WriteInt32(topic.TopicAuthorizedOperations);
        }

        WriteTagsIf(ref writer, flexible);
    }

    private static ArgumentException NameRequired(short version, int firstNullableVersion, string parameter) =>
        new($"A topic name may be null only from Metadata v{firstNullableVersion}, not v{version}", parameter);

    private static void SkipTagsIf(ref KafkaReader reader, bool flexible)
    {
        if (flexible)
        {
            reader.SkipTaggedFields();
        }
    }

    private static void WriteTagsIf(ref KafkaWriter writer, bool flexible)
    {
        if (flexible)
        {
            writer.WriteEmptyTaggedFields();
        }
    }
}
