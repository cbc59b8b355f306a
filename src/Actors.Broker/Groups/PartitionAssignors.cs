namespace Actors.Broker.Groups;

/// <summary>One member as an assignor sees it.</summary>
/// <param name="MemberId">The member id.</param>
/// <param name="SubscribedTopics">Topics it subscribes to.</param>
/// <param name="CurrentAssignment">Its target assignment so far (used by the sticky assignor).</param>
public sealed record AssignmentMember(string MemberId, IReadOnlyCollection<string> SubscribedTopics, IReadOnlyCollection<TopicPartition> CurrentAssignment);

/// <summary>Computes a group's target assignment on the server (KIP-848).</summary>
public interface IPartitionAssignor
{
    /// <summary>The name a member asks for ("range", "roundrobin", "uniform").</summary>
    string Name { get; }

    /// <summary>Assigns every partition of every subscribed topic to exactly one member subscribing to it.</summary>
    /// <param name="members">The members.</param>
    /// <param name="partitionCounts">Partition count per existing topic; unknown topics are skipped.</param>
    /// <returns>Per member id, its partitions in order (every member appears, maybe with none).</returns>
    IReadOnlyDictionary<string, TopicPartition[]> Assign(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts);
}

/// <summary>The assignors by name.</summary>
public static class PartitionAssignors
{
    public const string Range = "range";
    public const string RoundRobin = "roundrobin";
    /// <summary>Kafka's name for its default server-side assignor (KIP-848), which is sticky and balanced; it is
    /// the name ConsumerGroupDescribe reports, so tools show what they show for a Kafka cluster.</summary>
    public const string Uniform = "uniform";

    /// <summary>Accepted for <see cref="Uniform"/>: the name this project's design used for it.</summary>
    public const string Sticky = "sticky";

    /// <summary>The default, as in Kafka.</summary>
    public const string Default = Uniform;

    public static IReadOnlyList<string> Names { get; } = [Uniform, Range, RoundRobin];

    /// <summary>The assignor named <paramref name="name"/>; UNSUPPORTED_ASSIGNOR naming the known ones otherwise.</summary>
    public static IPartitionAssignor Get(string? name) => (name ?? Default) switch
    {
        Range => new RangeAssignor(),
        RoundRobin => new RoundRobinAssignor(),
        Uniform or Sticky => new StickyAssignor(),
        _ => throw new BrokerException(ErrorCode.UnsupportedAssignor,
            $"Assignor '{name}' is not supported; group.remote.assignor must be one of: {string.Join(", ", Names)}."),
    };

    internal static Dictionary<string, List<TopicPartition>> EmptyResult(IReadOnlyList<AssignmentMember> members) =>
        members.ToDictionary(m => m.MemberId, _ => new List<TopicPartition>(), StringComparer.Ordinal);

    internal static IReadOnlyDictionary<string, TopicPartition[]> Freeze(Dictionary<string, List<TopicPartition>> result) =>
        result.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(tp => tp).ToArray(), StringComparer.Ordinal);
}

/// <summary>Kafka's range assignor: per topic, consecutive ranges of partitions to members in member-id order;
/// the first (count mod members) members get one extra.</summary>
public sealed class RangeAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.Range;

    public IReadOnlyDictionary<string, TopicPartition[]> Assign(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(partitionCounts);
        var result = PartitionAssignors.EmptyResult(members);
        var topics = members.SelectMany(m => m.SubscribedTopics).Distinct(StringComparer.Ordinal).OrderBy(t => t, StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            if (!partitionCounts.TryGetValue(topic, out var count) || count <= 0)
            {
                continue;
            }

            var subscribers = members.Where(m => m.SubscribedTopics.Contains(topic, StringComparer.Ordinal))
                .Select(m => m.MemberId).OrderBy(id => id, StringComparer.Ordinal).ToArray();
            var per = count / subscribers.Length;
            var extra = count % subscribers.Length;
            for (var i = 0; i < subscribers.Length; i++)
            {
                var start = (per * i) + Math.Min(i, extra);
                var length = per + (i < extra ? 1 : 0);
                for (var p = start; p < start + length; p++)
                {
                    result[subscribers[i]].Add(new TopicPartition(topic, p));
                }
            }
        }

        return PartitionAssignors.Freeze(result);
    }
}

