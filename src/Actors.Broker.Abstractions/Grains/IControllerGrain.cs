namespace Actors.Broker;

/// <summary>
/// The cluster's one controller (key <see cref="BrokerGrainKeys.Controller"/>): owns topics and the
/// replication state of every partition, elects leaders when silos die or return, and fences stale
/// leaders through the partition epoch. Errors are thrown as <see cref="BrokerException"/>.
/// </summary>
[Alias("broker.IControllerGrain")]
public interface IControllerGrain : IGrainWithStringKey
{
    /// <summary>Creates a topic (Kafka's CreateTopics). Fails with INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS,
    /// INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG naming the problem.</summary>
    Task<TopicDescription> CreateTopicAsync(CreateTopicRequest request);

    /// <summary>Deletes a topic and the logs of every replica; UNKNOWN_TOPIC_OR_PARTITION if it does not exist.</summary>
    Task DeleteTopicAsync(string topic);

    /// <summary>Grows the topic to <paramref name="totalCount"/> partitions (never shrinks: INVALID_PARTITIONS).</summary>
    Task<TopicDescription> CreatePartitionsAsync(string topic, int totalCount);

    /// <summary>Sets and removes per-topic config overrides.</summary>
    Task<TopicDescription> AlterTopicConfigsAsync(AlterTopicConfigsRequest request);

    /// <summary>Descriptions of the named topics (all when null); unknown names fail with UNKNOWN_TOPIC_OR_PARTITION.</summary>
    [AlwaysInterleave]
    Task<TopicDescription[]> DescribeTopicsAsync(string[]? topics);

    [AlwaysInterleave]
    Task<string[]> ListTopicsAsync();

    /// <summary>Metadata for clients: topics (auto-created when allowed and enabled) and the silos.</summary>
    Task<MetadataResponse> GetMetadataAsync(MetadataRequest request);

    /// <summary>The current state of one partition; UNKNOWN_TOPIC_OR_PARTITION if none.</summary>
    [AlwaysInterleave]
    Task<PartitionState> GetPartitionStateAsync(TopicPartition partition);

    /// <summary>A leader's ISR change (Kafka's AlterPartition). Refused with FENCED_LEADER_EPOCH when the leader
    /// epoch is old, and with INVALID_UPDATE_VERSION when the partition epoch is not the current one.</summary>
    Task<PartitionState> AlterPartitionAsync(AlterPartitionRequest request);

    /// <summary>Moves leadership off <paramref name="siloName"/> before it stops; returns the partitions it still leads
    /// (those with no other in-sync replica).</summary>
    Task<ControlledShutdownResponse> ControlledShutdownAsync(string siloName);

    /// <summary>Moves leadership back to each partition's preferred replica where it is alive and in sync.</summary>
    Task<PartitionState[]> ElectPreferredLeadersAsync();

    /// <summary>Makes the controller look at membership now (it also polls on its own).</summary>
    Task ReconcileMembershipAsync();

    /// <summary>
    /// Gives <paramref name="siloName"/> its Kafka broker id (the next free one from 1 on first registration, the same
    /// one ever after) and records the address Kafka clients reach its listener at. Idempotent: registering again
    /// with the same address writes nothing; a new address (a restart on another port) replaces the old one.
    /// </summary>
    Task<int> RegisterKafkaBrokerAsync(string siloName, string host, int port);

    /// <summary>
    /// As <see cref="RegisterKafkaBrokerAsync"/> for a silo with several Kafka listeners (Kafka's <c>listeners</c>):
    /// records the address each advertises by its listener name, so a client bootstrapped on a listener is told every
    /// broker's address on that same listener. The first listener's address is also the broker's own
    /// (<see cref="KafkaBrokerInfo.Host"/>, <see cref="KafkaBrokerInfo.Port"/>).
    /// </summary>
    Task<int> RegisterKafkaListenersAsync(string siloName, KafkaListenerInfo[] listeners);
}

[GenerateSerializer]
[Immutable]
[Alias("broker.CreateTopicRequest")]
public sealed class CreateTopicRequest
{
    [Id(0)] public string Name { get; set; } = string.Empty;

    /// <summary>-1 = the silo's num.partitions.</summary>
    [Id(1)] public int NumPartitions { get; set; } = -1;

    /// <summary>-1 = the silo's default.replication.factor.</summary>
    [Id(2)] public short ReplicationFactor { get; set; } = -1;

