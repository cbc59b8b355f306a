using System.Collections.Concurrent;
using Actors.Membership;

namespace Actors.GrainDirectory;

/// <summary>
/// The directory entries this silo owns: grain id → the silo hosting its activation. A silo owns the
/// grains that rendezvous hashing (with the directory salt) assigns to it over the Active silos.
/// </summary>
/// <remarks>Thread-safe (lock-free dictionary updates). Invariant: an entry naming a silo that the
/// current view has as Dead (or unknown) is never returned; it is replaced by a new placement.</remarks>
internal sealed class DirectoryPartition
{
    private readonly ConcurrentDictionary<GrainId, SiloAddress> entries = new();

    public int Count => entries.Count;

    /// <summary>The live entry, if any.</summary>
    public bool TryLookup(GrainId grainId, ClusterMembershipSnapshot view, out SiloAddress silo) =>
        entries.TryGetValue(grainId, out silo!) && IsLive(silo, view);

    /// <summary>Records <paramref name="silo"/> unless a live entry exists; returns the entry that won.</summary>
    public SiloAddress Register(GrainId grainId, SiloAddress silo, ClusterMembershipSnapshot view)
    {
        while (true)
        {
            if (entries.TryGetValue(grainId, out var existing))
            {
                if (IsLive(existing, view))
                {
                    return existing;
                }

                if (entries.TryUpdate(grainId, silo, existing))
                {
                    return silo;
                }
            }
            else if (entries.TryAdd(grainId, silo))
            {
                return silo;
            }
        }
    }

    /// <summary>Removes the entry if it still names <paramref name="silo"/>.</summary>
    public void Unregister(GrainId grainId, SiloAddress silo)
    {
        if (entries.TryGetValue(grainId, out var existing) && SameIncarnation(existing, silo))
        {
            entries.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grainId, existing));
        }
    }

    /// <summary>After a view change: drops entries on silos that are gone, and entries this silo no longer owns.</summary>
    public void Prune(ClusterMembershipSnapshot view, Func<GrainId, bool> isOwnedLocally)
    {
        foreach (var (grainId, silo) in entries)
        {
            if (!IsLive(silo, view) || !isOwnedLocally(grainId))
            {
                entries.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grainId, silo));
            }
        }
    }

    internal static bool IsLive(SiloAddress silo, ClusterMembershipSnapshot view)
    {
        var status = view.GetStatus(silo);
        if (status == SiloStatus.None && silo.Generation == 0)
        {
            // A statically configured peer (generation unknown): match by endpoint.
            status = view.Members.Values.Where(m => m.Address.IsSameEndpoint(silo)).Select(m => m.Status).DefaultIfEmpty(SiloStatus.None).Max();
        }

        return status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown;
    }

    private static bool SameIncarnation(SiloAddress a, SiloAddress b) =>
        a.IsSameEndpoint(b) && (a.Generation == b.Generation || a.Generation == 0 || b.Generation == 0);
}
