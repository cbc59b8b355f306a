using System.Collections.Immutable;

namespace Actors.Membership;

/// <summary>
/// A membership view kept in memory and changed by whoever owns it: a <c>TestCluster</c> (shared by the
/// silos and clients of one process) or a silo configured with a static peer list. It detects nothing
/// by itself; the owner marks silos Dead.
/// </summary>
/// <remarks>Thread-safe. Invariant: every published snapshot's version is one more than the previous
/// one; <see cref="Changed"/> is raised outside the lock, in version order per publishing thread.</remarks>
public sealed class StaticMembershipSource
{
    private readonly object gate = new();
    private ClusterMembershipSnapshot current = ClusterMembershipSnapshot.Empty;

    /// <summary>Raised after each change with the new snapshot.</summary>
    public event Action<ClusterMembershipSnapshot>? Changed;

    public ClusterMembershipSnapshot Snapshot => Volatile.Read(ref current);

    /// <summary>Adds or updates a member's row.</summary>
    public void SetStatus(SiloAddress silo, string name, SiloStatus status, int gatewayPort)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ClusterMembershipSnapshot next;
        lock (gate)
        {
            var members = current.Members.SetItem(silo, new ClusterMember(silo, name, status, gatewayPort));
            next = new ClusterMembershipSnapshot(members, current.Version + 1);
            Volatile.Write(ref current, next);
        }

        Changed?.Invoke(next);
    }

    /// <summary>Sets a known member's status (keeps its name and gateway port). False if unknown.</summary>
    public bool TrySetStatus(SiloAddress silo, SiloStatus status)
    {
        ClusterMember? member;
        lock (gate)
        {
            if (!current.Members.TryGetValue(silo, out member))
            {
                return false;
            }
        }

        SetStatus(silo, member.Name, status, member.GatewayPort);
        return true;
    }

    /// <summary>A source seeded with statically configured peers (generation 0: "any incarnation"), all Active.</summary>
    public static StaticMembershipSource FromPeers(IEnumerable<(string Host, int Port)> peers)
    {
        var source = new StaticMembershipSource();
        var members = ImmutableDictionary<SiloAddress, ClusterMember>.Empty;
        foreach (var (host, port) in peers)
        {
            var address = new SiloAddress(host, port, 0);
            members = members.SetItem(address, new ClusterMember(address, address.Endpoint, SiloStatus.Active, 0));
        }

        source.current = new ClusterMembershipSnapshot(members, 1);
        return source;
    }
}
