namespace Actors.Broker;

/// <summary>
/// One silo's copy of a partition (key "topic/partition@silo", see <see cref="BrokerGrainKeys.Replica"/>), pinned
/// to that silo. While the silo is a follower it fetches from the leader in a long-poll loop; after a leader
/// change it truncates a divergent tail first; it accepts data only from the current leader epoch.
/// </summary>
[Alias("broker.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    /// <summary>Publishes a new partition state: follow its leader (or stop following when this silo leads).</summary>
    Task BecomeFollowerAsync(PartitionState state);

    /// <summary>Gives this silo's log of the partition the topic's config overrides (<paramref name="configs"/>, silo
    /// defaults for the rest) at once, whether this silo leads or follows: retention, segment size and age,
    /// max.message.bytes. Nothing when this silo holds no log of the partition.</summary>
    Task ApplyTopicConfigAsync(Dictionary<string, string> configs);

    /// <summary>Stops replicating; deletes the local log when <paramref name="deleteLog"/> (topic deletion).</summary>
    Task StopReplicaAsync(bool deleteLog);

    [AlwaysInterleave]
    Task<ReplicaStatus> GetStatusAsync();
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ReplicaStatus")]
public sealed class ReplicaStatus
{
    [Id(0)] public string Silo { get; set; } = string.Empty;

    [Id(1)] public int LeaderEpoch { get; set; } = -1;

    [Id(2)] public string? Leader { get; set; }

    [Id(3)] public long LogStartOffset { get; set; } = -1;

    [Id(4)] public long LogEndOffset { get; set; } = -1;

    [Id(5)] public long HighWatermark { get; set; } = -1;

    /// <summary>True while the replica's fetch loop runs.</summary>
    [Id(6)] public bool Fetching { get; set; }
}
