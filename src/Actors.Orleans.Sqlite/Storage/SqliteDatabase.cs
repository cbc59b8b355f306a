using Microsoft.Data.Sqlite;

namespace Actors.Orleans.Sqlite;

/// <summary>
/// One SQLite database file shared by several threads and processes: WAL journal,
/// <c>synchronous=FULL</c>, a busy timeout so writers queue instead of failing, and write
/// transactions started with <c>BEGIN IMMEDIATE</c> so a read-check-write sequence holds the write
/// lock from its first read.
/// </summary>
/// <remarks>
/// Durability: a write transaction that has returned is on disk (WAL with <c>synchronous=FULL</c>
/// syncs the log at every commit), so an acknowledged membership or state write survives power loss.
/// Thread-safe. Connections are pooled by Microsoft.Data.Sqlite; each operation opens one, uses it
/// on one pool thread and returns it.
/// </remarks>
internal sealed class SqliteDatabase
{
    private readonly string connectionString;
    private readonly int busyTimeoutMs;

    /// <param name="databasePath">The database file; its folder is created if missing.</param>
    /// <param name="busyTimeout">How long a statement waits for another connection's write lock.</param>
    /// <param name="settingName">The setting that names the file, quoted in errors.</param>
    public SqliteDatabase(string databasePath, TimeSpan busyTimeout, string settingName)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        SettingName = settingName;
        busyTimeoutMs = (int)Math.Min(int.MaxValue, busyTimeout.TotalMilliseconds);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The setting that names the file, quoted in errors.</summary>
    public string SettingName { get; }

    /// <summary>Creates the folder, switches the file to WAL and runs <paramref name="schemaSql"/>
    /// (which must be idempotent: <c>CREATE TABLE IF NOT EXISTS</c>).</summary>
    public void Initialize(string schemaSql)
    {
        try
        {
            var folder = Path.GetDirectoryName(DatabasePath);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Cannot create the folder of the SQLite database '{DatabasePath}': {ex.Message} Check {SettingName}.", ex);
        }

        using var connection = Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = wal.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"The SQLite database '{DatabasePath}' could not switch to WAL mode (got '{mode}'); it must be on a local file system. Check {SettingName}.");
            }
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using (var schema = Command(connection, transaction, schemaSql))
        {
            schema.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Opens a pooled connection with the busy timeout and <c>synchronous=FULL</c> set.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA busy_timeout={busyTimeoutMs}; PRAGMA synchronous=FULL;";
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new InvalidOperationException(
                $"Cannot open the SQLite database '{DatabasePath}': {ex.Message} Check {SettingName}.", ex);
        }
    }

    /// <summary>Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction on a pool thread;
    /// commits when it returns (unless the work rolled back), rolls back when it throws.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default) =>
        Task.Run(
            () =>
            {
                using var connection = Open();
                using var transaction = connection.BeginTransaction(deferred: false);
                var result = work(connection, transaction);
                if (transaction.Connection is not null)
                {
                    // Not rolled back by the work.
                    transaction.Commit();
                }

                return result;
            },
            cancellationToken);

    /// <summary>Runs <paramref name="work"/> in one read transaction (a consistent snapshot) on a pool thread.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default) =>
        Task.Run(
            () =>
            {
                using var connection = Open();
                using var transaction = connection.BeginTransaction(deferred: true);
                var result = work(connection, transaction);
                transaction.Commit();
                return result;
            },
            cancellationToken);

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>A fresh ETag: a random GUID, never reused, so an old ETag never matches a later write.</summary>
    public static string NewETag() => Guid.NewGuid().ToString("N");
}
