namespace Actors.Broker;

/// <summary>
/// The replication state of one partition as the controller persists it (Kafka's PartitionRegistration).
/// Silos are named by their stable silo name (Kafka's broker.id), so a restarted silo keeps its replicas.
/// </summary>
/// <remarks>Immutable once published. Every change that the controller makes bumps
/// <see cref="PartitionEpoch"/>; a change of leader also bumps <see cref="LeaderEpoch"/>. A request that names
/// an older partition epoch (a stale leader's ISR change) is refused, which fences stale leaders.</remarks>
[GenerateSerializer]
[Immutable]
[Alias("broker.PartitionState")]
public sealed class PartitionState
{
    [Id(0)] public string Topic { get; set; } = string.Empty;

    [Id(1)] public int Partition { get; set; }

    /// <summary>The assigned replicas in preference order; the first is the preferred leader.</summary>
    [Id(2)] public string[] Replicas { get; set; } = [];

    /// <summary>The leader's silo name, or null while the partition is offline.</summary>
    [Id(3)] public string? Leader { get; set; }

    [Id(4)] public int LeaderEpoch { get; set; }

    /// <summary>The in-sync replicas (the leader included while there is one).</summary>
    [Id(5)] public string[] Isr { get; set; } = [];

    [Id(6)] public int PartitionEpoch { get; set; }

    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary>The replica Kafka's auto leader rebalance prefers (the first assigned).</summary>
    public string PreferredLeader => Replicas.Length > 0 ? Replicas[0] : string.Empty;

    public bool IsOnline => Leader is not null;

    public PartitionState With(string? leader, int leaderEpoch, string[] isr, int partitionEpoch) => new()
    {
        Topic = Topic,
        Partition = Partition,
        Replicas = Replicas,
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
    [Id(0)] public string Name { get; set; } = string.Empty;

    [Id(1)] public Guid TopicId { get; set; }

    [Id(2)] public PartitionState[] Partitions { get; set; } = [];

    /// <summary>Configs set on the topic (overrides only; silo defaults apply to the rest).</summary>
    [Id(3)] public Dictionary<string, string> Configs { get; set; } = new(StringComparer.Ordinal);

    public int ReplicationFactor => Partitions.Length > 0 ? Partitions[0].Replicas.Length : 0;
}
