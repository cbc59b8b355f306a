using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Actors.Orleans.Sqlite;

/// <summary>
/// Orleans' membership table in a SQLite file: the embedded default, shared by every silo process
/// on one machine. Table <c>orleans_membership_version</c> holds one version row per cluster and
/// <c>orleans_membership</c> one row per silo incarnation, keyed by
/// <see cref="SiloAddress.ToParsableString"/>.
/// </summary>
/// <remarks>
/// <para>Invariants:</para>
/// <list type="number">
/// <item>A conditional write (<see cref="InsertRowAsync"/>, <see cref="UpdateRowAsync"/>) changes anything only
/// if the stored version is <c>next.Version - 1</c> with etag <c>next.VersionEtag</c> (and, for an
/// update, the row's etag matches); it then moves the version to <c>next.Version</c> under a fresh
/// etag and gives the row a fresh etag. Otherwise it returns <see langword="false"/> and changes nothing.</item>
/// <item><see cref="UpdateIAmAliveAsync"/> writes only the alive time (and a fresh row etag); the version never moves.</item>
/// </list>
/// <para>Thread-safe and process-safe: each conditional write is one <c>BEGIN IMMEDIATE</c>
/// transaction, so writers in several processes serialize on the file's write lock. A returned write
/// is durable (WAL, <c>synchronous=FULL</c>). Times are stored as UTC ticks; suspicion votes as
/// <c>address,ticks</c> pairs joined by <c>;</c>.</para>
/// </remarks>
public sealed partial class SqliteMembershipTable : IMembershipTable
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS orleans_membership_version (
            cluster_id TEXT NOT NULL PRIMARY KEY,
            version INTEGER NOT NULL,
            etag TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS orleans_membership (
            cluster_id TEXT NOT NULL,
            address TEXT NOT NULL,
            status INTEGER NOT NULL,
            suspect_times TEXT NOT NULL,
            proxy_port INTEGER NOT NULL,
            host_name TEXT,
            silo_name TEXT,
            role_name TEXT,
            update_zone INTEGER NOT NULL,
            fault_zone INTEGER NOT NULL,
            start_time INTEGER NOT NULL,
            iamalive_time INTEGER NOT NULL,
            etag TEXT NOT NULL,
            PRIMARY KEY (cluster_id, address));
        """;

    private const string SelectRows = """
        SELECT address, status, suspect_times, proxy_port, host_name, silo_name, role_name,
               update_zone, fault_zone, start_time, iamalive_time, etag
        FROM orleans_membership WHERE cluster_id = $cluster
        """;

    private readonly SqliteDatabase database;
    private readonly string clusterId;
    private readonly ILogger logger;
    private readonly Lazy<Task> schema;

    public SqliteMembershipTable(
        IOptions<SqliteClusteringOptions> options,
        IOptions<ClusterOptions> clusterOptions,
        ILogger<SqliteMembershipTable>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        options.Value.Validate();
        if (string.IsNullOrWhiteSpace(clusterOptions.Value.ClusterId))
        {
            throw new OrleansConfigurationException("ClusterOptions.ClusterId is empty; the SQLite membership table keeps one table per cluster id.");
        }

        database = new SqliteDatabase(options.Value.DatabasePath, options.Value.BusyTimeout, $"{nameof(SqliteClusteringOptions)}.{nameof(SqliteClusteringOptions.DatabasePath)}");
        clusterId = clusterOptions.Value.ClusterId;
        this.logger = logger ?? NullLogger<SqliteMembershipTable>.Instance;
        schema = new Lazy<Task>(() => Task.Run(() => database.Initialize(Schema)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath => database.DatabasePath;

    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!tryInitTableVersion)
        {
            return;
        }

        var created = await database.WriteAsync((connection, transaction) =>
        {
            using var insert = SqliteDatabase.Command(
                connection,
                transaction,
                "INSERT OR IGNORE INTO orleans_membership_version (cluster_id, version, etag) VALUES ($cluster, 0, $etag)");
            insert.Parameters.AddWithValue("$cluster", clusterId);
            insert.Parameters.AddWithValue("$etag", SqliteDatabase.NewETag());
            return insert.ExecuteNonQuery() == 1;
        }, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            LogCreatedVersionRow(clusterId, database.DatabasePath);
        }
    }

    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clusterId);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        await database.WriteAsync((connection, transaction) =>
        {
            using var rows = SqliteDatabase.Command(connection, transaction, "DELETE FROM orleans_membership WHERE cluster_id = $cluster");
            rows.Parameters.AddWithValue("$cluster", clusterId);
            rows.ExecuteNonQuery();
            using var version = SqliteDatabase.Command(connection, transaction, "DELETE FROM orleans_membership_version WHERE cluster_id = $cluster");
            version.Parameters.AddWithValue("$cluster", clusterId);
            return version.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the Dead rows whose IAmAlive time is before <paramref name="beforeDate"/>, as
    /// Orleans 10.4.2's Azure table does (it dates rows by their last write). The version does not move.</summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await database.WriteAsync((connection, transaction) =>
        {
            using var delete = SqliteDatabase.Command(
                connection,
                transaction,
                "DELETE FROM orleans_membership WHERE cluster_id = $cluster AND status = $dead AND iamalive_time < $before");
            delete.Parameters.AddWithValue("$cluster", clusterId);
            delete.Parameters.AddWithValue("$dead", (int)SiloStatus.Dead);
            delete.Parameters.AddWithValue("$before", beforeDate.UtcTicks);
            return delete.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            LogCleanedUp(deleted, clusterId, beforeDate);
        }
    }

    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default) => ReadAsync(null, cancellationToken);

    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ReadAsync(key, cancellationToken);
    }

    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await database.WriteAsync((connection, transaction) =>
        {
            if (!TryMoveVersion(connection, transaction, tableVersion))
            {
                return false;
            }

            using var insert = SqliteDatabase.Command(
                connection,
                transaction,
                """
                INSERT OR IGNORE INTO orleans_membership
                    (cluster_id, address, status, suspect_times, proxy_port, host_name, silo_name, role_name,
                     update_zone, fault_zone, start_time, iamalive_time, etag)
                VALUES ($cluster, $address, $status, $suspect_times, $proxy_port, $host_name, $silo_name, $role_name,
                        $update_zone, $fault_zone, $start_time, $iamalive_time, $etag)
                """);
            AddEntryParameters(insert, entry);
            if (insert.ExecuteNonQuery() != 1)
            {
                transaction.Rollback();
                return false;
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await database.WriteAsync((connection, transaction) =>
        {
            if (etag is null || !TryMoveVersion(connection, transaction, tableVersion))
            {
                return false;
            }

            using var update = SqliteDatabase.Command(
                connection,
                transaction,
                """
                UPDATE orleans_membership SET status = $status, suspect_times = $suspect_times, proxy_port = $proxy_port,
                    host_name = $host_name, silo_name = $silo_name, role_name = $role_name, update_zone = $update_zone,
                    fault_zone = $fault_zone, start_time = $start_time, iamalive_time = $iamalive_time, etag = $etag
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
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        await database.WriteAsync((connection, transaction) =>
        {
            using var update = SqliteDatabase.Command(
                connection,
                transaction,
                "UPDATE orleans_membership SET iamalive_time = $iamalive_time, etag = $etag WHERE cluster_id = $cluster AND address = $address");
            update.Parameters.AddWithValue("$iamalive_time", Ticks(entry.IAmAliveTime));
            update.Parameters.AddWithValue("$etag", SqliteDatabase.NewETag());
            update.Parameters.AddWithValue("$cluster", clusterId);
            update.Parameters.AddWithValue("$address", entry.SiloAddress.ToParsableString());
            if (update.ExecuteNonQuery() != 1)
            {
                throw new InvalidOperationException(
                    $"The membership table in '{database.DatabasePath}' has no row for silo {entry.SiloAddress} of cluster '{clusterId}'; its IAmAlive time cannot be written.");
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MembershipTableData> ReadAsync(SiloAddress? key, CancellationToken cancellationToken)
    {
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await database.ReadAsync((connection, transaction) =>
        {
            var version = ReadVersion(connection, transaction);
            using var select = SqliteDatabase.Command(connection, transaction, key is null ? SelectRows : SelectRows + " AND address = $address");
            select.Parameters.AddWithValue("$cluster", clusterId);
            if (key is not null)
            {
                select.Parameters.AddWithValue("$address", key.ToParsableString());
            }

            var rows = new List<Tuple<MembershipEntry, string>>();
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(Tuple.Create(ReadEntry(reader), reader.GetString(11)));
            }

            return new MembershipTableData(rows, version);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static MembershipEntry ReadEntry(SqliteDataReader reader) => new()
    {
        SiloAddress = SiloAddress.FromParsableString(reader.GetString(0)),
        Status = (SiloStatus)reader.GetInt32(1),
        SuspectTimes = ParseSuspectTimes(reader.GetString(2)),
        ProxyPort = reader.GetInt32(3),
        HostName = reader.IsDBNull(4) ? null! : reader.GetString(4),
        SiloName = reader.IsDBNull(5) ? null! : reader.GetString(5),
        RoleName = reader.IsDBNull(6) ? null : reader.GetString(6),
        UpdateZone = reader.GetInt32(7),
        FaultZone = reader.GetInt32(8),
        StartTime = new DateTime(reader.GetInt64(9), DateTimeKind.Utc),
        IAmAliveTime = new DateTime(reader.GetInt64(10), DateTimeKind.Utc),
    };

    private TableVersion ReadVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var select = SqliteDatabase.Command(connection, transaction, "SELECT version, etag FROM orleans_membership_version WHERE cluster_id = $cluster");
        select.Parameters.AddWithValue("$cluster", clusterId);
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException(
                $"The membership table in '{database.DatabasePath}' has no version row for cluster '{clusterId}'; call InitializeMembershipTable(tryInitTableVersion: true) first.");
        }

        return new TableVersion(reader.GetInt32(0), reader.GetString(1));
    }

    /// <summary>Moves the stored version to <paramref name="next"/> if it is the successor of the
    /// stored one and carries its etag. Runs inside the caller's write transaction.</summary>
    private bool TryMoveVersion(SqliteConnection connection, SqliteTransaction transaction, TableVersion next)
    {
        using var update = SqliteDatabase.Command(
            connection,
            transaction,
            "UPDATE orleans_membership_version SET version = $next, etag = $etag WHERE cluster_id = $cluster AND version = $previous AND etag = $expected");
        update.Parameters.AddWithValue("$next", next.Version);
        update.Parameters.AddWithValue("$etag", SqliteDatabase.NewETag());
        update.Parameters.AddWithValue("$cluster", clusterId);
        update.Parameters.AddWithValue("$previous", next.Version - 1);
        update.Parameters.AddWithValue("$expected", next.VersionEtag ?? string.Empty);
        return update.ExecuteNonQuery() == 1;
    }

    private void AddEntryParameters(SqliteCommand command, MembershipEntry entry)
    {
        command.Parameters.AddWithValue("$cluster", clusterId);
        command.Parameters.AddWithValue("$address", entry.SiloAddress.ToParsableString());
        command.Parameters.AddWithValue("$status", (int)entry.Status);
        command.Parameters.AddWithValue("$suspect_times", FormatSuspectTimes(entry.SuspectTimes));
        command.Parameters.AddWithValue("$proxy_port", entry.ProxyPort);
        command.Parameters.AddWithValue("$host_name", (object?)entry.HostName ?? DBNull.Value);
        command.Parameters.AddWithValue("$silo_name", (object?)entry.SiloName ?? DBNull.Value);
        command.Parameters.AddWithValue("$role_name", (object?)entry.RoleName ?? DBNull.Value);
        command.Parameters.AddWithValue("$update_zone", entry.UpdateZone);
        command.Parameters.AddWithValue("$fault_zone", entry.FaultZone);
        command.Parameters.AddWithValue("$start_time", Ticks(entry.StartTime));
        command.Parameters.AddWithValue("$iamalive_time", Ticks(entry.IAmAliveTime));
        command.Parameters.AddWithValue("$etag", SqliteDatabase.NewETag());
    }

    /// <summary>UTC ticks; a local time is converted, an unspecified one is taken as UTC (Orleans writes UTC).</summary>
    private static long Ticks(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime().Ticks : time.Ticks;

    private static string FormatSuspectTimes(List<Tuple<SiloAddress, DateTime>>? suspectTimes)
    {
        if (suspectTimes is null || suspectTimes.Count == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (var (silo, time) in suspectTimes)
        {
            if (text.Length > 0)
            {
                text.Append(';');
            }

            text.Append(silo.ToParsableString()).Append(',').Append(Ticks(time).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private static List<Tuple<SiloAddress, DateTime>>? ParseSuspectTimes(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        var votes = new List<Tuple<SiloAddress, DateTime>>();
        foreach (var vote in text.Split(';'))
        {
            var comma = vote.LastIndexOf(',');
            votes.Add(Tuple.Create(
                SiloAddress.FromParsableString(vote[..comma]),
                new DateTime(long.Parse(vote.AsSpan(comma + 1), NumberStyles.None, CultureInfo.InvariantCulture), DateTimeKind.Utc)));
        }

        return votes;
    }

    // Orleans 10.4.2 marks the members without a token obsolete; they forward to the *Async ones.
    Task IMembershipTable.InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion);

    Task IMembershipTable.DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId);

    Task IMembershipTable.CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate);

    Task<MembershipTableData> IMembershipTable.ReadRow(SiloAddress key) => ReadRowAsync(key);

    Task<MembershipTableData> IMembershipTable.ReadAll() => ReadAllAsync();

    Task<bool> IMembershipTable.InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion);

    Task<bool> IMembershipTable.UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion);

    Task IMembershipTable.UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry);

    [LoggerMessage(1, LogLevel.Information, "Created the membership version row of cluster {ClusterId} in {DatabasePath}")]
    private partial void LogCreatedVersionRow(string clusterId, string databasePath);

    [LoggerMessage(2, LogLevel.Information, "Deleted {Count} defunct silo rows of cluster {ClusterId} not alive since {BeforeDate}")]
    private partial void LogCleanedUp(int count, string clusterId, DateTimeOffset beforeDate);
}
