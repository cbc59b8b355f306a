using Actors.Broker;
using BrokerMetadataRequest = Actors.Broker.MetadataRequest;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;
using KafkaMetadataResponse = Actors.Kafka.Protocol.MetadataResponse;

namespace Actors.Kafka.Listener;

/// <summary>
/// Between Kafka's Metadata messages and the controller's: silos are named, Kafka brokers are numbered. The brokers
/// listed are the Active silos with a registered listener; replicas, ISR and leaders are given by their silos' ids.
/// </summary>
/// <remarks>Pure functions.</remarks>
public static class MetadataTranslation
{
    /// <summary>The controller's request for a Kafka request. Topics asked by id (v10+) are looked up among all
    /// topics, so then every topic is asked for.</summary>
    public static BrokerMetadataRequest ToBroker(KafkaMetadataRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var byName = request.Topics is { } topics && topics.All(t => t.Name is not null);
        return new BrokerMetadataRequest
        {
            Topics = byName ? request.Topics!.Select(t => t.Name!).Distinct(StringComparer.Ordinal).ToArray() : null,
            AllowAutoTopicCreation = byName && request.AllowAutoTopicCreation,
        };
    }

    /// <summary>The Kafka answer to <paramref name="request"/> from the controller's <paramref name="answer"/>, with each
    /// broker's address on the listener named <paramref name="listenerName"/> (the one the client came in on; a broker
    /// without that listener is left out, as Kafka does); null gives each broker's first listener.</summary>
    public static KafkaMetadataResponse ToKafka(KafkaMetadataRequest request, BrokerMetadataResponse answer, string? clusterId, string? listenerName = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(answer);
        var ids = answer.KafkaBrokers.ToDictionary(b => b.SiloName, b => b, StringComparer.Ordinal);
        var active = answer.Silos.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var brokers = answer.KafkaBrokers
            .Where(b => active.Contains(b.SiloName))
            .OrderBy(b => b.NodeId)
            .Select(b => b.TryGetEndpoint(listenerName, out var host, out var port) ? new MetadataBroker(b.NodeId, host, port) : null)
            .OfType<MetadataBroker>()
            .ToArray();
        return new KafkaMetadataResponse
        {
            Brokers = brokers,
            ClusterId = clusterId,
            ControllerId = brokers.Length > 0 ? brokers[0].NodeId : -1,
            Topics = Topics(request, answer, ids, active),
        };
    }

    private static MetadataTopic[] Topics(
        KafkaMetadataRequest request, BrokerMetadataResponse answer, Dictionary<string, KafkaBrokerInfo> ids, HashSet<string> active)
    {
        var known = answer.Topics.Select(t => Topic(t, ids, active)).ToArray();
        if (request.Topics is not { } asked || asked.All(t => t.Name is not null))
        {
            return known;
        }

        // Asked by id (or by id and name mixed): every topic was fetched; answer what was asked, in its order.
        var byId = known.Where(t => t.TopicId != Guid.Empty).ToDictionary(t => t.TopicId);
        var byName = known.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal);
        return asked.Select(t => t.Name is { } name
                ? byName.GetValueOrDefault(name) ?? new MetadataTopic { Name = name, ErrorCode = ErrorCode.UnknownTopicOrPartition }
                : byId.GetValueOrDefault(t.TopicId) ?? new MetadataTopic { TopicId = t.TopicId, ErrorCode = ErrorCode.UnknownTopicId })
            .ToArray();
    }

    private static MetadataTopic Topic(TopicMetadata topic, Dictionary<string, KafkaBrokerInfo> ids, HashSet<string> active)
    {
        if (topic.Error != ErrorCode.None || topic.Description is null)
        {
            return new MetadataTopic
            {
                Name = topic.Name,
                ErrorCode = topic.Error == ErrorCode.None ? ErrorCode.UnknownServerError : topic.Error,
            };
        }

        return new MetadataTopic
        {
            Name = topic.Name,
            TopicId = topic.Description.TopicId,
            IsInternal = topic.Name.StartsWith("__", StringComparison.Ordinal),
            Partitions = topic.Description.Partitions.OrderBy(p => p.Partition).Select(p => Partition(p, ids, active)).ToArray(),
        };
    }

    private static MetadataPartition Partition(PartitionState partition, Dictionary<string, KafkaBrokerInfo> ids, HashSet<string> active)
    {
        // A silo that never started a Kafka listener has no id: it cannot be named to a Kafka client.
        int[] NodeIds(IEnumerable<string> silos) =>
            silos.Select(s => ids.TryGetValue(s, out var b) ? b.NodeId : -1).Where(id => id >= 0).ToArray();

        var leaderLive = partition.Leader is { } leader && active.Contains(leader) && ids.ContainsKey(leader);
        return new MetadataPartition
        {
            PartitionIndex = partition.Partition,
            ErrorCode = leaderLive ? ErrorCode.None : ErrorCode.LeaderNotAvailable,
            LeaderId = leaderLive ? ids[partition.Leader!].NodeId : -1,
            LeaderEpoch = partition.LeaderEpoch,
            ReplicaNodes = NodeIds(partition.Replicas),
            IsrNodes = NodeIds(partition.Isr),
            OfflineReplicas = NodeIds(partition.Replicas.Where(r => !active.Contains(r))),
        };
    }
}
