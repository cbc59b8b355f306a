using System.Collections.Concurrent;

namespace Actors.Broker;

/// <summary>
/// The partition grains' references, each made once and kept. Making one (<c>IGrainFactory.GetGrain</c>) resolves the
/// grain interface's type by reflection each time it is asked: made per produce and fetch request, that was 7% of a
/// silo's CPU at 350,000 records/s. A reference is immutable and stays valid wherever the grain is activated, so one per
/// partition serves every caller on every thread.
/// </summary>
/// <remarks>Bounded: once <see cref="Capacity"/> partitions are held (topics created and deleted over time), the map
/// starts over.</remarks>
public sealed class PartitionGrains(IGrainFactory grains)
{
    /// <summary>The most references held.</summary>
    public const int Capacity = 100_000;

    private readonly ConcurrentDictionary<TopicPartition, IPartitionGrain> references = new();

    /// <summary>The leader grain of <paramref name="tp"/>.</summary>
    public IPartitionGrain Get(TopicPartition tp)
    {
        if (references.TryGetValue(tp, out var grain))
        {
            return grain;
        }

        if (references.Count >= Capacity)
        {
            references.Clear();
        }

        grain = grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));
        references.TryAdd(tp, grain);
        return grain;
    }
}
