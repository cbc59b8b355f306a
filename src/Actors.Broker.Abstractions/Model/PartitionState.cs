namespace Actors.Broker;

/// <summary>
/// The replication state of one partition as the controller persists it (Kafka's PartitionRegistration).
/// Silos are named by their stable silo name (Kafka's broker.id), so a restarted silo keeps its replicas.
/// </summary>
/// <remarks>Immutable: every property is set only when the state is made, and a change is a new state
/// (<see cref="With"/>). Every change that the controller makes bumps <see cref="PartitionEpoch"/>; a change of leader
/// also bumps <see cref="LeaderEpoch"/>. Which of two states is newer is decided in one place,
/// <see cref="IsNewerThan"/>. A request that names an older partition epoch (a stale leader's ISR change) is refused,
/// which fences stale leaders.</remarks>
[GenerateSerializer]
[Immutable]
[Alias("broker.PartitionState")]
public sealed class PartitionState
{
    [Id(0)] public string Topic { get; init; } = string.Empty;

    [Id(1)] public int Partition { get; init; }

    /// <summary>The assigned replicas in preference order; the first is the preferred leader. Never modify the array.</summary>
    [Id(2)] public string[] Replicas { get; init; } = [];

    /// <summary>The leader's silo name, or null while the partition is offline.</summary>
    [Id(3)] public string? Leader { get; init; }

    [Id(4)] public int LeaderEpoch { get; init; }

    /// <summary>The in-sync replicas (the leader included while there is one). Never modify the array.</summary>
    [Id(5)] public string[] Isr { get; init; } = [];

    [Id(6)] public int PartitionEpoch { get; init; }

    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary>The replica Kafka's auto leader rebalance prefers (the first assigned).</summary>
    public string PreferredLeader => Replicas.Length > 0 ? Replicas[0] : string.Empty;

    public bool IsOnline => Leader is not null;

    /// <summary>The one rule for "is this state newer?", used wherever states are compared: a higher leader epoch
    /// wins; within one leader epoch a higher partition epoch wins. Anything is newer than no state. Equal epochs are
    /// the same state, not a newer one.</summary>
    public bool IsNewerThan(PartitionState? other) =>
        other is null
        || LeaderEpoch > other.LeaderEpoch
        || (LeaderEpoch == other.LeaderEpoch && PartitionEpoch > other.PartitionEpoch);

    /// <summary>A copy with a new leader, leader epoch, ISR and partition epoch (and, when given, replicas).</summary>
    public PartitionState With(string? leader, int leaderEpoch, string[] isr, int partitionEpoch, string[]? replicas = null) => new()
    {
        Topic = Topic,
        Partition = Partition,
        Replicas = replicas ?? Replicas,
        Leader = leader,
        LeaderEpoch = leaderEpoch,
        Isr = isr,
        PartitionEpoch = partitionEpoch,
    };

    public override string ToString() =>
        $"{TopicPartition} leader={Leader ?? "none"} leaderEpoch={LeaderEpoch} isr=[{string.Join(',', Isr)}] " +
        $"replicas=[{string.Join(',', Replicas)}] partitionEpoch={PartitionEpoch}";
}

/// <summary>A topic as <c>describe</c> shows it.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.TopicDescription")]
public sealed class TopicDescription
{
    [Id(0)] public string Name { get; init; } = string.Empty;

    [Id(1)] public Guid TopicId { get; init; }

    [Id(2)] public PartitionState[] Partitions { get; init; } = [];

    /// <summary>Configs set on the topic (overrides only; silo defaults apply to the rest).</summary>
    [Id(3)] public Dictionary<string, string> Configs { get; init; } = new(StringComparer.Ordinal);

    public int ReplicationFactor => Partitions.Length > 0 ? Partitions[0].Replicas.Length : 0;
}
