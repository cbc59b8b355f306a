using Actors.Broker.Partitioning;
using Orleans.Runtime;
using Orleans.Streams;

namespace Actors.Streams;

/// <summary>
/// One Orleans queue per partition of the provider's topics (the queue's name is the topic, its number the partition).
/// A stream goes to its namespace's topic and to the partition Kafka's murmur2 partitioner gives its key, the partition
/// the provider writes its events to, so a Kafka client producing with the stream's key lands in the same queue.
/// </summary>
internal sealed class ActorsStreamQueueMapper : IConsistentRingStreamQueueMapper
{
    private readonly string providerName;
    private readonly ActorsStreamOptions options;
    private readonly Dictionary<(string Topic, int Partition), QueueId> queues = [];

    public ActorsStreamQueueMapper(string providerName, ActorsStreamOptions options)
    {
        this.providerName = providerName;
        this.options = options;
        var topics = options.AllTopics(providerName).ToArray();
        var total = (ulong)(topics.Length * options.Partitions);
        var i = 0UL;
        foreach (var topic in topics)
        {
            for (var p = 0; p < options.Partitions; p++)
            {
                // Evenly spread on the ring, so the consistent-ring balancer gives each silo a like share.
                var hash = (uint)(i * uint.MaxValue / total);
                queues[(topic, p)] = QueueId.GetQueueId(topic, (uint)p, hash);
                i++;
            }
        }
    }

    public IEnumerable<QueueId> GetAllQueues() => queues.Values;

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) => queues.Values.Where(q => range.InRange(q.GetUniformHashCode()));

    public QueueId GetQueueForStream(StreamId streamId)
    {
        var (topic, partition) = PartitionOf(streamId);
        return queues[(topic, partition)];
    }

    /// <summary>The topic and partition that hold a stream's events.</summary>
    public (string Topic, int Partition) PartitionOf(StreamId streamId)
    {
        var topic = options.TopicFor(providerName, streamId.GetNamespace());
        return (topic, Murmur2Partitioner.Partition(streamId.Key.Span, options.Partitions));
    }

    public static (string Topic, int Partition) PartitionOf(QueueId queue) => (queue.GetStringNamePrefix(), (int)queue.GetNumericId());
}
