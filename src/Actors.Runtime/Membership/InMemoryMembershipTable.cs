using System.Globalization;

namespace Actors.Membership;

/// <summary>
/// A membership table held in memory. One instance is shared by every silo and client of an
/// in-process cluster (tests, TestCluster).
/// </summary>
/// <remarks>Thread-safe: every operation runs under one lock, so each is atomic. ETags are drawn
/// from one counter and never repeat within an instance.</remarks>
public sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly Lock gate = new();
    private readonly Dictionary<SiloAddress, MembershipRow> rows = [];
    private TableVersion version;
    private bool versionInitialized;
    private long nextEtag;

    /// <summary>How many conditional writes (inserts and updates) succeeded; for tests.</summary>
    public long SuccessfulWrites { get; private set; }

    /// <summary>How many conditional writes were refused as stale; for tests.</summary>
    public long RefusedWrites { get; private set; }

    public Task InitializeMembershipTable(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (tryInitTableVersion && !versionInitialized)
            {
                version = new TableVersion(0, NewEtag());
                versionInitialized = true;
            }
        }

        return Task.CompletedTask;
    }

    public Task<MembershipTableData> ReadAll(CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            EnsureInitialized();
            return Task.FromResult(new MembershipTableData(rows.Values.ToList(), version));
        }
    }

    public Task<MembershipTableData> ReadRow(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (gate)
        {
            EnsureInitialized();
            var found = rows.TryGetValue(key, out var row) ? new[] { row } : [];
            return Task.FromResult(new MembershipTableData(found, version));
        }
    }

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (gate)
        {
            EnsureInitialized();
            if (!IsSuccessorVersion(tableVersion) || rows.ContainsKey(entry.SiloAddress))
            {
                RefusedWrites++;
                return Task.FromResult(false);
            }

            rows[entry.SiloAddress] = new MembershipRow(entry, NewEtag());
            Commit(tableVersion);
            return Task.FromResult(true);
        }
    }

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        lock (gate)
        {
            EnsureInitialized();
            if (!IsSuccessorVersion(tableVersion)
                || !rows.TryGetValue(entry.SiloAddress, out var current)
                || !string.Equals(current.ETag, etag, StringComparison.Ordinal))
            {
                RefusedWrites++;
                return Task.FromResult(false);
            }

            rows[entry.SiloAddress] = new MembershipRow(entry, NewEtag());
            Commit(tableVersion);
            return Task.FromResult(true);
        }
    }

    public Task UpdateIAmAlive(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (gate)
        {
            EnsureInitialized();
            if (!rows.TryGetValue(entry.SiloAddress, out var current))
            {
                throw new InvalidOperationException($"The membership table has no row for {entry.SiloAddress}; IAmAlive cannot be written.");
            }

            rows[entry.SiloAddress] = new MembershipRow(current.Entry with { IAmAliveTime = entry.IAmAliveTime }, NewEtag());
        }

        return Task.CompletedTask;
    }

    public Task<int> CleanupDefunctSiloEntries(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var defunct = rows.Values
                .Where(r => r.Entry.Status == SiloStatus.Dead && r.Entry.IAmAliveTime < beforeDate)
                .Select(r => r.Entry.SiloAddress)
                .ToList();
            foreach (var silo in defunct)
            {
                rows.Remove(silo);
            }

            return Task.FromResult(defunct.Count);
        }
    }

    private bool IsSuccessorVersion(TableVersion proposed) =>
        proposed.Version == version.Version + 1
        && string.Equals(proposed.VersionEtag, version.VersionEtag, StringComparison.Ordinal);

    private void Commit(TableVersion proposed)
    {
        version = new TableVersion(proposed.Version, NewEtag());
        SuccessfulWrites++;
    }

    private void EnsureInitialized()
    {
        if (!versionInitialized)
        {
            throw new InvalidOperationException("The membership table is not initialized; call InitializeMembershipTable(tryInitTableVersion: true) first.");
        }
    }

    private string NewEtag() => (++nextEtag).ToString(CultureInfo.InvariantCulture);
}
