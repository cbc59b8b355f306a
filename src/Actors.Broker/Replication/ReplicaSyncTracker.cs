namespace Actors.Broker.Replication;

/// <summary>
/// The leader's bookkeeping of its followers (Kafka's Partition/Replica state on the leader): each follower's
/// log end offset and the last time it was caught up, the high watermark, and which followers should leave
/// or join the ISR.
/// </summary>
/// <remarks>
/// Invariants: the high watermark never decreases; it is at most the smallest log end offset over the ISR
/// (the leader included). A follower is "caught up" at a fetch when it asks for the leader's log end offset,
/// or for at least the leader's log end offset as of its previous fetch (then it was caught up at the time of
/// that previous fetch). A follower not caught up for <c>replica.lag.time.max.ms</c> should leave the ISR; one
/// whose log end offset reaches the high watermark and the start of the current leader epoch should join it.
/// Not thread-safe: <see cref="PartitionLeader"/> touches it only under its <c>gate</c> lock
/// (docs/lock-ordering.md).
/// </remarks>
public sealed class ReplicaSyncTracker
{
    private readonly Dictionary<string, FollowerState> followers = new(StringComparer.Ordinal);
    private HashSet<string> isr;

    /// <param name="leader">The leader's silo name.</param>
    /// <param name="replicas">All assigned replicas (the leader included).</param>
    /// <param name="isr">The current ISR.</param>
    /// <param name="leaderLogEndOffset">The leader's log end offset now.</param>
    /// <param name="initialHighWatermark">The high watermark the leader starts from (its checkpointed one).</param>
    /// <param name="leaderEpochStartOffset">The first offset of the current leader epoch (the LEO when leadership began).</param>
    /// <param name="lagTimeMaxMs">replica.lag.time.max.ms.</param>
    /// <param name="nowMs">The time now.</param>
    public ReplicaSyncTracker(
        string leader,
        IEnumerable<string> replicas,
        IEnumerable<string> isr,
        long leaderLogEndOffset,
        long initialHighWatermark,
        long leaderEpochStartOffset,
        long lagTimeMaxMs,
        long nowMs)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentNullException.ThrowIfNull(isr);
        Leader = leader;
        LeaderLogEndOffset = leaderLogEndOffset;
        HighWatermark = Math.Min(initialHighWatermark, leaderLogEndOffset);
        LeaderEpochStartOffset = leaderEpochStartOffset;
        LagTimeMaxMs = lagTimeMaxMs;
        this.isr = new HashSet<string>(isr, StringComparer.Ordinal) { leader };
        foreach (var r in replicas)
        {
            if (!string.Equals(r, leader, StringComparison.Ordinal))
            {
                // ISR members start as caught up now (Kafka resets them on becoming leader); others never were.
                followers[r] = new FollowerState
                {
                    LogEndOffset = -1,
                    LastCaughtUpTimeMs = this.isr.Contains(r) ? nowMs : 0,
                };
            }
        }
    }

    public string Leader { get; }

    public long LeaderLogEndOffset { get; private set; }

    public long HighWatermark { get; private set; }

    public long LeaderEpochStartOffset { get; }

    public long LagTimeMaxMs { get; }

    /// <summary>The ISR this tracker computes the high watermark over.</summary>
    public IReadOnlyCollection<string> Isr => isr;

    /// <summary>The last log end offset each follower reported (-1 before its first fetch).</summary>
    public IReadOnlyDictionary<string, long> FollowerLogEndOffsets =>
        followers.ToDictionary(kv => kv.Key, kv => kv.Value.LogEndOffset, StringComparer.Ordinal);

    /// <summary>The leader appended; returns true when the high watermark moved.</summary>
    public bool OnLeaderAppend(long newLogEndOffset)
    {
        LeaderLogEndOffset = newLogEndOffset;
        return RecomputeHighWatermark();
    }

    /// <summary>The leader's log was truncated (it never is while leading, except on deletion); keeps the HW in range.</summary>
    public void OnLeaderTruncate(long newLogEndOffset)
    {
        LeaderLogEndOffset = newLogEndOffset;
        HighWatermark = Math.Min(HighWatermark, newLogEndOffset);
    }

    /// <summary>Records a follower's fetch at <paramref name="fetchOffset"/> (its log end offset); returns true when
    /// the high watermark moved. Unknown replicas are ignored.</summary>
    public bool OnFollowerFetch(string replica, long fetchOffset, long nowMs)
    {
        if (!followers.TryGetValue(replica, out var f))
        {
            return false;
        }

        if (fetchOffset >= LeaderLogEndOffset)
        {
            f.LastCaughtUpTimeMs = Math.Max(f.LastCaughtUpTimeMs, nowMs);
        }
        else if (f.LastFetchTimeMs > 0 && fetchOffset >= f.LastFetchLeaderLogEndOffset)
        {
            f.LastCaughtUpTimeMs = Math.Max(f.LastCaughtUpTimeMs, f.LastFetchTimeMs);
        }

        f.LogEndOffset = fetchOffset;
        f.LastFetchLeaderLogEndOffset = LeaderLogEndOffset;
        f.LastFetchTimeMs = nowMs;
        return RecomputeHighWatermark();
    }

    /// <summary>Adopts an ISR published by the controller; returns true when the high watermark moved.</summary>
    public bool SetIsr(IEnumerable<string> newIsr)
    {
        isr = new HashSet<string>(newIsr, StringComparer.Ordinal) { Leader };
        return RecomputeHighWatermark();
    }

    /// <summary>ISR followers that have not been caught up for longer than replica.lag.time.max.ms.</summary>
    public IReadOnlyList<string> ShrinkCandidates(long nowMs) => followers
        .Where(kv => isr.Contains(kv.Key)
                     && kv.Value.LogEndOffset < LeaderLogEndOffset
                     && nowMs - kv.Value.LastCaughtUpTimeMs > LagTimeMaxMs)
        .Select(kv => kv.Key)
        .OrderBy(k => k, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Followers outside the ISR whose log end offset reached the high watermark and the current epoch's start.</summary>
    public IReadOnlyList<string> ExpandCandidates() => followers
        .Where(kv => !isr.Contains(kv.Key)
                     && kv.Value.LogEndOffset >= HighWatermark
                     && kv.Value.LogEndOffset >= LeaderEpochStartOffset)
        .Select(kv => kv.Key)
        .OrderBy(k => k, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Kafka's check for acks=all: every ISR member has every record below <paramref name="requiredOffset"/>.</summary>
    public bool IsReplicatedTo(long requiredOffset) => HighWatermark >= requiredOffset;

    private bool RecomputeHighWatermark()
    {
        var min = LeaderLogEndOffset;
        foreach (var member in isr)
        {
            if (followers.TryGetValue(member, out var f))
            {
                min = Math.Min(min, f.LogEndOffset);
            }
        }

        if (min > HighWatermark)
        {
            HighWatermark = min;
            return true;
        }

        return false;
    }

    private sealed class FollowerState
    {
        public long LogEndOffset { get; set; }

        public long LastCaughtUpTimeMs { get; set; }

        public long LastFetchLeaderLogEndOffset { get; set; }

        public long LastFetchTimeMs { get; set; }
    }
}
