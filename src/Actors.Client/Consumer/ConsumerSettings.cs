namespace Actors.Client;

/// <summary>The consumer's settings, by Kafka's names and with Kafka's defaults.</summary>
internal sealed class ConsumerSettings
{
    public ConsumerSettings(ClientConfig c)
    {
        ClientId = c.Get("client.id", "actors-consumer");
        GroupId = c.Get("group.id");
        AutoOffsetReset = c.OneOf("auto.offset.reset", "latest", "earliest", "latest", "error", "smallest", "largest", "beginning", "end") switch
        {
            "smallest" or "beginning" => "earliest",
            "largest" or "end" => "latest",
            var v => v,
        };
        EnableAutoCommit = c.Bool("enable.auto.commit", true);
        AutoCommitIntervalMs = c.Int("auto.commit.interval.ms", 5_000);
        EnableAutoOffsetStore = c.Bool("enable.auto.offset.store", true);
        FetchMinBytes = c.Int("fetch.min.bytes", 1, min: 1);
        FetchMaxWaitMs = c.Int("fetch.max.wait.ms", c.Int("fetch.wait.max.ms", 500));
        MaxPartitionFetchBytes = c.Int("max.partition.fetch.bytes", 1_048_576, min: 1);
        MaxPollRecords = c.Int("max.poll.records", 500, min: 1);
        SessionTimeoutMs = c.Int("session.timeout.ms", 45_000, min: 1);
        MaxPollIntervalMs = c.Int("max.poll.interval.ms", 300_000, min: 1);
        Assignor = c.Get("group.remote.assignor");
        GroupInstanceId = c.Get("group.instance.id");
        AllowAutoCreate = c.Bool("allow.auto.create.topics", false);
        MetadataMaxAgeMs = c.Int("metadata.max.age.ms", 300_000, min: 1);
        TopicMetadataRefreshIntervalMs = c.Int("topic.metadata.refresh.interval.ms", 300_000, min: 1);
        RetryBackoffMs = c.Int("retry.backoff.ms", 100);
    }

    public string ClientId { get; }

    public string? GroupId { get; }

    public string AutoOffsetReset { get; }

    public bool EnableAutoCommit { get; }

    public int AutoCommitIntervalMs { get; }

    public bool EnableAutoOffsetStore { get; }

    public int FetchMinBytes { get; }

    public int FetchMaxWaitMs { get; }

    public int MaxPartitionFetchBytes { get; }

    public int MaxPollRecords { get; }

    public int SessionTimeoutMs { get; }

    public int MaxPollIntervalMs { get; }

    public string? Assignor { get; }

    public string? GroupInstanceId { get; }

    public bool AllowAutoCreate { get; }

    public int MetadataMaxAgeMs { get; }

    /// <summary>How often a regular-expression subscription is matched again against the cluster's topics.</summary>
    public int TopicMetadataRefreshIntervalMs { get; }

    public int RetryBackoffMs { get; }
}
