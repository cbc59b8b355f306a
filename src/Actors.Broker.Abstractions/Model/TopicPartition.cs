using System.Globalization;

namespace Actors.Broker;

/// <summary>One partition of one topic. Text form "topic-partition" as in Kafka; as a grain key "topic/partition".</summary>
/// <remarks>A value type; equality is ordinal on the topic and numeric on the partition.</remarks>
[GenerateSerializer]
[Immutable]
[Alias("broker.TopicPartition")]
public record struct TopicPartition([property: Id(0)] string Topic, [property: Id(1)] int Partition) : IComparable<TopicPartition>
{
    public readonly int CompareTo(TopicPartition other)
    {
        var byTopic = string.CompareOrdinal(Topic, other.Topic);
        return byTopic != 0 ? byTopic : Partition.CompareTo(other.Partition);
    }

    public static bool operator <(TopicPartition left, TopicPartition right) => left.CompareTo(right) < 0;

    public static bool operator <=(TopicPartition left, TopicPartition right) => left.CompareTo(right) <= 0;

    public static bool operator >(TopicPartition left, TopicPartition right) => left.CompareTo(right) > 0;

    public static bool operator >=(TopicPartition left, TopicPartition right) => left.CompareTo(right) >= 0;

    public override readonly string ToString() => $"{Topic}-{Partition.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>A committed or planned position in a partition.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.TopicPartitionOffset")]
public record struct TopicPartitionOffset(
    [property: Id(0)] TopicPartition TopicPartition,
    [property: Id(1)] long Offset,
    [property: Id(2)] int LeaderEpoch,
    [property: Id(3)] string? Metadata)
{
    public override readonly string ToString() => $"{TopicPartition}@{Offset.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>The first offset after the last batch written in <paramref name="LeaderEpoch"/> (Kafka's
/// OffsetForLeaderEpoch answer); a follower truncates to it after a leader change.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.EpochEndOffset")]
public record struct EpochEndOffset([property: Id(0)] int LeaderEpoch, [property: Id(1)] long EndOffset)
{
    /// <summary>The answer when the epoch is not known (Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET).</summary>
    public static EpochEndOffset Undefined => new(-1, -1);
}

/// <summary>Keys of the broker's grains.</summary>
public static class BrokerGrainKeys
{
    /// <summary>The one controller grain's key.</summary>
    public const string Controller = "controller";

    /// <summary>The producer-id allocator's key.</summary>
    public const string ProducerIds = "producer-ids";

    /// <summary>The SCRAM credential store's key.</summary>
    public const string ScramCredentials = "scram-credentials";

    /// <summary>The ACL store's key.</summary>
    public const string Acls = "acls";

    /// <summary>The cluster identity grain's key.</summary>
    public const string ClusterIdentity = "cluster-identity";

    /// <summary>The group directory's key.</summary>
    public const string GroupDirectory = "groups";

    /// <summary>"topic/partition": the partition (leader) grain's key.</summary>
    public static string Partition(TopicPartition tp) =>
        $"{tp.Topic}/{tp.Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"topic/partition@silo": the replica grain pinned to silo <paramref name="siloName"/>.</summary>
    public static string Replica(TopicPartition tp, string siloName) => $"{Partition(tp)}@{siloName}";

    /// <summary>Parses "topic/partition" (or the part before '@' of a replica key).</summary>
    public static TopicPartition ParsePartition(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var at = key.LastIndexOf('@');
        var partitionKey = at >= 0 ? key[..at] : key;
        var slash = partitionKey.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(partitionKey.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            throw new FormatException($"'{key}' is not a partition grain key; expected 'topic/partition' or 'topic/partition@silo'.");
        }

        return new TopicPartition(partitionKey[..slash], partition);
    }

    /// <summary>The silo name of a replica key "topic/partition@silo".</summary>
    public static string ParseReplicaSilo(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var at = key.LastIndexOf('@');
        if (at < 0 || at == key.Length - 1)
        {
            throw new FormatException($"'{key}' is not a replica grain key; expected 'topic/partition@silo'.");
        }

        return key[(at + 1)..];
    }
}
