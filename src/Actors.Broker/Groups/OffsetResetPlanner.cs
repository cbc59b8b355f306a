namespace Actors.Broker.Groups;

/// <summary>What the planner knows of one partition.</summary>
/// <param name="TopicPartition">The partition.</param>
/// <param name="LogStartOffset">Its log start offset.</param>
/// <param name="LogEndOffset">Its log end offset (the high watermark consumers see).</param>
/// <param name="OffsetForTimestamp">For to-datetime and by-duration: the first offset whose timestamp is at or
/// after the target time, or null when there is none (then the log end offset is used).</param>
public sealed record PartitionOffsetBounds(TopicPartition TopicPartition, long LogStartOffset, long LogEndOffset, long? OffsetForTimestamp = null);

/// <summary>
/// Plans an offset reset as kafka-consumer-groups --reset-offsets does: to-earliest, to-latest, to-offset,
/// shift-by, to-datetime, by-duration and to-current, for the chosen partitions. New offsets are clamped to
/// [log start, log end]. Shift-by and to-current start from the committed offset, or from the log end when
/// nothing is committed. Pure: the caller fetches the offsets and applies the plan.
/// </summary>
public static class OffsetResetPlanner
{
    /// <summary>The target timestamp (ms since the Unix epoch) that to-datetime/by-duration need, else null.</summary>
    public static long? TargetTimestamp(OffsetResetMode mode, long value, long nowMs) => mode switch
    {
        OffsetResetMode.ToDatetime => value,
        OffsetResetMode.ByDuration => value < 0
            ? throw new BrokerException(ErrorCode.InvalidRequest, $"--by-duration must not be negative; got {value} ms.")
            : nowMs - value,
        _ => null,
    };

    /// <summary>Plans new offsets for every partition in <paramref name="bounds"/>.</summary>
    /// <param name="mode">The reset mode.</param>
    /// <param name="value">The mode's argument (see <see cref="ResetOffsetsRequest.Value"/>).</param>
    /// <param name="bounds">The chosen partitions with their offsets.</param>
    /// <param name="committed">Currently committed offsets.</param>
    public static OffsetResetPlanEntry[] Plan(
        OffsetResetMode mode,
        long value,
        IReadOnlyList<PartitionOffsetBounds> bounds,
        IReadOnlyDictionary<TopicPartition, long> committed)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(committed);
        if (mode == OffsetResetMode.ToOffset && value < 0)
        {
            throw new BrokerException(ErrorCode.InvalidRequest, $"--to-offset must be 0 or more; got {value}.");
        }

        var plan = new List<OffsetResetPlanEntry>(bounds.Count);
        foreach (var b in bounds.OrderBy(b => b.TopicPartition))
        {
            var current = committed.TryGetValue(b.TopicPartition, out var c) ? c : -1;
            var basis = current >= 0 ? current : b.LogEndOffset;
            long wanted = mode switch
            {
                OffsetResetMode.ToEarliest => b.LogStartOffset,
                OffsetResetMode.ToLatest => b.LogEndOffset,
                OffsetResetMode.ToOffset => value,
                OffsetResetMode.ShiftBy => SaturatingAdd(basis, value),
                OffsetResetMode.ToDatetime or OffsetResetMode.ByDuration => b.OffsetForTimestamp ?? b.LogEndOffset,
                OffsetResetMode.ToCurrent => basis,
                _ => throw new BrokerException(ErrorCode.InvalidRequest, $"Unknown reset mode {mode}."),
            };
            plan.Add(new OffsetResetPlanEntry
            {
                TopicPartition = b.TopicPartition,
                CurrentOffset = current,
                NewOffset = Math.Clamp(wanted, b.LogStartOffset, Math.Max(b.LogStartOffset, b.LogEndOffset)),
            });
        }

        return plan.ToArray();
    }

    /// <summary>Chooses the partitions a request names: explicit partitions, all partitions of the named topics,
    /// or (neither given) every partition with a committed offset.</summary>
    public static TopicPartition[] SelectPartitions(
        ResetOffsetsRequest request,
        IReadOnlyDictionary<string, int> partitionCounts,
        IEnumerable<TopicPartition> committedPartitions)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(partitionCounts);
        ArgumentNullException.ThrowIfNull(committedPartitions);
        var chosen = new SortedSet<TopicPartition>();
        if (request.Partitions is { Length: > 0 })
        {
            foreach (var tp in request.Partitions)
            {
                if (!partitionCounts.TryGetValue(tp.Topic, out var count) || tp.Partition < 0 || tp.Partition >= count)
                {
                    throw new BrokerException(ErrorCode.UnknownTopicOrPartition, $"Partition {tp} does not exist.");
                }

                chosen.Add(tp);
            }
        }

        if (request.Topics is { Length: > 0 })
        {
            foreach (var topic in request.Topics)
            {
                if (!partitionCounts.TryGetValue(topic, out var count))
                {
                    throw new BrokerException(ErrorCode.UnknownTopicOrPartition, $"Topic '{topic}' does not exist.");
                }

                for (var p = 0; p < count; p++)
                {
                    chosen.Add(new TopicPartition(topic, p));
                }
            }
        }

        if (request.Partitions is not { Length: > 0 } && request.Topics is not { Length: > 0 })
        {
            chosen.UnionWith(committedPartitions.Where(tp => partitionCounts.TryGetValue(tp.Topic, out var n) && tp.Partition < n));
        }

        return chosen.ToArray();
    }

    private static long SaturatingAdd(long a, long b)
    {
        var r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (b < 0 ? long.MinValue : long.MaxValue) : r;
    }
}
