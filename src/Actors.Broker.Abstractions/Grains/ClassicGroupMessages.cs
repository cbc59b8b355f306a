namespace Actors.Broker;

/// <summary>
/// The group states as Kafka names them in DescribeGroups and ListGroups, for both kinds of group, and the group
/// type names of ListGroups v5.
/// </summary>
public static class KafkaGroupStates
{
    /// <summary>ListGroups v5 group type of a group speaking the classic protocol (JoinGroup/SyncGroup).</summary>
    public const string ClassicType = "classic";

    /// <summary>ListGroups v5 group type of a group speaking the new consumer protocol (KIP-848).</summary>
    public const string ConsumerType = "consumer";

    /// <summary>Kafka's string for a classic group state ("Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead").</summary>
    public static string ToKafkaString(this ClassicGroupState state) => state switch
    {
        ClassicGroupState.Empty => "Empty",
        ClassicGroupState.PreparingRebalance => "PreparingRebalance",
        ClassicGroupState.CompletingRebalance => "CompletingRebalance",
        ClassicGroupState.Stable => "Stable",
        _ => "Dead",
    };

    /// <summary>Kafka's string for a KIP-848 group state ("Empty", "Assigning", "Reconciling", "Stable", "Dead").</summary>
    public static string ToKafkaString(this ConsumerGroupState state) => state switch
    {
        ConsumerGroupState.Empty => "Empty",
        ConsumerGroupState.Assigning => "Assigning",
        ConsumerGroupState.Reconciling => "Reconciling",
        ConsumerGroupState.Stable => "Stable",
        _ => "Dead",
    };
}

/// <summary>Response timeouts of the group calls that wait for a rebalance.</summary>
public static class ConsumerGroupTimeouts
{
    /// <summary>The Orleans response timeout of <see cref="IConsumerGroupGrain.JoinGroupAsync"/> and
    /// <see cref="IConsumerGroupGrain.SyncGroupAsync"/> (30 minutes): they wait up to the group's rebalance timeout,
    /// which the group caps at <see cref="MaxRebalanceWaitMs"/> so that it always answers first.</summary>
    public const string LongCall = "00:30:00";

    /// <summary>The longest a join or sync waits in the group (29 minutes), whatever rebalance timeout
    /// (max.poll.interval.ms) the members asked for; past it the rebalance goes on without the members still missing.</summary>
    public const int MaxRebalanceWaitMs = 29 * 60 * 1000;
}

/// <summary>Classic group states (Kafka's ClassicGroupState).</summary>
public enum ClassicGroupState
{
    Empty = 0,
    PreparingRebalance = 1,
    CompletingRebalance = 2,
    Stable = 3,
    Dead = 4,
}

/// <summary>One protocol a joining member supports (JoinGroup's Protocols), with its opaque metadata.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.JoinGroupProtocol")]
public sealed class JoinGroupProtocol
{
    /// <summary>The protocol name, e.g. an assignor name such as "range" or "cooperative-sticky".</summary>
    [Id(0)] public string Name { get; set; } = string.Empty;

    /// <summary>The member's metadata for this protocol, relayed unchanged to the leader.</summary>
    [Id(1)] public byte[] Metadata { get; set; } = [];
}

/// <summary>A classic-protocol JoinGroup (the group id is the grain key).</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.JoinGroupRequest")]
public sealed class JoinGroupRequest
{
    /// <summary>Empty on the first join.</summary>
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    /// <summary>group.instance.id of a static member; null for a dynamic one.</summary>
    [Id(1)] public string? GroupInstanceId { get; set; }

    /// <summary>The class of protocols, "consumer" for consumers.</summary>
    [Id(2)] public string ProtocolType { get; set; } = string.Empty;

    /// <summary>The protocols the member supports, in its order of preference.</summary>
    [Id(3)] public JoinGroupProtocol[] Protocols { get; set; } = [];

    /// <summary>session.timeout.ms; must be within group.min/max.session.timeout.ms.</summary>
    [Id(4)] public int SessionTimeoutMs { get; set; }

    /// <summary>max.poll.interval.ms; -1 (JoinGroup v0) means the session timeout.</summary>
    [Id(5)] public int RebalanceTimeoutMs { get; set; } = -1;

    /// <summary>True for JoinGroup v4+: a member joining without an id gets MEMBER_ID_REQUIRED with its new id and
    /// joins again with it.</summary>
    [Id(6)] public bool RequireKnownMemberId { get; set; }

    [Id(7)] public string? ClientId { get; set; }

    [Id(8)] public string? ClientHost { get; set; }

    /// <summary>Why the member (re)joins (JoinGroup v8+), for logs only.</summary>
    [Id(9)] public string? Reason { get; set; }
}