    [Id(3)] public Dictionary<string, string> Configs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Validate only; create nothing.</summary>
    [Id(4)] public bool ValidateOnly { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.AlterTopicConfigsRequest")]
public sealed class AlterTopicConfigsRequest
{
    [Id(0)] public string Topic { get; set; } = string.Empty;

    [Id(1)] public Dictionary<string, string> Set { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public string[] Delete { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.MetadataRequest")]
public sealed class MetadataRequest
{
    /// <summary>Null = every topic.</summary>
    [Id(0)] public string[]? Topics { get; set; }

    /// <summary>Create missing topics when the cluster's auto.create.topics.enable allows it.</summary>
    [Id(1)] public bool AllowAutoTopicCreation { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.MetadataResponse")]
public sealed class MetadataResponse
{
    [Id(0)] public TopicMetadata[] Topics { get; set; } = [];

    [Id(1)] public SiloInfo[] Silos { get; set; } = [];

    /// <summary>Every silo that ever registered a Kafka listener, live or not (replicas on dead silos keep their ids).</summary>
    [Id(2)] public KafkaBrokerInfo[] KafkaBrokers { get; set; } = [];
}

/// <summary>A silo's Kafka broker id and the address its Kafka listener advertises.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.KafkaBrokerInfo")]
public sealed class KafkaBrokerInfo
{
    [Id(0)] public string SiloName { get; set; } = string.Empty;

    [Id(1)] public int NodeId { get; set; }

    [Id(2)] public string Host { get; set; } = string.Empty;

    [Id(3)] public int Port { get; set; }

    /// <summary>The address advertised on each listener, by listener name (empty for a silo registered with one
    /// address only).</summary>
    [Id(4)] public KafkaListenerInfo[] Listeners { get; set; } = [];

    /// <summary>The address this broker advertises on the listener named <paramref name="listenerName"/>: the entry
    /// with that name, or <see cref="Host"/>/<see cref="Port"/> when the broker registered no listener names; false
    /// when it has listeners and none by that name (Kafka leaves such a broker out of that listener's metadata).</summary>
    public bool TryGetEndpoint(string? listenerName, out string host, out int port)
    {
        if (Listeners is null or { Length: 0 } || listenerName is null)
        {
            (host, port) = (Host, Port);
            return true;
        }

        foreach (var listener in Listeners)
        {
            if (string.Equals(listener.Name, listenerName, StringComparison.Ordinal))
            {
                (host, port) = (listener.Host, listener.Port);
                return true;
            }
        }

        (host, port) = (string.Empty, 0);
        return false;
    }
}

/// <summary>One Kafka listener of a silo: its name (upper case, as in <c>listeners</c>) and the address it advertises.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.KafkaListenerInfo")]
public sealed record KafkaListenerInfo([property: Id(0)] string Name, [property: Id(1)] string Host, [property: Id(2)] int Port);

[GenerateSerializer]
[Immutable]
[Alias("broker.TopicMetadata")]
public sealed class TopicMetadata
{
    [Id(0)] public string Name { get; set; } = string.Empty;

    [Id(1)] public ErrorCode Error { get; set; }

    [Id(2)] public string? ErrorMessage { get; set; }

    /// <summary>Null when <see cref="Error"/> is not None.</summary>
    [Id(3)] public TopicDescription? Description { get; set; }
}

/// <summary>A silo as clients see it (Kafka's broker in metadata).</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.SiloInfo")]
public sealed class SiloInfo
{
    [Id(0)] public string Name { get; set; } = string.Empty;

    [Id(1)] public string Host { get; set; } = string.Empty;

    [Id(2)] public int GatewayPort { get; set; }

    [Id(3)] public string Status { get; set; } = string.Empty;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.AlterPartitionRequest")]
public sealed class AlterPartitionRequest
{
    [Id(0)] public TopicPartition TopicPartition { get; set; }

    /// <summary>The silo name of the leader asking.</summary>
    [Id(1)] public string Leader { get; set; } = string.Empty;

    [Id(2)] public int LeaderEpoch { get; set; }

    [Id(3)] public int PartitionEpoch { get; set; }

    [Id(4)] public string[] NewIsr { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ControlledShutdownResponse")]
public sealed class ControlledShutdownResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    /// <summary>Partitions still led by the silo (no other live in-sync replica).</summary>
    [Id(1)] public TopicPartition[] RemainingPartitions { get; set; } = [];
}
