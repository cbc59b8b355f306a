namespace Actors.Broker.Groups;

/// <summary>What one member is told at a heartbeat.</summary>
/// <param name="Assignment">The partitions the member may own now.</param>
/// <param name="Revoking">Partitions it owns that it must give up (absent from <paramref name="Assignment"/>).</param>
/// <param name="Pending">Partitions of its target still owned by another member, to be given later.</param>
public sealed record ReconciliationStep(TopicPartition[] Assignment, TopicPartition[] Revoking, TopicPartition[] Pending)
{
    /// <summary>True when the member owns exactly its target.</summary>
    public bool IsReconciled => Revoking.Length == 0 && Pending.Length == 0;
}

/// <summary>
/// Incremental reconciliation of a member towards its target assignment (KIP-848): partitions that stay are
/// kept; partitions the member must lose are revoked first; a partition the member should get is given only once
/// no other member owns it any more (its old owner acknowledged the revocation or left).
/// </summary>
public static class AssignmentReconciler
{
    /// <param name="owned">What the member owns now.</param>
    /// <param name="target">Its target assignment.</param>
    /// <param name="ownedByOthers">True when another member still owns the partition.</param>
    public static ReconciliationStep Next(
        IReadOnlyCollection<TopicPartition> owned,
        IReadOnlyCollection<TopicPartition> target,
        Func<TopicPartition, bool> ownedByOthers)
    {
        ArgumentNullException.ThrowIfNull(owned);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(ownedByOthers);
        var ownedSet = new HashSet<TopicPartition>(owned);
        var targetSet = new HashSet<TopicPartition>(target);
        var keep = ownedSet.Where(targetSet.Contains);
        var revoking = ownedSet.Where(tp => !targetSet.Contains(tp)).OrderBy(tp => tp).ToArray();
        var toGain = targetSet.Where(tp => !ownedSet.Contains(tp)).ToArray();
        var free = toGain.Where(tp => !ownedByOthers(tp));
        var pending = toGain.Where(ownedByOthers).OrderBy(tp => tp).ToArray();
        var assignment = keep.Concat(free).OrderBy(tp => tp).ToArray();
        return new ReconciliationStep(assignment, revoking, pending);
    }
}
