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

    /// <summary>A group's committed offset of a partition went backwards: a commit below an earlier accepted commit, or
    /// the coordinator reporting an offset below a commit it accepted before it was asked.</summary>
    public const string CommitRegression = "commit-regression";

    /// <summary>A partition's leader epoch went backwards, or one leader epoch had two leaders.</summary>
    public const string EpochRegression = "epoch-regression";
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
/// plus one); a group's committed offsets never go backwards; a partition's leader epoch never decreases and each
/// epoch has one leader (the controller's states as polled). Values must be unique across the history (a producer writes its id and a sequence into each).
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

        // No acknowledged record lost. An acknowledgement without an offset (the client's implicit one: a request
        // that failed with an uncertain outcome, followed by a later request of the producer that succeeded, proves
        // the earlier records were written, at offsets it does not know) asks for the value anywhere in its partition.
        var acks = history.Where(e => e.Kind == HistoryKind.Ack).ToList();
        HashSet<(int Partition, string? Value)>? readValues = null;
        foreach (var ack in acks)
        {
            if (ack.Offset < 0)
            {
                readValues ??= read.SelectMany(r => r.Value.Select(v => (r.Key.Partition, v))).ToHashSet();
                if (!readValues.Contains((ack.Partition, ack.Value)))
                {
                    damages.Add(new Damage(DamageKind.Lost, ack.Partition, $"'{ack.Value}' from {ack.Producer} acknowledged without an offset, which no poll of the partition read"));
                }
            }
            else if (!read.TryGetValue((ack.Partition, ack.Offset), out var values))
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

        // A group's committed offsets never go backwards: its accepted commits of a partition never decrease, and the
        // coordinator never reports an offset below the last commit it accepted before it was asked.
        var lastCommit = new Dictionary<(string? Group, int Partition), long>();
        foreach (var e in history.Where(e => e.Kind is HistoryKind.Commit or HistoryKind.Committed))
        {
            var known = lastCommit.TryGetValue((e.Consumer, e.Partition), out var previous);
            if (e.Kind == HistoryKind.Commit)
            {
                if (known && e.Offset < previous)
                {
                    damages.Add(new Damage(DamageKind.CommitRegression, e.Partition, $"{e.Consumer} committed offset {e.Offset} after its commit of {previous} was accepted"));
                }

                lastCommit[(e.Consumer, e.Partition)] = e.Offset;
            }
            else if (known && e.Offset < previous)
            {
                damages.Add(new Damage(DamageKind.CommitRegression, e.Partition, $"the coordinator reported offset {e.Offset} for {e.Consumer} after it accepted a commit of {previous}"));
            }
        }

        // The controller's states: a partition's leader epoch never decreases, and one epoch has one leader.
        var epochs = new Dictionary<int, (int Epoch, string? Leader)>();
        foreach (var state in history.Where(e => e.Kind == HistoryKind.State))
        {
            if (epochs.TryGetValue(state.Partition, out var seen))
            {
                if (state.LeaderEpoch < seen.Epoch)
                {
                    damages.Add(new Damage(DamageKind.EpochRegression, state.Partition, $"leader epoch {state.LeaderEpoch} ({state.Leader}) seen after epoch {seen.Epoch} ({seen.Leader})"));
                    continue;
                }

                if (state.LeaderEpoch == seen.Epoch && state.Leader is not null && seen.Leader is not null && !string.Equals(state.Leader, seen.Leader, StringComparison.Ordinal))
                {
                    damages.Add(new Damage(DamageKind.EpochRegression, state.Partition, $"leader epoch {state.LeaderEpoch} has two leaders: {seen.Leader} and {state.Leader}"));
                    continue;
                }
            }

            epochs[state.Partition] = (state.LeaderEpoch, state.Leader ?? (seen.Epoch == state.LeaderEpoch ? seen.Leader : null));
        }

        return new CheckResult(acks.Count, damages);
    }
}
