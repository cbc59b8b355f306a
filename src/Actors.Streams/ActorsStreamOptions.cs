namespace Actors.Streams;

/// <summary>Settings of one Actors stream provider (<c>AddActorsStreams(name, ...)</c>): which topics hold its
/// events, how they are made, and where its pulling agents start.</summary>
public sealed class ActorsStreamOptions
{
    /// <summary>The topic for every stream namespace not in <see cref="NamespaceTopics"/>; by default
    /// <c>orleans.streams.{provider name}</c>.</summary>
    public string? Topic { get; set; }

    /// <summary>Stream namespaces with a topic of their own (namespace → topic).</summary>
    public Dictionary<string, string> NamespaceTopics { get; } = new(StringComparer.Ordinal);

    /// <summary>Partitions of each topic, one Orleans queue (and pulling agent) each. A topic made by the provider gets
    /// this many; an existing topic must have this many.</summary>
    public int Partitions { get; set; } = 8;

    /// <summary>Replication factor of the topics the provider makes; -1 is the cluster's default.replication.factor.</summary>
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>The consumer group whose committed offsets record the agents' progress; by default
    /// <c>orleans.streams.{provider name}</c>.</summary>
    public string? GroupId { get; set; }

    /// <summary>Where a partition with no committed offset is first read from: <c>earliest</c> (every retained event,
    /// the default) or <c>latest</c>.</summary>
    public string StartFrom { get; set; } = "earliest";

    /// <summary>Producer settings (Kafka names) for the events the provider writes; acks=all and idempotence are the
    /// defaults, linger.ms is 0.</summary>
    public Dictionary<string, string> Producer { get; } = new(StringComparer.Ordinal);

    /// <summary>Events each queue keeps in memory for its subscribers; a subscriber further behind (or rewinding to an
    /// older token) reads the log instead.</summary>
    public int CacheSize { get; set; } = 4096;

    /// <summary>Upper bound on one read of the log for a rewinding subscriber.</summary>
    public int FetchMaxBytes { get; set; } = 1_048_576;

    /// <summary>How often a queue commits its agents' progress to <see cref="GroupId"/> while events flow.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal string TopicFor(string providerName, string? streamNamespace) =>
        streamNamespace is not null && NamespaceTopics.TryGetValue(streamNamespace, out var t) ? t : DefaultTopic(providerName);

    internal string DefaultTopic(string providerName) => Topic ?? $"orleans.streams.{providerName}";

    internal string Group(string providerName) => GroupId ?? $"orleans.streams.{providerName}";

    internal IEnumerable<string> AllTopics(string providerName) =>
        NamespaceTopics.Values.Append(DefaultTopic(providerName)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    /// <summary>Checks the settings; the message names the setting to change.</summary>
    internal void Validate(string providerName)
    {
        if (Partitions is < 1 or > 10_000)
        {
            throw new ArgumentException($"Actors stream provider '{providerName}': Partitions is {Partitions}; it must be from 1 to 10000.");
        }

        if (StartFrom is not ("earliest" or "latest"))
        {
            throw new ArgumentException($"Actors stream provider '{providerName}': StartFrom is '{StartFrom}'; it must be earliest or latest.");
        }

        if (CacheSize < 1)
        {
            throw new ArgumentException($"Actors stream provider '{providerName}': CacheSize is {CacheSize}; it must be at least 1.");
        }

        if (FetchMaxBytes < 1024)
        {
            throw new ArgumentException($"Actors stream provider '{providerName}': FetchMaxBytes is {FetchMaxBytes}; it must be at least 1024.");
        }

        if (AllTopics(providerName).FirstOrDefault(t => t.Length is 0 or > 249) is { } bad)
        {
            throw new ArgumentException($"Actors stream provider '{providerName}': the topic name '{bad}' must have 1 to 249 characters (Topic, NamespaceTopics).");
        }
    }
}
