namespace Actors.Chaos.Tests;

/// <summary>The kinds of damage the checker finds.</summary>
internal static class DamageKind
{
    /// <summary>An acknowledged record was not read back at its offset with its value.</summary>
    public const string Lost = "lost";

    /// <summary>One offset of a partition was read with two different records.</summary>
    public const string Divergent = "divergent";

    /// <summary>One producer's record appears at more than one offset.</summary>
    public const string Duplicated = "duplicated";

    /// <summary>A producer's records appear in a partition out of the order they were sent.</summary>
    public const string Reordered = "reordered";

    /// <summary>A consumer's polls of a partition went backwards or repeated an offset.</summary>
    public const string NonMonotonicPoll = "non-monotonic-poll";

    /// <summary>A consumer committed an offset beyond the high watermark it read.</summary>
    public const string CommitAboveHighWatermark = "commit-above-high-watermark";
}

/// <summary>One finding, with the events that show it.</summary>
internal sealed record Damage(string Kind, int Partition, string Detail);

/// <summary>What the checker found in one history.</summary>
internal sealed record CheckResult(int Acked, IReadOnlyList<Damage> Damages)
{
    public int Count(string kind) => Damages.Count(d => d.Kind == kind);

    public override string ToString() =>
        Damages.Count == 0
            ? $"acked={Acked}, no damage"
            : $"acked={Acked}, {Damages.Count} damage(s):{Environment.NewLine}{string.Join(Environment.NewLine, Damages.Take(20).Select(d => $"  {d.Kind} p{d.Partition}: {d.Detail}"))}";
}

/// <summary>
/// Checks a chaos history (in the spirit of Jepsen's Kafka workload): no acknowledged record lost; each offset of a
/// partition holds one record; each producer's records appear once, in send order; each consumer's polls of a
/// partition move forward; no commit is above the high watermark read (the highest offset polled in that partition,
/// plus one). Values must be unique across the history (a producer writes its id and a sequence into each).
/// </summary>
internal static class HistoryChecker
{
    public static CheckResult Check(IReadOnlyList<HistoryEvent> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var damages = new List<Damage>();

        // What was read at each (partition, offset): the distinct values.
        var read = new Dictionary<(int Partition, long Offset), List<string?>>();
        foreach (var poll in history.Where(e => e.Kind == HistoryKind.Poll))
        {
            if (!read.TryGetValue((poll.Partition, poll.Offset), out var values))
            {
                read[(poll.Partition, poll.Offset)] = values = [];
            }

            if (!values.Contains(poll.Value))
            {
                values.Add(poll.Value);
            }
        }

        foreach (var ((partition, offset), values) in read.Where(r => r.Value.Count > 1).OrderBy(r => r.Key))
        {
            damages.Add(new Damage(DamageKind.Divergent, partition, $"offset {offset} read as {string.Join(" and ", values.Select(v => $"'{v}'"))}"));
        }

        // No acknowledged record lost.
        var acks = history.Where(e => e.Kind == HistoryKind.Ack).ToList();
        foreach (var ack in acks)
        {
            if (!read.TryGetValue((ack.Partition, ack.Offset), out var values))
            {
                damages.Add(new Damage(DamageKind.Lost, ack.Partition, $"'{ack.Value}' from {ack.Producer} acknowledged at offset {ack.Offset}, which no poll read"));
            }
            else if (!values.Contains(ack.Value))
            {
                damages.Add(new Damage(DamageKind.Lost, ack.Partition, $"'{ack.Value}' from {ack.Producer} acknowledged at offset {ack.Offset}, which was read as {string.Join(" and ", values.Select(v => $"'{v}'"))}"));
            }
        }

        // Each producer's records once, in send order, per partition.
        var sent = new Dictionary<string, (string Producer, int Index)>(StringComparer.Ordinal);
        var sendIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var send in history.Where(e => e.Kind == HistoryKind.Send && e.Value is not null))
        {
            var index = sendIndex.GetValueOrDefault(send.Producer!, 0);
            sendIndex[send.Producer!] = index + 1;
            sent.TryAdd(send.Value!, (send.Producer!, index));
        }

        foreach (var partition in read.Keys.Select(k => k.Partition).Distinct().Order())
        {
            var log = read.Where(r => r.Key.Partition == partition).OrderBy(r => r.Key.Offset).Select(r => (r.Key.Offset, Value: r.Value[0])).ToList();
            var seenAt = new Dictionary<string, long>(StringComparer.Ordinal);
            var lastIndex = new Dictionary<string, (int Index, long Offset, string Value)>(StringComparer.Ordinal);
            foreach (var (offset, value) in log)
            {
                if (value is null || !sent.TryGetValue(value, out var origin))
                {
                    continue;
                }

                if (seenAt.TryGetValue(value, out var first))
                {
                    damages.Add(new Damage(DamageKind.Duplicated, partition, $"'{value}' from {origin.Producer} at offsets {first} and {offset}"));
                    continue;
                }

                seenAt[value] = offset;
                if (lastIndex.TryGetValue(origin.Producer, out var previous) && previous.Index > origin.Index)
                {
                    damages.Add(new Damage(DamageKind.Reordered, partition,
                        $"{origin.Producer} sent '{value}' (send #{origin.Index}) before '{previous.Value}' (send #{previous.Index}), but they are at offsets {offset} and {previous.Offset}"));
                }

                lastIndex[origin.Producer] = (origin.Index, offset, value);
            }
        }

        // Each consumer's polls of a partition move forward.
        var lastPoll = new Dictionary<(string? Consumer, int Partition), long>();
        foreach (var poll in history.Where(e => e.Kind == HistoryKind.Poll))
        {
            if (lastPoll.TryGetValue((poll.Consumer, poll.Partition), out var previous) && poll.Offset <= previous)
            {
                damages.Add(new Damage(DamageKind.NonMonotonicPoll, poll.Partition, $"{poll.Consumer} polled offset {poll.Offset} after offset {previous}"));
            }

            lastPoll[(poll.Consumer, poll.Partition)] = poll.Offset;
        }

        // No commit above the high watermark read.
        var highWatermark = read.Keys.GroupBy(k => k.Partition).ToDictionary(g => g.Key, g => g.Max(k => k.Offset) + 1);
        foreach (var commit in history.Where(e => e.Kind == HistoryKind.Commit))
        {
            var watermark = highWatermark.GetValueOrDefault(commit.Partition, 0);
            if (commit.Offset > watermark)
            {
                damages.Add(new Damage(DamageKind.CommitAboveHighWatermark, commit.Partition, $"{commit.Consumer} committed offset {commit.Offset}, above the high watermark read {watermark}"));
            }
        }

        return new CheckResult(acks.Count, damages);
    }
}
