namespace Actors.Kafka.Protocol;

/// <summary>One topic asked for in a Metadata request: by name, or (v10+) by id.</summary>
/// <param name="TopicId">The topic's id (v10+); <see cref="Guid.Empty"/> when asked by name.</param>
/// <param name="Name">The topic's name; null only when asked by id (v10+).</param>
public sealed record MetadataRequestTopic(Guid TopicId, string? Name);

/// <summary>Metadata request (key 3): the brokers, and the partitions of some or all topics.</summary>
public sealed record MetadataRequest
{
    /// <summary>
    /// The topics to describe; null for every topic. Version 0 cannot ask for "no topics": it sends an
    /// empty list to mean every topic, which reads back as null.
    /// </summary>
    public IReadOnlyList<MetadataRequestTopic>? Topics { get; init; }

    /// <summary>Whether the broker may create the topics asked for that do not exist (v4+; true before v4).</summary>
    public bool AllowAutoTopicCreation { get; init; } = true;

    /// <summary>Whether to return the cluster's authorized operations (v8 to v10 only).</summary>
    public bool IncludeClusterAuthorizedOperations { get; init; }

    /// <summary>Whether to return each topic's authorized operations (v8+).</summary>
    public bool IncludeTopicAuthorizedOperations { get; init; }
}

/// <summary>A broker in a Metadata response.</summary>
/// <param name="NodeId">The broker id.</param>
/// <param name="Host">The host clients connect to.</param>
/// <param name="Port">The port clients connect to.</param>
/// <param name="Rack">The broker's rack (v1+), or null.</param>
public sealed record MetadataBroker(int NodeId, string Host, int Port, string? Rack = null);

/// <summary>A partition in a Metadata response.</summary>
public sealed record MetadataPartition
{
    public ErrorCode ErrorCode { get; init; }

    public int PartitionIndex { get; init; }

    /// <summary>The leader's broker id, or -1 when there is none.</summary>
    public int LeaderId { get; init; } = -1;

    /// <summary>The leader epoch (v7+), -1 when unknown.</summary>
    public int LeaderEpoch { get; init; } = -1;

    public IReadOnlyList<int> ReplicaNodes { get; init; } = [];

    public IReadOnlyList<int> IsrNodes { get; init; } = [];

    /// <summary>Replicas on offline brokers or log directories (v5+).</summary>
    public IReadOnlyList<int> OfflineReplicas { get; init; } = [];
}

/// <summary>A topic in a Metadata response.</summary>
public sealed record MetadataTopic
{
    /// <summary>Value of <see cref="TopicAuthorizedOperations"/> when not asked for: int32's minimum.</summary>
    public const int AuthorizedOperationsNotAsked = int.MinValue;

    public ErrorCode ErrorCode { get; init; }

    /// <summary>The topic's name; null (v12+ only) for an unknown topic asked by id.</summary>
    public string? Name { get; init; }

    /// <summary>The topic's id (v10+); empty for an unknown topic asked by name.</summary>
    public Guid TopicId { get; init; }

    /// <summary>True for internal topics (v1+).</summary>
    public bool IsInternal { get; init; }

    public IReadOnlyList<MetadataPartition> Partitions { get; init; } = [];

    /// <summary>A 32-bit set of the operations the client may do on the topic (v8+).</summary>
    public int TopicAuthorizedOperations { get; init; } = AuthorizedOperationsNotAsked;
}

/// <summary>Metadata response: the brokers, the cluster, and the topics asked for.</summary>
public sealed record MetadataResponse
{
    /// <summary>How long the request was throttled, in milliseconds (v3+).</summary>
    public int ThrottleTimeMs { get; init; }

    public IReadOnlyList<MetadataBroker> Brokers { get; init; } = [];

    /// <summary>The cluster's id (v2+), or null.</summary>
    public string? ClusterId { get; init; }

    /// <summary>The controller's broker id (v1+), -1 when unknown.</summary>
    public int ControllerId { get; init; } = -1;

    public IReadOnlyList<MetadataTopic> Topics { get; init; } = [];

    /// <summary>A 32-bit set of the operations the client may do on the cluster (v8 to v10).</summary>
    public int ClusterAuthorizedOperations { get; init; } = MetadataTopic.AuthorizedOperationsNotAsked;
}
