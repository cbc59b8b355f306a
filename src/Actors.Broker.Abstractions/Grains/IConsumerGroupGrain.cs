namespace Actors.Broker;

/// <summary>
/// A consumer group (key: the group id) speaking Kafka's new consumer protocol (KIP-848): members heartbeat with
/// their subscriptions, the grain computes the assignment itself and hands it out incrementally (a partition
/// that moves is revoked from its old owner before the new owner gets it). Commits are persisted.
/// </summary>
[Alias("broker.IConsumerGroupGrain")]
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>Join (epoch 0), heartbeat (current epoch) or leave (epoch -1); answers the member's assignment.</summary>
    Task<GroupHeartbeatResponse> HeartbeatAsync(GroupHeartbeatRequest request);

    /// <summary>Commits offsets; a member must give its current epoch (stale: STALE_MEMBER_EPOCH); a commit
    /// without member id (epoch -1) is accepted only while the group has no members.</summary>
    Task<OffsetCommitResponse> CommitOffsetsAsync(OffsetCommitRequest request);

    /// <summary>Committed offsets of the given partitions (all committed when null); -1 where none.</summary>
    [ReadOnly]
    Task<TopicPartitionOffset[]> FetchOffsetsAsync(TopicPartition[]? partitions);

    /// <summary>State, members and their partitions, and per partition committed offset, log end offset and lag.</summary>
    Task<ConsumerGroupDescription> DescribeAsync();

    /// <summary>Plans (dry run) or applies a reset of committed offsets; NON_EMPTY_GROUP while members are active.</summary>
    Task<OffsetResetPlanEntry[]> ResetOffsetsAsync(ResetOffsetsRequest request);

    /// <summary>Deletes the group and its offsets; NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if it has no state.</summary>
    Task DeleteAsync();
}

/// <summary>Remembers which groups exist (key <see cref="BrokerGrainKeys.GroupDirectory"/>), for list and describe-all.</summary>
[Alias("broker.IGroupDirectoryGrain")]
public interface IGroupDirectoryGrain : IGrainWithStringKey
{
    Task RegisterAsync(string groupId);

    Task UnregisterAsync(string groupId);

    [ReadOnly]
    Task<string[]> ListAsync();
}

[GenerateSerializer]
[Immutable]
[Alias("broker.GroupHeartbeatRequest")]
public sealed class GroupHeartbeatRequest
{
    /// <summary>Empty on the first join: the group assigns one.</summary>
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    /// <summary>0 to join, the current epoch to heartbeat, -1 to leave.</summary>
    [Id(1)] public int MemberEpoch { get; set; }

    [Id(2)] public string? InstanceId { get; set; }

    /// <summary>max.poll.interval.ms; 0 = the group default.</summary>
    [Id(3)] public int RebalanceTimeoutMs { get; set; }

    /// <summary>session.timeout.ms; 0 = the group default.</summary>
    [Id(4)] public int SessionTimeoutMs { get; set; }

    /// <summary>The topics subscribed; null = unchanged since the last heartbeat.</summary>
    [Id(5)] public string[]? SubscribedTopicNames { get; set; }

    /// <summary>"range", "roundrobin" or "sticky"; null = the group's current one (default "range").</summary>
    [Id(6)] public string? ServerAssignor { get; set; }

    /// <summary>The partitions the member owns now (after its revocations); null = unchanged.</summary>
    [Id(7)] public TopicPartition[]? OwnedPartitions { get; set; }

    [Id(8)] public string? ClientId { get; set; }

