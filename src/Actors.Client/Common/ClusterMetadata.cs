using System.Collections.Concurrent;
using Actors.Broker;

namespace Actors.Client;

/// <summary>
/// The topics a client uses, as the controller describes them (partition counts, leaders, leader epochs), cached and
/// refreshed on demand: after a NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH answer, and every metadata.max.age.ms.
/// </summary>
/// <remarks>Thread-safe: the cache is a concurrent map of immutable descriptions.</remarks>
internal sealed class ClusterMetadata(IGrainFactory grains, bool allowAutoCreate, TimeSpan maxAge)
{
    private readonly ConcurrentDictionary<string, (TopicDescription Topic, DateTime FetchedAt, long FetchedAtTicks)> topics = new(StringComparer.Ordinal);

    public IGrainFactory Grains => grains;

    public IControllerGrain Controller => grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    // Made on first use (two threads may each make one: either serves).
    private PartitionGrains Partitions => field ??= new(grains);

    /// <summary>The leader grain of one partition (its reference made once: every batch sent and fetch asks for it).</summary>
    public IPartitionGrain Partition(string topic, int partition) => Partitions.Get(new BrokerTopicPartition(topic, partition));

    public IConsumerGroupGrain Group(string groupId) => grains.GetGrain<IConsumerGroupGrain>(groupId);

    /// <summary>The topic's description, from the cache when it is younger than metadata.max.age.ms.</summary>
    /// <exception cref="ActorsException">The topic does not exist (and is not auto-created).</exception>
    public async ValueTask<TopicDescription> TopicAsync(string topic, bool fresh = false)
    {
        if (!fresh && topics.TryGetValue(topic, out var cached) && DateTime.UtcNow - cached.FetchedAt < maxAge)
        {
            return cached.Topic;
        }

        MetadataResponse answer;
        try
        {
            answer = await Controller.GetMetadataAsync(new MetadataRequest { Topics = [topic], AllowAutoTopicCreation = allowAutoCreate });
        }
        catch (Exception e)
        {
            throw ActorsException.From(e, $"Metadata of topic '{topic}'");
        }

        var found = answer.Topics.FirstOrDefault(t => string.Equals(t.Name, topic, StringComparison.Ordinal));
        if (found is null || found.Error != BrokerErrorCode.None || found.Description is null)
        {
            throw ActorsException.From(found?.Error ?? BrokerErrorCode.UnknownTopicOrPartition, found?.ErrorMessage, $"Metadata of topic '{topic}'");
        }

        topics[topic] = (found.Description, DateTime.UtcNow, Environment.TickCount64);
        return found.Description;
    }

    /// <summary>The cached description when it is younger than metadata.max.age.ms (no call, no allocation).</summary>
    public bool TryCached(string topic, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TopicDescription? description)
    {
        // The coarse tick count is enough to age the cache, and far cheaper than the wall clock once per record.
        if (topics.TryGetValue(topic, out var cached) && Environment.TickCount64 - cached.FetchedAtTicks < (long)maxAge.TotalMilliseconds)
        {
            description = cached.Topic;
            return true;
        }

        description = null;
        return false;
    }

    /// <summary>The leader epoch the cache knows for a partition, or -1.</summary>
    public int LeaderEpoch(string topic, int partition) =>
        topics.TryGetValue(topic, out var t) && partition < t.Topic.Partitions.Length ? t.Topic.Partitions[partition].LeaderEpoch : -1;

    /// <summary>Drops the cached description so the next use asks the controller.</summary>
    public void Invalidate(string topic) => topics.TryRemove(topic, out _);
}
