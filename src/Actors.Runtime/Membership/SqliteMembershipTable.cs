using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Actors.Persistence;
using Microsoft.Data.Sqlite;

namespace Actors.Membership;

/// <summary>
/// The membership table in a SQLite file: the embedded default, shared by every silo process on
/// one machine. Tables <c>membership_version</c> (one row per cluster) and <c>membership</c>
/// (one row per silo incarnation).
/// </summary>
/// <remarks>
/// Thread-safe and process-safe: each conditional write runs in a <c>BEGIN IMMEDIATE</c>
/// transaction that checks the table version (and row ETag) and writes both, so concurrent
/// writers in several processes serialize on the file's write lock and a stale one changes
/// nothing. Times are stored as UTC ticks; suspicion votes as "address,ticks" pairs joined by ';'.
/// </remarks>
public sealed class SqliteMembershipTable : IMembershipTable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS membership_version (
            cluster_id TEXT NOT NULL PRIMARY KEY,
            version INTEGER NOT NULL,
            etag TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS membership (
            cluster_id TEXT NOT NULL,
            address TEXT NOT NULL,
            silo_name TEXT NOT NULL,
            status INTEGER NOT NULL,
            gateway_port INTEGER NOT NULL,
            start_time INTEGER NOT NULL,
            iamalive_time INTEGER NOT NULL,
            suspect_votes TEXT NOT NULL,
            etag TEXT NOT NULL,
            PRIMARY KEY (cluster_id, address));
        """;

    private const string SelectRows =
        "SELECT address, silo_name, status, gateway_port, start_time, iamalive_time, suspect_votes, etag FROM membership WHERE cluster_id = $cluster";

    private readonly SqliteDatabase database;
    private readonly string clusterId;
    private int initialized;

    public SqliteMembershipTable(SqliteClusteringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            throw new ArgumentException("SqliteClusteringOptions.ClusterId must not be empty.", nameof(options));
        }

        database = new SqliteDatabase(options.DatabasePath, options.BusyTimeout, "SqliteClusteringOptions.DatabasePath");
        clusterId = options.ClusterId;
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath => database.DatabasePath;

    public async Task InitializeMembershipTable(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        await Task.Run(() => database.Initialize(Schema), cancellationToken).ConfigureAwait(false);
        if (tryInitTableVersion)
        {
            await database.WriteAsync(
                (connection, transaction) =>
                {
                    using var insert = SqliteDatabase.Command(
                        connection,
                        transaction,
                        "INSERT OR IGNORE INTO membership_version (cluster_id, version, etag) VALUES ($cluster, 0, $etag)");
                    insert.Parameters.AddWithValue("$cluster", clusterId);
                    insert.Parameters.AddWithValue("$etag", NewEtag());
                    return insert.ExecuteNonQuery();
                },
                cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref initialized, 1);
    }

    public Task<MembershipTableData> ReadAll(CancellationToken cancellationToken = default) =>
        ReadAsync(null, cancellationToken);

    public Task<MembershipTableData> ReadRow(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ReadAsync(key, cancellationToken);
    }

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        EnsureInitialized();
        return database.WriteAsync(
            (connection, transaction) =>
            {
                if (!TryBumpVersion(connection, transaction, tableVersion))
                {
                    return false;
                }

                using var insert = SqliteDatabase.Command(
                    connection,
                    transaction,
                    """
                    INSERT OR IGNORE INTO membership
                        (cluster_id, address, silo_name, status, gateway_port, start_time, iamalive_time, suspect_votes, etag)
                    VALUES ($cluster, $address, $name, $status, $gateway, $start, $alive, $votes, $etag)
                    """);
                AddEntryParameters(insert, entry);
                if (insert.ExecuteNonQuery() != 1)
                {
                    transaction.Rollback();
                    return false;
                }

                return true;
            },
            cancellationToken);
    }

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        EnsureInitialized();
        return database.WriteAsync(
            (connection, transaction) =>
            {
                if (!TryBumpVersion(connection, transaction, tableVersion))
                {
                    return false;
                }

                using var update = SqliteDatabase.Command(
                    connection,
                    transaction,
                    """
                    UPDATE membership SET silo_name = $name, status = $status, gateway_port = $gateway,
                        start_time = $start, iamalive_time = $alive, suspect_votes = $votes, etag = $etag
                    WHERE cluster_id = $cluster AND address = $address AND etag = $expected
                    """);
                AddEntryParameters(update, entry);
                update.Parameters.AddWithValue("$expected", etag);
                if (update.ExecuteNonQuery() != 1)
                {
                    transaction.Rollback();
                    return false;
                }

                return true;
            },
            cancellationToken);
    }

    public Task UpdateIAmAlive(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        EnsureInitialized();
        return database.WriteAsync(
            (connection, transaction) =>
            {
                using var update = SqliteDatabase.Command(
                    connection,
                    transaction,
                    "UPDATE membership SET iamalive_time = $alive, etag = $etag WHERE cluster_id = $cluster AND address = $address");
                update.Parameters.AddWithValue("$alive", entry.IAmAliveTime.UtcTicks);
                update.Parameters.AddWithValue("$etag", NewEtag());
                update.Parameters.AddWithValue("$cluster", clusterId);
                update.Parameters.AddWithValue("$address", entry.SiloAddress.ToString());
                if (update.ExecuteNonQuery() != 1)
                {
                    throw new InvalidOperationException(
                        $"The membership table in '{database.DatabasePath}' has no row for {entry.SiloAddress}; IAmAlive cannot be written.");
                }

                return true;
            },
            cancellationToken);
    }

    public Task<int> CleanupDefunctSiloEntries(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        EnsureInitialized();
        return database.WriteAsync(
            (connection, transaction) =>
            {
                using var delete = SqliteDatabase.Command(
                    connection,
                    transaction,
                    "DELETE FROM membership WHERE cluster_id = $cluster AND status = $dead AND iamalive_time < $before");
                delete.Parameters.AddWithValue("$cluster", clusterId);
                delete.Parameters.AddWithValue("$dead", (int)SiloStatus.Dead);
                delete.Parameters.AddWithValue("$before", beforeDate.UtcTicks);
                return delete.ExecuteNonQuery();
            },
            cancellationToken);
    }

    private Task<MembershipTableData> ReadAsync(SiloAddress? key, CancellationToken cancellationToken)
    {
        EnsureInitialized();
        return database.ReadAsync(
            (connection, transaction) =>
            {
                var version = ReadVersion(connection, transaction);
                using var select = SqliteDatabase.Command(
                    connection,
                    transaction,
                    key is null ? SelectRows : SelectRows + " AND address = $address");
                select.Parameters.AddWithValue("$cluster", clusterId);
                if (key is not null)
                {
                    select.Parameters.AddWithValue("$address", key.ToString());
                }

                var rows = new List<MembershipRow>();
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    var entry = new MembershipEntry
                    {
                        SiloAddress = SiloAddress.Parse(reader.GetString(0)),
                        SiloName = reader.GetString(1),
                        Status = (SiloStatus)reader.GetInt32(2),
                        GatewayPort = reader.GetInt32(3),
                        StartTime = new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
                        IAmAliveTime = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
                        SuspectVotes = ParseVotes(reader.GetString(6)),
                    };
                    rows.Add(new MembershipRow(entry, reader.GetString(7)));
                }

                return new MembershipTableData(rows, version);
            },
            cancellationToken);
    }

    private TableVersion ReadVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var select = SqliteDatabase.Command(
            connection, transaction, "SELECT version, etag FROM membership_version WHERE cluster_id = $cluster");
        select.Parameters.AddWithValue("$cluster", clusterId);
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException(
                $"The membership table in '{database.DatabasePath}' has no version row for cluster '{clusterId}'; call InitializeMembershipTable(tryInitTableVersion: true) first.");
        }

        return new TableVersion(reader.GetInt64(0), reader.GetString(1));
    }

    /// <summary>Moves the stored version to <paramref name="proposed"/> if it is the successor of the
    /// stored one and carries its ETag. Runs inside the caller's write transaction.</summary>
    private bool TryBumpVersion(SqliteConnection connection, SqliteTransaction transaction, TableVersion proposed)
    {
        using var update = SqliteDatabase.Command(
            connection,
            transaction,
            "UPDATE membership_version SET version = $next, etag = $etag WHERE cluster_id = $cluster AND version = $previous AND etag = $expected");
        update.Parameters.AddWithValue("$next", proposed.Version);
        update.Parameters.AddWithValue("$etag", NewEtag());
        update.Parameters.AddWithValue("$cluster", clusterId);
        update.Parameters.AddWithValue("$previous", proposed.Version - 1);
        update.Parameters.AddWithValue("$expected", proposed.VersionEtag ?? string.Empty);
        return update.ExecuteNonQuery() == 1;
    }

    private void AddEntryParameters(SqliteCommand command, MembershipEntry entry)
    {
        command.Parameters.AddWithValue("$cluster", clusterId);
        command.Parameters.AddWithValue("$address", entry.SiloAddress.ToString());
        command.Parameters.AddWithValue("$name", entry.SiloName);
        command.Parameters.AddWithValue("$status", (int)entry.Status);
        command.Parameters.AddWithValue("$gateway", entry.GatewayPort);
        command.Parameters.AddWithValue("$start", entry.StartTime.UtcTicks);
        command.Parameters.AddWithValue("$alive", entry.IAmAliveTime.UtcTicks);
        command.Parameters.AddWithValue("$votes", FormatVotes(entry.SuspectVotes));
        command.Parameters.AddWithValue("$etag", NewEtag());
    }

    private void EnsureInitialized()
    {
        if (Volatile.Read(ref initialized) == 0)
        {
            throw new InvalidOperationException("The SQLite membership table is not initialized; call InitializeMembershipTable first.");
        }
    }

    private static string FormatVotes(ImmutableList<SuspectVote> votes)
    {
        var text = new StringBuilder();
        foreach (var vote in votes)
        {
            if (text.Length > 0)
            {
                text.Append(';');
            }

            text.Append(vote.Voter.ToString()).Append(',').Append(vote.Time.UtcTicks.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private static ImmutableList<SuspectVote> ParseVotes(string text)
    {
        if (text.Length == 0)
        {
            return ImmutableList<SuspectVote>.Empty;
        }

        var votes = ImmutableList.CreateBuilder<SuspectVote>();
        foreach (var part in text.Split(';'))
        {
            var comma = part.LastIndexOf(',');
            votes.Add(new SuspectVote(
                SiloAddress.Parse(part[..comma]),
                new DateTimeOffset(long.Parse(part.AsSpan(comma + 1), CultureInfo.InvariantCulture), TimeSpan.Zero)));
        }

        return votes.ToImmutable();
    }

    private static string NewEtag() => Guid.NewGuid().ToString("N");
}
