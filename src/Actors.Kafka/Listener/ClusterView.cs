using Actors.Broker;
using BrokerMetadataRequest = Actors.Broker.MetadataRequest;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;

namespace Actors.Kafka.Listener;

/// <summary>
/// The listener's cached copy of the cluster's metadata (every topic, the Active silos and their Kafka broker ids),
/// used to route produce and fetch requests and to answer for partitions without asking the controller each time.
/// A copy older than <see cref="MaxAge"/> is fetched again on next use; a caller that finds it wrong (a partition it
/// thinks this silo leads answers NOT_LEADER_OR_FOLLOWER) asks for a fresh one. A Metadata request for every topic
/// also refreshes it.
/// </summary>
/// <remarks>Thread-safe: snapshots are immutable and replaced whole; at most one fetch runs at a time.</remarks>
public sealed class ClusterView(Func<BrokerMetadataRequest, Task<BrokerMetadataResponse>> source, TimeProvider time)
{
    private readonly Lock gate = new();
    private ClusterSnapshot? current;
    private Task<ClusterSnapshot>? fetching;

    /// <summary>How long a snapshot is used before it is fetched again.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The current snapshot, fetched first when there is none or it is older than <see cref="MaxAge"/>, or
    /// when <paramref name="fresh"/> asks for one newer than the last.</summary>
    public async ValueTask<ClusterSnapshot> GetAsync(bool fresh = false)
    {
        var snapshot = current;
        if (!fresh && snapshot is not null && time.GetElapsedTime(snapshot.FetchedAt) < MaxAge)
        {
            return snapshot;
        }

        Task<ClusterSnapshot> task;
        lock (gate)
        {
            task = fetching ??= FetchAsync();
        }

        return await task.ConfigureAwait(false);
    }

    /// <summary>Asks the controller for <paramref name="request"/>; an answer for every topic also becomes the new
    /// snapshot.</summary>
    public async Task<BrokerMetadataResponse> AskAsync(BrokerMetadataRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var answer = await source(request).ConfigureAwait(false);
        if (request.Topics is null)
        {
            current = new ClusterSnapshot(answer, time.GetTimestamp());
        }

        return answer;
    }

    private async Task<ClusterSnapshot> FetchAsync()
    {
        try
        {
            var answer = await source(new BrokerMetadataRequest { Topics = null }).ConfigureAwait(false);
            var snapshot = new ClusterSnapshot(answer, time.GetTimestamp());
            current = snapshot;
            return snapshot;
        }
        finally
        {
            lock (gate)
            {
                fetching = null;
            }
        }
    }
}

/// <summary>One copy of the cluster's metadata, indexed for the listener.</summary>
public sealed class ClusterSnapshot
{
    private readonly Dictionary<string, TopicDescription> topics;

    public ClusterSnapshot(BrokerMetadataResponse answer, long fetchedAt)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Answer = answer;
        FetchedAt = fetchedAt;
        topics = answer.Topics.Where(t => t.Description is not null)
            .ToDictionary(t => t.Name, t => t.Description!, StringComparer.Ordinal);
        Active = answer.Silos.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        Brokers = answer.KafkaBrokers.ToDictionary(b => b.SiloName, StringComparer.Ordinal);
    }

    /// <summary>The controller's answer this snapshot indexes.</summary>
    public BrokerMetadataResponse Answer { get; }

    /// <summary>When it was fetched (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long FetchedAt { get; }

    /// <summary>The Active silos' names.</summary>
    public IReadOnlySet<string> Active { get; }

    /// <summary>Every registered Kafka broker, by silo name.</summary>
    public IReadOnlyDictionary<string, KafkaBrokerInfo> Brokers { get; }

    /// <summary>The Kafka brokers of Active silos, by node id.</summary>
    public IEnumerable<KafkaBrokerInfo> LiveBrokers =>
        Brokers.Values.Where(b => Active.Contains(b.SiloName)).OrderBy(b => b.NodeId);

    /// <summary>The lowest live broker id: what clients are told is the controller (-1 when none).</summary>
    public int ControllerId => LiveBrokers.Select(b => b.NodeId).DefaultIfEmpty(-1).First();

    /// <summary>The topic named <paramref name="name"/>, if it exists.</summary>
    public TopicDescription? Topic(string name) => topics.GetValueOrDefault(name);

    /// <summary>The topic with id <paramref name="topicId"/>, if it exists.</summary>
    public TopicDescription? TopicById(Guid topicId) => topics.Values.FirstOrDefault(t => t.TopicId == topicId);

    /// <summary>Every topic.</summary>
    public IEnumerable<TopicDescription> Topics => topics.Values;

    /// <summary>The state of one partition, if the topic and partition exist.</summary>
    public PartitionState? Partition(string topic, int partition) =>
        topics.TryGetValue(topic, out var description) && partition >= 0 && partition < description.Partitions.Length
            ? description.Partitions.FirstOrDefault(p => p.Partition == partition)
            : null;

    /// <summary>The Kafka broker id of <paramref name="siloName"/>, or -1.</summary>
    public int NodeId(string? siloName) =>
        siloName is not null && Brokers.TryGetValue(siloName, out var broker) ? broker.NodeId : -1;
}