    [Id(9)] public string? ClientHost { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.GroupHeartbeatResponse")]
public sealed class GroupHeartbeatResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    [Id(2)] public string MemberId { get; set; } = string.Empty;

    [Id(3)] public int MemberEpoch { get; set; }

    [Id(4)] public int HeartbeatIntervalMs { get; set; }

    /// <summary>The partitions the member may own now (it releases any it holds that are not here).</summary>
    [Id(5)] public TopicPartition[] Assignment { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.OffsetCommitRequest")]
public sealed class OffsetCommitRequest
{
    /// <summary>Empty for a commit from outside the group (allowed only while it has no members).</summary>
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public int MemberEpoch { get; set; } = -1;

    [Id(2)] public TopicPartitionOffset[] Offsets { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.OffsetCommitResponse")]
public sealed class OffsetCommitResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }
}

/// <summary>Group states (Kafka's consumer group states for the new protocol).</summary>
public enum ConsumerGroupState
{
    Empty = 0,
    Assigning = 1,
    Reconciling = 2,
    Stable = 3,
    Dead = 4,
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ConsumerGroupDescription")]
public sealed class ConsumerGroupDescription
{
    [Id(0)] public string GroupId { get; set; } = string.Empty;

    [Id(1)] public ConsumerGroupState State { get; set; }

    [Id(2)] public int GroupEpoch { get; set; }

    [Id(3)] public string Assignor { get; set; } = string.Empty;

    [Id(4)] public GroupMemberDescription[] Members { get; set; } = [];

    [Id(5)] public PartitionLag[] Offsets { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.GroupMemberDescription")]
public sealed class GroupMemberDescription
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? InstanceId { get; set; }

    [Id(2)] public string? ClientId { get; set; }

    [Id(3)] public string? ClientHost { get; set; }

    [Id(4)] public int MemberEpoch { get; set; }

    [Id(5)] public string[] SubscribedTopics { get; set; } = [];

    /// <summary>What the member owns now.</summary>
    [Id(6)] public TopicPartition[] Assigned { get; set; } = [];

    /// <summary>What the target assignment gives it (equal to <see cref="Assigned"/> once reconciled).</summary>
    [Id(7)] public TopicPartition[] Target { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.PartitionLag")]
public sealed class PartitionLag
{
    [Id(0)] public TopicPartition TopicPartition { get; set; }

    /// <summary>-1 when nothing is committed.</summary>
    [Id(1)] public long CommittedOffset { get; set; } = -1;

    /// <summary>The partition's high watermark (what consumers can read up to); -1 when unknown.</summary>
    [Id(2)] public long LogEndOffset { get; set; } = -1;

    /// <summary>LogEndOffset − CommittedOffset, or -1 when either is unknown.</summary>
    [Id(3)] public long Lag { get; set; } = -1;

    /// <summary>The member owning the partition, if any.</summary>
    [Id(4)] public string? MemberId { get; set; }
}

/// <summary>How a reset chooses new offsets (the kafka-consumer-groups --reset-offsets modes).</summary>
public enum OffsetResetMode
{
    ToEarliest = 0,
    ToLatest = 1,
    ToOffset = 2,
    ShiftBy = 3,
    ToDatetime = 4,
    ByDuration = 5,
    ToCurrent = 6,
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ResetOffsetsRequest")]
public sealed class ResetOffsetsRequest
{
    [Id(0)] public OffsetResetMode Mode { get; set; }

    /// <summary>ToOffset: the offset; ShiftBy: the shift (may be negative); ToDatetime: ms since the Unix epoch;
    /// ByDuration: the duration in ms back from now.</summary>
    [Id(1)] public long Value { get; set; }

    /// <summary>All partitions of these topics; with <see cref="Partitions"/> null and this null, every partition
    /// the group has committed offsets for.</summary>
    [Id(2)] public string[]? Topics { get; set; }

    /// <summary>Only these partitions.</summary>
    [Id(3)] public TopicPartition[]? Partitions { get; set; }

    /// <summary>False: dry run (plan only).</summary>
    [Id(4)] public bool Execute { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.OffsetResetPlanEntry")]
public sealed class OffsetResetPlanEntry
{
    [Id(0)] public TopicPartition TopicPartition { get; set; }

    /// <summary>-1 when nothing was committed.</summary>
    [Id(1)] public long CurrentOffset { get; set; } = -1;

    [Id(2)] public long NewOffset { get; set; }
}
