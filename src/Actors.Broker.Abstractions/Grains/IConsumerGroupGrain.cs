namespace Actors.Broker;

/// <summary>
/// A consumer group (key: the group id) speaking either of Kafka's group protocols, one at a time:
/// the new consumer protocol (KIP-848: members heartbeat with their subscriptions, the grain computes the assignment
/// itself and hands it out incrementally, a partition that moves being revoked from its old owner before the new
/// owner gets it), or the classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup: the grain runs the rebalance
/// and relays the members' protocol metadata to the leader and the leader's assignments to the members, unchanged).
/// A group with members of one kind refuses members of the other; an empty group can be taken by either. Commits
/// are persisted and belong to the group whichever kind it is.
/// </summary>
/// <remarks><see cref="JoinGroupAsync"/> and <see cref="SyncGroupAsync"/> answer when the rebalance gets there, up
/// to the rebalance timeout (max.poll.interval.ms, capped at <see cref="ConsumerGroupTimeouts.MaxRebalanceWaitMs"/>):
/// they interleave with every other call and carry a response timeout of <see cref="ConsumerGroupTimeouts.LongCall"/>,
/// so a caller needs no timeout of its own.</remarks>
[Alias("broker.IConsumerGroupGrain")]
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>Join (epoch 0), heartbeat (current epoch) or leave (epoch -1); answers the member's assignment.</summary>
    Task<GroupHeartbeatResponse> HeartbeatAsync(GroupHeartbeatRequest request);

    /// <summary>Commits offsets. A KIP-848 member gives its current epoch (stale: STALE_MEMBER_EPOCH); a classic member
    /// its generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS while the group
    /// completes a rebalance); a commit from outside the group (epoch/generation -1, no member id) is accepted only
    /// while the group has no members (else UNKNOWN_MEMBER_ID). A member commit to a group that does not exist gets
    /// GROUP_ID_NOT_FOUND (OffsetCommit v9+; older versions answer ILLEGAL_GENERATION). Offsets, negative ones
    /// included, metadata and leader epochs are stored as given.</summary>
    Task<OffsetCommitResponse> CommitOffsetsAsync(OffsetCommitRequest request);

    /// <summary>Committed offsets of the given partitions (all committed when null); -1 where none.</summary>
    [ReadOnly]
    Task<TopicPartitionOffset[]> FetchOffsetsAsync(TopicPartition[]? partitions);

    /// <summary>State, members and their partitions, and per partition committed offset, log end offset and lag;
    /// for either kind of group, what Kafka's DescribeGroups answers. GROUP_ID_NOT_FOUND when the group does not exist.</summary>
    Task<ConsumerGroupDescription> DescribeAsync();

    /// <summary>Plans (dry run) or applies a reset of committed offsets; NON_EMPTY_GROUP while members are active.</summary>
    Task<OffsetResetPlanEntry[]> ResetOffsetsAsync(ResetOffsetsRequest request);

    /// <summary>Deletes the group and its offsets; NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if it has no state.</summary>
    Task DeleteAsync();

    /// <summary>Classic JoinGroup. Answers when the rebalance's join phase completes: every known member joined again,
    /// or the rebalance timeout passed (the first rebalance of an empty group waits group.initial.rebalance.delay.ms
    /// for more members). The leader's answer lists every member's metadata for the chosen protocol.</summary>
    [AlwaysInterleave]
    [ResponseTimeout(ConsumerGroupTimeouts.LongCall)]
    Task<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request);

    /// <summary>Classic SyncGroup. The leader sends every member's assignment; each member (the leader included) gets its
    /// own once the leader's has arrived.</summary>
    [AlwaysInterleave]
    [ResponseTimeout(ConsumerGroupTimeouts.LongCall)]
    Task<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request);

    /// <summary>Classic Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to join again.</summary>
    Task<ClassicHeartbeatResponse> ClassicHeartbeatAsync(ClassicHeartbeatRequest request);

    /// <summary>Classic LeaveGroup (batch form): removes the members and rebalances the rest.</summary>
    Task<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request);

    /// <summary>Kafka's OffsetDelete: one error per partition, GROUP_SUBSCRIBED_TO_TOPIC for a topic the group's members
    /// subscribe to. Throws <see cref="BrokerException"/> with GROUP_ID_NOT_FOUND when the group does not exist and
    /// NON_EMPTY_GROUP when it is a classic group with members whose protocol type is not "consumer".</summary>
    Task<ErrorCode[]> DeleteOffsetsAsync(TopicPartition[] partitions);

    /// <summary>What ListGroups says of this group: protocol type, Kafka state string, group type. Cheap: no I/O.</summary>
    [AlwaysInterleave]
    Task<GroupListing> GetListingAsync();
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

    /// <summary>"uniform" (Kafka's sticky, balanced default; "sticky" is accepted for it), "range" or "roundrobin"; null = the group's current one (default "uniform").</summary>
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

    /// <summary>The KIP-848 member epoch, or the classic generation id (Kafka's GenerationIdOrMemberEpoch).</summary>
    [Id(1)] public int MemberEpoch { get; set; } = -1;

    [Id(2)] public TopicPartitionOffset[] Offsets { get; set; } = [];

    /// <summary>group.instance.id of a static classic member.</summary>
    [Id(3)] public string? GroupInstanceId { get; set; }
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

    /// <summary>Kafka's state string for DescribeGroups/ListGroups (see <see cref="KafkaGroupStates"/>).</summary>
    [Id(6)] public string KafkaState { get; set; } = "Empty";

    /// <summary>"consumer" for a KIP-848 group; a classic group's protocol type (empty if it never had members).</summary>
    [Id(7)] public string ProtocolType { get; set; } = string.Empty;

    /// <summary>DescribeGroups' ProtocolData: a classic group's chosen protocol while Stable (empty otherwise, as in
    /// Kafka); a KIP-848 group's server assignor.</summary>
    [Id(8)] public string Protocol { get; set; } = string.Empty;

    /// <summary><see cref="KafkaGroupStates.ClassicType"/> or <see cref="KafkaGroupStates.ConsumerType"/>.</summary>
    [Id(9)] public string GroupType { get; set; } = KafkaGroupStates.ConsumerType;

    /// <summary>A classic group's state (<see cref="State"/> maps it onto the KIP-848 states: the two rebalance
    /// states are Reconciling there).</summary>
    [Id(10)] public ClassicGroupState ClassicState { get; set; }
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

    /// <summary>Classic member of a Stable group: its metadata for the chosen protocol, as it sent it. Empty otherwise
    /// (for a KIP-848 member the caller encodes ConsumerProtocolSubscription/Assignment from the fields above).</summary>
    [Id(8)] public byte[] Metadata { get; set; } = [];

    /// <summary>Classic member of a Stable group: the assignment the leader gave it, as relayed. Empty otherwise.</summary>
    [Id(9)] public byte[] Assignment { get; set; } = [];
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
