namespace Actors.Membership;

/// <summary>
/// The shared membership table (Orleans' IMembershipTable): one row per silo incarnation plus a
/// table version. Providers: <see cref="InMemoryMembershipTable"/> and <see cref="SqliteMembershipTable"/>.
/// </summary>
/// <remarks>
/// Thread-safe and safe across processes where the store is shared. Every row insert and update
/// is conditional: it names the next table version (<see cref="TableVersion.Next"/> of the version
/// read) and, for updates, the row's ETag; if either is stale the method returns false and
/// changes nothing. <see cref="UpdateIAmAlive"/> is the only unconditional write: it touches only
/// the IAmAlive time and does not move the table version.
/// </remarks>
public interface IMembershipTable
{
    /// <summary>Creates the store's schema if needed and, when <paramref name="tryInitTableVersion"/>,
    /// the version row (version 0) if none exists.</summary>
    Task InitializeMembershipTable(bool tryInitTableVersion, CancellationToken cancellationToken = default);

    /// <summary>Every row and the table version, read atomically.</summary>
    Task<MembershipTableData> ReadAll(CancellationToken cancellationToken = default);

    /// <summary>One row (or none) and the table version, read atomically.</summary>
    Task<MembershipTableData> ReadRow(SiloAddress key, CancellationToken cancellationToken = default);

    /// <summary>Inserts a row for a new silo incarnation. False if the row exists or the table
    /// version is not the successor of the stored one.</summary>
    Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default);

    /// <summary>Replaces a row. False if the row's ETag is not <paramref name="etag"/> or the table
    /// version is not the successor of the stored one.</summary>
    Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default);

    /// <summary>Sets the row's IAmAlive time to <paramref name="entry"/>'s; nothing else changes.</summary>
    Task UpdateIAmAlive(MembershipEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Deletes Dead rows whose IAmAlive time is before <paramref name="beforeDate"/>.
    /// Returns how many were deleted.</summary>
    Task<int> CleanupDefunctSiloEntries(DateTimeOffset beforeDate, CancellationToken cancellationToken = default);
}
