using System.Collections.Immutable;
using System.Globalization;

namespace Actors.Membership;

/// <summary>One suspicion vote: <paramref name="Voter"/> missed enough probes of the row's silo at <paramref name="Time"/>.</summary>
[Immutable]
public sealed record SuspectVote(SiloAddress Voter, DateTimeOffset Time);

/// <summary>
/// One row of the membership table: a silo incarnation and what the cluster knows about it.
/// </summary>
/// <remarks>Immutable; a change is a new entry written with a conditional update.</remarks>
[Immutable]
public sealed record MembershipEntry
{
    /// <summary>The silo incarnation (endpoint plus generation); the row key.</summary>
    public required SiloAddress SiloAddress { get; init; }

    /// <summary>The configured silo name (Kafka's broker.id), stable across restarts.</summary>
    public required string SiloName { get; init; }

    public required SiloStatus Status { get; init; }

    /// <summary>The client gateway port on the same host, 0 for none.</summary>
    public int GatewayPort { get; init; }

    /// <summary>When this incarnation started.</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>The last time the silo wrote that it is alive.</summary>
    public DateTimeOffset IAmAliveTime { get; init; }

    /// <summary>Suspicion votes against this silo, oldest first.</summary>
    public ImmutableList<SuspectVote> SuspectVotes { get; init; } = ImmutableList<SuspectVote>.Empty;

    /// <summary>Votes cast no earlier than <paramref name="freshAfter"/>, one per voter (the newest).</summary>
    public IReadOnlyList<SuspectVote> FreshVotes(DateTimeOffset freshAfter) => SuspectVotes
        .Where(v => v.Time >= freshAfter)
        .GroupBy(v => v.Voter)
        .Select(g => g.MaxBy(v => v.Time)!)
        .ToList();

    public ClusterMember ToClusterMember() => new(SiloAddress, SiloName, Status, GatewayPort);

    public override string ToString() =>
        $"{SiloName}={SiloAddress}:{Status} alive={IAmAliveTime.ToString("O", CultureInfo.InvariantCulture)} votes={SuspectVotes.Count}";
}

/// <summary>
/// The version of the whole membership table. Every row insert or update moves the table to
/// <see cref="Next"/> of the version last read; the write succeeds only if the table still holds
/// the version whose <see cref="VersionEtag"/> the writer read, so two writers racing on a stale
/// view cannot both win.
/// </summary>
/// <param name="Version">Grows by one with each membership change; the snapshot version.</param>
/// <param name="VersionEtag">The ETag of the version the writer read.</param>
[Immutable]
public readonly record struct TableVersion(long Version, string VersionEtag)
{
    /// <summary>The version a writer proposes: one more, carrying the ETag it read.</summary>
    public TableVersion Next() => new(Version + 1, VersionEtag);

    public override string ToString() => $"<{Version.ToString(CultureInfo.InvariantCulture)}, {VersionEtag}>";
}

/// <summary>A row and the ETag it was read with.</summary>
[Immutable]
public sealed record MembershipRow(MembershipEntry Entry, string ETag);

/// <summary>The result of a table read: rows with their ETags and the table version read with them.</summary>
[Immutable]
public sealed class MembershipTableData
{
    public MembershipTableData(IEnumerable<MembershipRow> rows, TableVersion version)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Rows = rows.ToImmutableArray();
        Version = version;
    }

    public ImmutableArray<MembershipRow> Rows { get; }

    public TableVersion Version { get; }

    public MembershipRow? Find(SiloAddress silo) => Rows.FirstOrDefault(r => r.Entry.SiloAddress == silo);

    /// <summary>The cluster view of this read; its version is the table version.</summary>
    public ClusterMembershipSnapshot ToSnapshot() => new(
        Rows.ToImmutableDictionary(r => r.Entry.SiloAddress, r => r.Entry.ToClusterMember()),
        Version.Version);

    public override string ToString() => $"{Version}: " + string.Join("; ", Rows.Select(r => r.Entry.ToString()));
}
