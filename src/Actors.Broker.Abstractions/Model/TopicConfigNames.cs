namespace Actors.Broker;

/// <summary>Per-topic configuration names (Kafka's), each overriding the silo default named in its comment.</summary>
public static class TopicConfigNames
{
    /// <summary>How long a closed segment is kept, in ms; -1 = forever. Default log.retention.ms.</summary>
    public const string RetentionMs = "retention.ms";

    /// <summary>Largest partition size before old segments are deleted; -1 = unlimited. Default log.retention.bytes.</summary>
    public const string RetentionBytes = "retention.bytes";

    /// <summary>Segment file size at which a new segment is rolled. Default log.segment.bytes.</summary>
    public const string SegmentBytes = "segment.bytes";

    /// <summary>Segment age at which a new segment is rolled. Default log.roll.ms.</summary>
    public const string SegmentMs = "segment.ms";

    /// <summary>Fewest in-sync replicas for an acks=all produce to succeed. Default min.insync.replicas.</summary>
    public const string MinInsyncReplicas = "min.insync.replicas";

    /// <summary>Largest record batch the partition accepts. Default message.max.bytes.</summary>
    public const string MaxMessageBytes = "max.message.bytes";

    /// <summary>"delete" (or "compact", accepted but not yet applied). Default log.cleanup.policy.</summary>
    public const string CleanupPolicy = "cleanup.policy";

    /// <summary>Whether an out-of-sync replica may become leader. Default unclean.leader.election.enable.</summary>
    public const string UncleanLeaderElectionEnable = "unclean.leader.election.enable";

    /// <summary>Records appended since the last fsync that trigger one; default log.flush.interval.messages
    /// (never: durability comes from replication, as in Kafka).</summary>
    public const string FlushMessages = "flush.messages";

    /// <summary>Age of the last fsync, in ms, that triggers one; default log.flush.interval.ms (never).</summary>
    public const string FlushMs = "flush.ms";

    /// <summary>Every name a topic accepts.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        RetentionMs, RetentionBytes, SegmentBytes, SegmentMs, MinInsyncReplicas, MaxMessageBytes,
        CleanupPolicy, UncleanLeaderElectionEnable, FlushMessages, FlushMs,
    ];
}
