using System.Collections.Immutable;

namespace Actors.Membership;

/// <summary>One silo as the cluster sees it.</summary>
/// <param name="Address">Incarnation and silo-to-silo endpoint.</param>
/// <param name="Name">The silo's configured name (stable across restarts; Kafka's broker.id).</param>
/// <param name="Status">Its status.</param>
/// <param name="GatewayPort">The client gateway port on the same host, or 0 when it has none.</param>
[Immutable]
public sealed record ClusterMember(SiloAddress Address, string Name, SiloStatus Status, int GatewayPort);

/// <summary>
/// An immutable view of the cluster at one membership version. Versions only grow: a component
/// accepts a new snapshot only if <see cref="IsSuccessorTo"/> the one it holds.
/// </summary>
[Immutable]
public sealed class ClusterMembershipSnapshot
{
    public static readonly ClusterMembershipSnapshot Empty = new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, 0);

    public ClusterMembershipSnapshot(ImmutableDictionary<SiloAddress, ClusterMember> members, long version)
    {
        ArgumentNullException.ThrowIfNull(members);
        Members = members;
        Version = version;
        ActiveSilos = members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.Address)
            .OrderBy(a => a.ToString(), StringComparer.Ordinal)
            .ToImmutableArray();
    }

    /// <summary>Every silo in the table, Dead ones included.</summary>
    public ImmutableDictionary<SiloAddress, ClusterMember> Members { get; }

    /// <summary>The membership version this view reflects.</summary>
    public long Version { get; }

    /// <summary>Active silos in a stable order.</summary>
    public ImmutableArray<SiloAddress> ActiveSilos { get; }

    public SiloStatus GetStatus(SiloAddress silo) =>
        Members.TryGetValue(silo, out var member) ? member.Status : SiloStatus.None;

    /// <summary>The newest incarnation of the silo named <paramref name="name"/>, or null.</summary>
    public ClusterMember? FindByName(string name) => Members.Values
        .Where(m => string.Equals(m.Name, name, StringComparison.Ordinal))
        .OrderByDescending(m => m.Address.Generation)
        .FirstOrDefault();

    public bool IsSuccessorTo(ClusterMembershipSnapshot previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return Version > previous.Version;
    }

    public override string ToString() =>
        $"v{Version}: " + string.Join(", ", Members.Values.Select(m => $"{m.Name}={m.Address}:{m.Status}"));
}