/// <summary>One member as the leader sees it in its JoinGroup answer.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.JoinGroupMember")]
public sealed class JoinGroupMember
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? GroupInstanceId { get; set; }

    /// <summary>The member's metadata for the chosen protocol, exactly as it sent it.</summary>
    [Id(2)] public byte[] Metadata { get; set; } = [];
}

/// <summary>The answer to a JoinGroup, given when the rebalance's join phase completes.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.JoinGroupResponse")]
public sealed class JoinGroupResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    [Id(2)] public int GenerationId { get; set; } = -1;

    [Id(3)] public string? ProtocolType { get; set; }

    [Id(4)] public string? ProtocolName { get; set; }

    /// <summary>The leader's member id (empty when there is none).</summary>
    [Id(5)] public string LeaderId { get; set; } = string.Empty;

    /// <summary>Always false: the leader always runs the assignment.</summary>
    [Id(6)] public bool SkipAssignment { get; set; }

    /// <summary>The member's id (with MEMBER_ID_REQUIRED: the id to join with).</summary>
    [Id(7)] public string MemberId { get; set; } = string.Empty;

    /// <summary>Every member with its metadata, for the leader only; empty for the others.</summary>
    [Id(8)] public JoinGroupMember[] Members { get; set; } = [];
}

/// <summary>One member's assignment as the leader sends it.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.SyncGroupAssignment")]
public sealed class SyncGroupAssignment
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    /// <summary>Opaque assignment bytes, relayed unchanged to the member.</summary>
    [Id(1)] public byte[] Assignment { get; set; } = [];
}

/// <summary>A classic-protocol SyncGroup.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.SyncGroupRequest")]
public sealed class SyncGroupRequest
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public int GenerationId { get; set; }

    [Id(2)] public string? GroupInstanceId { get; set; }

    /// <summary>SyncGroup v5+: checked against the group's when given.</summary>
    [Id(3)] public string? ProtocolType { get; set; }

    /// <summary>SyncGroup v5+: checked against the group's when given.</summary>
    [Id(4)] public string? ProtocolName { get; set; }

    /// <summary>The leader's assignments; empty for the other members.</summary>
    [Id(5)] public SyncGroupAssignment[] Assignments { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.SyncGroupResponse")]
public sealed class SyncGroupResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    [Id(2)] public string? ProtocolType { get; set; }

    [Id(3)] public string? ProtocolName { get; set; }

    /// <summary>The member's assignment as the leader sent it (empty when the leader gave it none).</summary>
    [Id(4)] public byte[] Assignment { get; set; } = [];
}

/// <summary>A classic-protocol Heartbeat.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.ClassicHeartbeatRequest")]
public sealed class ClassicHeartbeatRequest
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public int GenerationId { get; set; }

    [Id(2)] public string? GroupInstanceId { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ClassicHeartbeatResponse")]
public sealed class ClassicHeartbeatResponse
{
    /// <summary>NONE, or REBALANCE_IN_PROGRESS when the member must join again.</summary>
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }
}

/// <summary>One member leaving (LeaveGroup v3+; v0-2 send one with a member id only).</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.LeaveGroupMember")]
public sealed class LeaveGroupMember
{
    /// <summary>May be empty for a static member named by <see cref="GroupInstanceId"/> (an admin removing it).</summary>
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? GroupInstanceId { get; set; }

    [Id(2)] public string? Reason { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.LeaveGroupRequest")]
public sealed class LeaveGroupRequest
{
    [Id(0)] public LeaveGroupMember[] Members { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
[Alias("broker.LeaveGroupMemberResponse")]
public sealed class LeaveGroupMemberResponse
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? GroupInstanceId { get; set; }

    [Id(2)] public ErrorCode Error { get; set; }
}

[GenerateSerializer]
[Immutable]
[Alias("broker.LeaveGroupResponse")]
public sealed class LeaveGroupResponse
{
    /// <summary>Top-level error (the per-member errors are in <see cref="Members"/>).</summary>
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public LeaveGroupMemberResponse[] Members { get; set; } = [];
}

/// <summary>What ListGroups v5 says of one group.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.GroupListing")]
public sealed class GroupListing
{
    [Id(0)] public string GroupId { get; set; } = string.Empty;

    /// <summary>"consumer" for KIP-848 groups; a classic group's protocol type (empty for a group that only holds offsets).</summary>
    [Id(1)] public string ProtocolType { get; set; } = string.Empty;

    /// <summary>Kafka's state string (see <see cref="KafkaGroupStates"/>).</summary>
    [Id(2)] public string State { get; set; } = "Empty";

    /// <summary><see cref="KafkaGroupStates.ClassicType"/> or <see cref="KafkaGroupStates.ConsumerType"/>.</summary>
    [Id(3)] public string GroupType { get; set; } = KafkaGroupStates.ClassicType;

    /// <summary>False when the group has neither members nor stored state (Kafka would not list it).</summary>
    [Id(4)] public bool Exists { get; set; }
}