/// <summary>Kafka's round-robin assignor: all partitions in (topic, partition) order dealt to members in
/// member-id order, skipping members that do not subscribe to the partition's topic.</summary>
public sealed class RoundRobinAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.RoundRobin;

    public IReadOnlyDictionary<string, TopicPartition[]> Assign(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(partitionCounts);
        var result = PartitionAssignors.EmptyResult(members);
        var ordered = members.OrderBy(m => m.MemberId, StringComparer.Ordinal).ToArray();
        if (ordered.Length == 0)
        {
            return PartitionAssignors.Freeze(result);
        }

        var next = 0;
        foreach (var tp in AllPartitions(members, partitionCounts))
        {
            for (var tries = 0; tries < ordered.Length; tries++)
            {
                var member = ordered[next];
                next = (next + 1) % ordered.Length;
                if (member.SubscribedTopics.Contains(tp.Topic, StringComparer.Ordinal))
                {
                    result[member.MemberId].Add(tp);
                    break;
                }
            }
        }

        return PartitionAssignors.Freeze(result);
    }

    internal static IEnumerable<TopicPartition> AllPartitions(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts) =>
        members.SelectMany(m => m.SubscribedTopics)
            .Distinct(StringComparer.Ordinal)
            .Where(partitionCounts.ContainsKey)
            .OrderBy(t => t, StringComparer.Ordinal)
            .SelectMany(t => Enumerable.Range(0, Math.Max(0, partitionCounts[t])).Select(p => new TopicPartition(t, p)));
}

/// <summary>
/// A sticky, balanced assignor (the role of Kafka's server-side "uniform" assignor): every member keeps the
/// partitions it has as long as balance allows; partitions without a valid owner go to the least-loaded
/// eligible member; then partitions move one at a time from the most- to the least-loaded eligible member
/// until no two members that could share a partition differ by more than one. When a member leaves, only its
/// partitions move; when one joins, only as many move as balance needs.
/// </summary>
public sealed class StickyAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.Uniform;

    public IReadOnlyDictionary<string, TopicPartition[]> Assign(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(partitionCounts);
        var result = PartitionAssignors.EmptyResult(members);
        var byId = members.ToDictionary(m => m.MemberId, StringComparer.Ordinal);
        var all = RoundRobinAssignor.AllPartitions(members, partitionCounts).ToArray();
        var valid = new HashSet<TopicPartition>(all);
        var owner = new Dictionary<TopicPartition, string>();

        // 1. Keep what each member has, when still valid and not claimed twice (lowest member id wins).
        foreach (var m in members.OrderBy(m => m.MemberId, StringComparer.Ordinal))
        {
            foreach (var tp in m.CurrentAssignment.OrderBy(tp => tp))
            {
                if (valid.Contains(tp) && m.SubscribedTopics.Contains(tp.Topic, StringComparer.Ordinal) && owner.TryAdd(tp, m.MemberId))
                {
                    result[m.MemberId].Add(tp);
                }
            }
        }

        bool Eligible(string memberId, TopicPartition tp) => byId[memberId].SubscribedTopics.Contains(tp.Topic, StringComparer.Ordinal);

        // 2. Hand out the rest to the least-loaded eligible member.
        foreach (var tp in all.Where(tp => !owner.ContainsKey(tp)))
        {
            var target = result.Keys.Where(id => Eligible(id, tp))
                .OrderBy(id => result[id].Count).ThenBy(id => id, StringComparer.Ordinal).FirstOrDefault();
            if (target is not null)
            {
                result[target].Add(tp);
                owner[tp] = target;
            }
        }

        // 3. Balance: move one partition at a time from a most-loaded member to a least-loaded eligible one
        //    while they differ by more than one. Each move lowers the sum of squared loads, so this ends.
        var bound = all.Length * Math.Max(1, members.Count);
        for (var step = 0; step < bound; step++)
        {
            var moved = false;
            foreach (var donor in result.Keys.OrderByDescending(id => result[id].Count).ThenBy(id => id, StringComparer.Ordinal).ToArray())
            {
                foreach (var tp in result[donor].OrderByDescending(tp => tp))
                {
                    var receiver = result.Keys
                        .Where(id => !string.Equals(id, donor, StringComparison.Ordinal) && Eligible(id, tp) && result[id].Count < result[donor].Count - 1)
                        .OrderBy(id => result[id].Count).ThenBy(id => id, StringComparer.Ordinal).FirstOrDefault();
                    if (receiver is not null)
                    {
                        result[donor].Remove(tp);
                        result[receiver].Add(tp);
                        moved = true;
                        break;
                    }
                }

                if (moved)
                {
                    break;
                }
            }

            if (!moved)
            {
                break;
            }
        }

        return PartitionAssignors.Freeze(result);
    }
}
