using System.Collections.Frozen;

namespace Actors.Kafka.Protocol;

/// <summary>
/// The APIs this layer serves and their version ranges: what an ApiVersions response advertises and what
/// the request header reader uses to frame each request. Adding an API is adding an entry here, beside its
/// codec (see docs/formats/kafka-protocol.md).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public static class ApiKeys
{
    /// <summary>Produce: versions 3 to 9, flexible from 9.</summary>
    public static KafkaApi Produce { get; } = new(ApiKey.Produce, 3, 9, 9);

    /// <summary>Fetch: versions 4 to 12, flexible from 12.</summary>
    public static KafkaApi Fetch { get; } = new(ApiKey.Fetch, 4, 12, 12);

    /// <summary>ListOffsets: versions 1 to 7, flexible from 6.</summary>
    public static KafkaApi ListOffsets { get; } = new(ApiKey.ListOffsets, 1, 7, 6);

    /// <summary>Metadata: versions 0 to 12, flexible from 9.</summary>
    public static KafkaApi Metadata { get; } = new(ApiKey.Metadata, 0, 12, 9);

    /// <summary>OffsetCommit: versions 2 to 8, flexible from 8.</summary>
    public static KafkaApi OffsetCommit { get; } = new(ApiKey.OffsetCommit, 2, 8, 8);

    /// <summary>OffsetFetch: versions 1 to 8, flexible from 6.</summary>
    public static KafkaApi OffsetFetch { get; } = new(ApiKey.OffsetFetch, 1, 8, 6);

    /// <summary>FindCoordinator: versions 0 to 4, flexible from 3.</summary>
    public static KafkaApi FindCoordinator { get; } = new(ApiKey.FindCoordinator, 0, 4, 3);

    /// <summary>JoinGroup: versions 0 to 7, flexible from 6.</summary>
    public static KafkaApi JoinGroup { get; } = new(ApiKey.JoinGroup, 0, 7, 6);

    /// <summary>Heartbeat: versions 0 to 4, flexible from 4.</summary>
    public static KafkaApi Heartbeat { get; } = new(ApiKey.Heartbeat, 0, 4, 4);

    /// <summary>LeaveGroup: versions 0 to 4, flexible from 4.</summary>
    public static KafkaApi LeaveGroup { get; } = new(ApiKey.LeaveGroup, 0, 4, 4);

    /// <summary>SyncGroup: versions 0 to 5, flexible from 4.</summary>
    public static KafkaApi SyncGroup { get; } = new(ApiKey.SyncGroup, 0, 5, 4);

    /// <summary>DescribeGroups: versions 0 to 5, flexible from 5.</summary>
    public static KafkaApi DescribeGroups { get; } = new(ApiKey.DescribeGroups, 0, 5, 5);

    /// <summary>ListGroups: versions 0 to 5, flexible from 3.</summary>
    public static KafkaApi ListGroups { get; } = new(ApiKey.ListGroups, 0, 5, 3);

    /// <summary>ApiVersions: versions 0 to 3, flexible from 3.</summary>
    public static KafkaApi ApiVersions { get; } = new(ApiKey.ApiVersions, 0, 3, 3);

    /// <summary>CreateTopics: versions 2 to 7, flexible from 5.</summary>
    public static KafkaApi CreateTopics { get; } = new(ApiKey.CreateTopics, 2, 7, 5);

    /// <summary>DeleteTopics: versions 1 to 6, flexible from 4.</summary>
    public static KafkaApi DeleteTopics { get; } = new(ApiKey.DeleteTopics, 1, 6, 4);

    /// <summary>InitProducerId: versions 0 to 4, flexible from 2.</summary>
    public static KafkaApi InitProducerId { get; } = new(ApiKey.InitProducerId, 0, 4, 2);

    /// <summary>OffsetForLeaderEpoch: versions 2 to 4, flexible from 4.</summary>
    public static KafkaApi OffsetForLeaderEpoch { get; } = new(ApiKey.OffsetForLeaderEpoch, 2, 4, 4);

    /// <summary>DescribeConfigs: versions 0 to 4, flexible from 4.</summary>
    public static KafkaApi DescribeConfigs { get; } = new(ApiKey.DescribeConfigs, 0, 4, 4);

    /// <summary>CreatePartitions: versions 0 to 3, flexible from 2.</summary>
    public static KafkaApi CreatePartitions { get; } = new(ApiKey.CreatePartitions, 0, 3, 2);

    /// <summary>DeleteGroups: versions 0 to 2, flexible from 2.</summary>
    public static KafkaApi DeleteGroups { get; } = new(ApiKey.DeleteGroups, 0, 2, 2);

    /// <summary>IncrementalAlterConfigs: versions 0 to 1, flexible from 1.</summary>
    public static KafkaApi IncrementalAlterConfigs { get; } = new(ApiKey.IncrementalAlterConfigs, 0, 1, 1);

    /// <summary>OffsetDelete: versions 0 to 0, never flexible.</summary>
    public static KafkaApi OffsetDelete { get; } = new(ApiKey.OffsetDelete, 0, 0, short.MaxValue);

    /// <summary>DescribeCluster: versions 0 to 1, flexible from 0.</summary>
    public static KafkaApi DescribeCluster { get; } = new(ApiKey.DescribeCluster, 0, 1, 0);

    /// <summary>ConsumerGroupHeartbeat: versions 0 to 1 (from 1 the client makes its member id), flexible from 0.</summary>
    public static KafkaApi ConsumerGroupHeartbeat { get; } = new(ApiKey.ConsumerGroupHeartbeat, 0, 1, 0);

    /// <summary>ConsumerGroupDescribe: versions 0 to 0, flexible from 0.</summary>
    public static KafkaApi ConsumerGroupDescribe { get; } = new(ApiKey.ConsumerGroupDescribe, 0, 0, 0);

    /// <summary>SaslHandshake: versions 0 to 1 (0: the tokens follow as bare frames), never flexible.</summary>
    public static KafkaApi SaslHandshake { get; } = new(ApiKey.SaslHandshake, 0, 1, short.MaxValue);

    /// <summary>SaslAuthenticate: versions 0 to 2, flexible from 2.</summary>
    public static KafkaApi SaslAuthenticate { get; } = new(ApiKey.SaslAuthenticate, 0, 2, 2);

    /// <summary>DescribeUserScramCredentials: version 0, flexible.</summary>
    public static KafkaApi DescribeUserScramCredentials { get; } = new(ApiKey.DescribeUserScramCredentials, 0, 0, 0);

    /// <summary>AlterUserScramCredentials: version 0, flexible.</summary>
    public static KafkaApi AlterUserScramCredentials { get; } = new(ApiKey.AlterUserScramCredentials, 0, 0, 0);

    /// <summary>DescribeAcls: versions 0 to 3 (0 knows literal names only), flexible from 2.</summary>
    public static KafkaApi DescribeAcls { get; } = new(ApiKey.DescribeAcls, 0, 3, 2);

    /// <summary>CreateAcls: versions 0 to 3, flexible from 2.</summary>
    public static KafkaApi CreateAcls { get; } = new(ApiKey.CreateAcls, 0, 3, 2);

    /// <summary>DeleteAcls: versions 0 to 3, flexible from 2.</summary>
    public static KafkaApi DeleteAcls { get; } = new(ApiKey.DeleteAcls, 0, 3, 2);

    /// <summary>Every API served, by key.</summary>
    public static IReadOnlyList<KafkaApi> All { get; } = new[]
    {
        Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, DescribeGroups, ListGroups, ApiVersions, CreateTopics, DeleteTopics, InitProducerId, OffsetForLeaderEpoch, DescribeConfigs, CreatePartitions, DeleteGroups, IncrementalAlterConfigs, OffsetDelete, DescribeCluster, ConsumerGroupHeartbeat, ConsumerGroupDescribe,
        SaslHandshake, SaslAuthenticate, DescribeUserScramCredentials, AlterUserScramCredentials, DescribeAcls, CreateAcls, DeleteAcls,
    }.OrderBy(a => (short)a.Key).ToArray();

    private static readonly FrozenDictionary<short, KafkaApi> ByKey = All.ToFrozenDictionary(a => (short)a.Key);

    /// <summary>The API with key <paramref name="key"/>, if we serve it.</summary>
    public static bool TryGet(short key, out KafkaApi api) => ByKey.TryGetValue(key, out api!);

    /// <summary>The API with key <paramref name="key"/>; an unknown key is a protocol error.</summary>
    public static KafkaApi Get(short key) =>
        TryGet(key, out var api) ? api : throw new KafkaProtocolException($"API key {key} is not served", 0);
}
