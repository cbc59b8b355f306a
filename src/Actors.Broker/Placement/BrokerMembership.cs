namespace Actors.Broker.Placement;

/// <summary>The broker's reads of Orleans' membership view: silos by their stable name (the broker's replica
/// identity), and the set that can lead or follow now.</summary>
public static class BrokerMembership
{
    /// <summary>Names of the Active silos.</summary>
    public static HashSet<string> ActiveSiloNames(this ClusterMembershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in snapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active)
            {
                names.Add(member.Name);
            }
        }

        return names;
    }

    /// <summary>Addresses of the Active silos, in a stable order.</summary>
    public static SiloAddress[] ActiveSilos(this ClusterMembershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .OrderBy(a => a.ToParsableString(), StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The newest incarnation of the silo named <paramref name="name"/>: a restarted silo keeps its name
    /// and gets a new generation, and the old incarnation stays in the view as Dead for a while.</summary>
    public static ClusterMember? FindByName(this ClusterMembershipSnapshot snapshot, string name)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ClusterMember? found = null;
        foreach (var member in snapshot.Members.Values)
        {
            if (string.Equals(member.Name, name, StringComparison.Ordinal)
                && (found is null || member.SiloAddress.Generation > found.SiloAddress.Generation))
            {
                found = member;
            }
        }

        return found;
    }
}
