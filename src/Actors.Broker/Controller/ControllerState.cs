namespace Actors.Broker.Controller;

/// <summary>What the controller persists: every topic with its configs and partition states. Written as one record
/// with an ETag, so a stale controller activation's write fails and fences it.</summary>
[GenerateSerializer]
[Alias("broker.ControllerState")]
public sealed class ControllerState
{
    [Id(0)] public Dictionary<string, TopicRecord> Topics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Kafka's broker ids by silo name, with each silo's advertised Kafka address. An entry is never
    /// removed and an id never reused, so a silo keeps its id across restarts and replicas on a dead silo keep theirs.</summary>
    [Id(1)] public Dictionary<string, KafkaBrokerInfo> KafkaBrokers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The id the next silo to register gets; ids start at 1 and only grow.</summary>
    [Id(2)] public int NextKafkaNodeId { get; set; } = 1;
}

/// <summary>One topic as the controller keeps it.</summary>
[GenerateSerializer]
[Alias("broker.TopicRecord")]
public sealed class TopicRecord
{
    [Id(0)] public string Name { get; set; } = string.Empty;

    [Id(1)] public Guid TopicId { get; set; }

    [Id(2)] public Dictionary<string, string> Configs { get; set; } = new(StringComparer.Ordinal);

    [Id(3)] public PartitionState[] Partitions { get; set; } = [];

    public TopicDescription Describe() => new()
    {
        Name = Name,
        TopicId = TopicId,
        Partitions = Partitions.ToArray(),
        Configs = new Dictionary<string, string>(Configs, StringComparer.Ordinal),
    };
}
