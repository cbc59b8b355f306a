using Actors.Broker.Topics;

namespace Actors.Broker.Configuration;

/// <summary>
/// The broker's silo-wide settings, named after Kafka's server.properties (in comments). Topic configs
/// (<see cref="TopicConfigNames"/>) override the log and replication defaults per topic.
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>The silo's own folder ("data" by default): partition logs go under it unless log.dirs says otherwise.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>log.dirs: where partition directories live; "&lt;DataDirectory&gt;/logs" when empty.</summary>
    public string LogDirs { get; set; } = string.Empty;

    /// <summary>num.partitions: partitions of a topic created without a count.</summary>
    public int NumPartitions { get; set; } = 1;

    /// <summary>default.replication.factor.</summary>
    public short DefaultReplicationFactor { get; set; } = 1;

    /// <summary>auto.create.topics.enable.</summary>
    public bool AutoCreateTopicsEnable { get; set; } = true;

    /// <summary>log.retention.ms (7 days); -1 keeps segments forever.</summary>
    public long LogRetentionMs { get; set; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>log.retention.bytes; -1 = unlimited.</summary>
    public long LogRetentionBytes { get; set; } = -1;

    /// <summary>log.segment.bytes (1 GiB).</summary>
    public int LogSegmentBytes { get; set; } = 1024 * 1024 * 1024;

    /// <summary>log.roll.ms (7 days).</summary>
    public long LogRollMs { get; set; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>log.retention.check.interval.ms (5 minutes).</summary>
    public long LogRetentionCheckIntervalMs { get; set; } = 5 * 60 * 1000;

    /// <summary>log.flush.interval.messages: fsync a partition's log once this many records were appended since its
    /// last flush (topic config flush.messages overrides it). Default <see cref="long.MaxValue"/>, as in Kafka:
    /// never by count; an acknowledged record is durable through replication (acks=all, min.insync.replicas) and the
    /// page cache, and survives a process kill but not a power loss of every replica at once. Set 1 to fsync every
    /// append (slow).</summary>
    public long LogFlushIntervalMessages { get; set; } = long.MaxValue;

    /// <summary>log.flush.interval.ms: fsync a partition's log when its last flush is this old (topic config flush.ms
    /// overrides it); checked on append and every replica.high.watermark.checkpoint.interval.ms. Default
    /// <see cref="long.MaxValue"/>, as in Kafka: never by time (see <see cref="LogFlushIntervalMessages"/>).</summary>
    public long LogFlushIntervalMs { get; set; } = long.MaxValue;

    /// <summary>replica.high.watermark.checkpoint.interval.ms (5 s): how often each partition's high watermark and
    /// recovery point are written to their checkpoint files, so a killed silo recovers only the tail after its last
    /// recovery point. Segments are flushed when they roll, which moves the recovery point forward.</summary>
    public long ReplicaHighWatermarkCheckpointIntervalMs { get; set; } = 5_000;

    /// <summary>min.insync.replicas.</summary>
    public int MinInsyncReplicas { get; set; } = 1;

    /// <summary>message.max.bytes: largest record batch accepted (Kafka's default 1048588).</summary>
    public int MessageMaxBytes { get; set; } = 1_048_588;

    /// <summary>unclean.leader.election.enable.</summary>
    public bool UncleanLeaderElectionEnable { get; set; }

    /// <summary>replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR.</summary>
    public long ReplicaLagTimeMaxMs { get; set; } = 30_000;

    /// <summary>replica.fetch.wait.max.ms: a follower's long-poll wait.</summary>
    public int ReplicaFetchWaitMaxMs { get; set; } = 500;

    /// <summary>replica.fetch.max.bytes.</summary>
    public int ReplicaFetchMaxBytes { get; set; } = 1_048_576;

    /// <summary>auto.leader.rebalance.enable.</summary>
    public bool AutoLeaderRebalanceEnable { get; set; } = true;

    /// <summary>leader.imbalance.check.interval.seconds (Kafka: 300).</summary>
    public int LeaderImbalanceCheckIntervalSeconds { get; set; } = 300;

    /// <summary>How often the controller re-reads membership besides reacting to view changes, in ms.</summary>
    public int ControllerMembershipPollMs { get; set; } = 1000;

    /// <summary>How often the controller re-sends every partition's state to its leader and replicas (idempotent), so a
    /// notification lost to a timeout or a restart is repaired, in ms.</summary>
    public int ControllerResyncMs { get; set; } = 5000;

    /// <summary>offsets.retention.minutes: offsets of an empty group expire after this (7 days).</summary>
    public int OffsetsRetentionMinutes { get; set; } = 7 * 24 * 60;

    /// <summary>group.consumer.session.timeout.ms default (45 s).</summary>
    public int GroupSessionTimeoutMs { get; set; } = 45_000;

    /// <summary>group.consumer.heartbeat.interval.ms (3 s).</summary>
    public int GroupHeartbeatIntervalMs { get; set; } = 3_000;

    /// <summary>max.poll.interval.ms default (5 minutes): a member that does not come back within it is removed.</summary>
    public int GroupRebalanceTimeoutMs { get; set; } = 300_000;

    /// <summary>group.consumer.max.size: most members in one group.</summary>
    public int GroupMaxSize { get; set; } = 1000;

    /// <summary>group.min.session.timeout.ms: the shortest session timeout a classic-protocol member may ask for (6 s).</summary>
    public int GroupMinSessionTimeoutMs { get; set; } = 6_000;

    /// <summary>group.max.session.timeout.ms: the longest session timeout a classic-protocol member may ask for (30 minutes).</summary>
    public int GroupMaxSessionTimeoutMs { get; set; } = 1_800_000;

    /// <summary>group.initial.rebalance.delay.ms: how long the first rebalance of an empty classic group waits for more
    /// members (3 s; each new member extends it by this much, up to the rebalance timeout).</summary>
    public int GroupInitialRebalanceDelayMs { get; set; } = 3_000;

    /// <summary>group.max.size: most members in one classic group (Kafka's default is unbounded).</summary>
    public int ClassicGroupMaxSize { get; set; } = int.MaxValue;

    /// <summary>Upper bound on partitions per topic (bounds memory and controller work).</summary>
    public int MaxPartitionsPerTopic { get; set; } = 10_000;

    /// <summary>producer.id.expiration.ms: idempotence state of a silent producer is dropped after this (1 day).</summary>
    public long ProducerIdExpirationMs { get; set; } = 24L * 60 * 60 * 1000;

    /// <summary>Producer ids reserved per persisted block.</summary>
    public int ProducerIdBlockSize { get; set; } = 1000;

    /// <summary>metrics.refresh.ms: how often the silo refreshes its gauges (under-replicated and offline partitions,
    /// consumer lag), in ms.</summary>
    public int MetricsRefreshMs { get; set; } = 5000;

    /// <summary>Checks the settings; the message names the first bad one.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Require(!string.IsNullOrWhiteSpace(LogDirs), "Actors:Broker:LogDirs (log.dirs) must name a directory for partition logs.");
        Require(NumPartitions >= 1, $"Actors:Broker:NumPartitions (num.partitions) must be at least 1; got {NumPartitions}.");
        Require(DefaultReplicationFactor >= 1, $"Actors:Broker:DefaultReplicationFactor (default.replication.factor) must be at least 1; got {DefaultReplicationFactor}.");
        Require(LogRetentionMs >= -1, $"Actors:Broker:LogRetentionMs (log.retention.ms) must be -1 or more; got {LogRetentionMs}.");
        Require(LogRetentionBytes >= -1, $"Actors:Broker:LogRetentionBytes (log.retention.bytes) must be -1 or more; got {LogRetentionBytes}.");
        Require(LogSegmentBytes >= TopicConfigValidator.MinSegmentBytes, $"Actors:Broker:LogSegmentBytes (log.segment.bytes) must be at least {TopicConfigValidator.MinSegmentBytes}; got {LogSegmentBytes}.");
        Require(LogRollMs >= 1, $"Actors:Broker:LogRollMs (log.roll.ms) must be at least 1; got {LogRollMs}.");
        Require(LogRetentionCheckIntervalMs >= 1, $"Actors:Broker:LogRetentionCheckIntervalMs (log.retention.check.interval.ms) must be at least 1; got {LogRetentionCheckIntervalMs}.");
        Require(LogFlushIntervalMessages >= 1, $"Actors:Broker:LogFlushIntervalMessages (log.flush.interval.messages) must be at least 1; got {LogFlushIntervalMessages}.");
        Require(LogFlushIntervalMs >= 0, $"Actors:Broker:LogFlushIntervalMs (log.flush.interval.ms) must be 0 or more; got {LogFlushIntervalMs}.");
        Require(ReplicaHighWatermarkCheckpointIntervalMs >= 1, $"Actors:Broker:ReplicaHighWatermarkCheckpointIntervalMs (replica.high.watermark.checkpoint.interval.ms) must be at least 1; got {ReplicaHighWatermarkCheckpointIntervalMs}.");
        Require(MinInsyncReplicas >= 1, $"Actors:Broker:MinInsyncReplicas (min.insync.replicas) must be at least 1; got {MinInsyncReplicas}.");
        Require(MessageMaxBytes >= 0, $"Actors:Broker:MessageMaxBytes (message.max.bytes) must be 0 or more; got {MessageMaxBytes}.");
        Require(ReplicaLagTimeMaxMs >= 1, $"Actors:Broker:ReplicaLagTimeMaxMs (replica.lag.time.max.ms) must be at least 1; got {ReplicaLagTimeMaxMs}.");
        Require(ReplicaFetchWaitMaxMs >= 0 && ReplicaFetchWaitMaxMs <= ReplicaLagTimeMaxMs, $"Actors:Broker:ReplicaFetchWaitMaxMs (replica.fetch.wait.max.ms) must be between 0 and replica.lag.time.max.ms; got {ReplicaFetchWaitMaxMs}.");
        Require(ReplicaFetchMaxBytes >= 1, $"Actors:Broker:ReplicaFetchMaxBytes (replica.fetch.max.bytes) must be at least 1; got {ReplicaFetchMaxBytes}.");
        Require(LeaderImbalanceCheckIntervalSeconds >= 1, $"Actors:Broker:LeaderImbalanceCheckIntervalSeconds (leader.imbalance.check.interval.seconds) must be at least 1; got {LeaderImbalanceCheckIntervalSeconds}.");
        Require(ControllerMembershipPollMs >= 10, $"Actors:Broker:ControllerMembershipPollMs must be at least 10; got {ControllerMembershipPollMs}.");
        Require(ControllerResyncMs >= 100, $"Actors:Broker:ControllerResyncMs must be at least 100; got {ControllerResyncMs}.");
        Require(OffsetsRetentionMinutes >= 1, $"Actors:Broker:OffsetsRetentionMinutes (offsets.retention.minutes) must be at least 1; got {OffsetsRetentionMinutes}.");
        Require(GroupHeartbeatIntervalMs >= 1 && GroupHeartbeatIntervalMs < GroupSessionTimeoutMs, $"Actors:Broker:GroupHeartbeatIntervalMs (group.consumer.heartbeat.interval.ms) must be at least 1 and below GroupSessionTimeoutMs; got {GroupHeartbeatIntervalMs}.");
        Require(GroupRebalanceTimeoutMs >= 1, $"Actors:Broker:GroupRebalanceTimeoutMs (max.poll.interval.ms) must be at least 1; got {GroupRebalanceTimeoutMs}.");
        Require(GroupMaxSize >= 1, $"Actors:Broker:GroupMaxSize (group.consumer.max.size) must be at least 1; got {GroupMaxSize}.");
        Require(GroupMinSessionTimeoutMs >= 1 && GroupMinSessionTimeoutMs <= GroupMaxSessionTimeoutMs, $"Actors:Broker:GroupMinSessionTimeoutMs (group.min.session.timeout.ms) must be at least 1 and at most GroupMaxSessionTimeoutMs; got {GroupMinSessionTimeoutMs}.");
        Require(GroupInitialRebalanceDelayMs >= 0, $"Actors:Broker:GroupInitialRebalanceDelayMs (group.initial.rebalance.delay.ms) must be 0 or more; got {GroupInitialRebalanceDelayMs}.");
        Require(ClassicGroupMaxSize >= 1, $"Actors:Broker:ClassicGroupMaxSize (group.max.size) must be at least 1; got {ClassicGroupMaxSize}.");
        Require(MaxPartitionsPerTopic >= 1, $"Actors:Broker:MaxPartitionsPerTopic must be at least 1; got {MaxPartitionsPerTopic}.");
        Require(ProducerIdExpirationMs >= 1, $"Actors:Broker:ProducerIdExpirationMs (producer.id.expiration.ms) must be at least 1; got {ProducerIdExpirationMs}.");
        Require(MetricsRefreshMs >= 100, $"Actors:Broker:MetricsRefreshMs (metrics.refresh.ms) must be at least 100; got {MetricsRefreshMs}.");
        Require(ProducerIdBlockSize >= 1, $"Actors:Broker:ProducerIdBlockSize must be at least 1; got {ProducerIdBlockSize}.");
    }
}
