using Microsoft.Data.Sqlite;

namespace Actors.Persistence;

/// <summary>Where a SQLite grain storage provider keeps its file.</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>The database file (created with its folder if missing). Required.</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>How long a write waits for another process holding the write lock. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Grain state in a SQLite file (the embedded default), one row per (state name, grain type,
/// grain key) in table <c>grain_state</c>. Several processes may share the file.
/// </summary>
/// <remarks>Thread-safe and process-safe: each write is one conditional statement inside a
/// <c>BEGIN IMMEDIATE</c> transaction (the ETag is checked and replaced atomically); a stale
/// ETag changes nothing and throws <see cref="InconsistentStateException"/>. ETags are fresh GUIDs.</remarks>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS grain_state (
            state_name TEXT NOT NULL,
            grain_type TEXT NOT NULL,
            grain_key TEXT NOT NULL,
            data BLOB NOT NULL,
            etag TEXT NOT NULL,
            PRIMARY KEY (state_name, grain_type, grain_key));
        """;

    private readonly SqliteDatabase database;
    private readonly Lazy<Task> initialized;

    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        database = new SqliteDatabase(options.DatabasePath, options.BusyTimeout, $"SqliteGrainStorageOptions.DatabasePath of grain storage '{name}'");
        initialized = new Lazy<Task>(() => Task.Run(() => database.Initialize(Schema)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Name { get; }

    public string DatabasePath => database.DatabasePath;

    public async Task<StoredGrainState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        await initialized.Value.ConfigureAwait(false);
        return await database.ReadAsync(
            (connection, transaction) =>
            {
                using var select = Command(connection, transaction, "SELECT data, etag FROM grain_state WHERE state_name = $state AND grain_type = $type AND grain_key = $key", stateName, grainId);
                using var reader = select.ExecuteReader();
                return reader.Read() ? new StoredGrainState((byte[])reader.GetValue(0), reader.GetString(1)) : null;
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        await initialized.Value.ConfigureAwait(false);
        var bytes = data.ToArray();
        return await database.WriteAsync(
            (connection, transaction) =>
            {
                var etag = Guid.NewGuid().ToString("N");
                using var write = Command(
                    connection,
                    transaction,
                    expectedETag is null
                        ? "INSERT OR IGNORE INTO grain_state (state_name, grain_type, grain_key, data, etag) VALUES ($state, $type, $key, $data, $etag)"
                        : "UPDATE grain_state SET data = $data, etag = $etag WHERE state_name = $state AND grain_type = $type AND grain_key = $key AND etag = $expected",
                    stateName,
                    grainId);
                write.Parameters.AddWithValue("$data", bytes);
                write.Parameters.AddWithValue("$etag", etag);
                write.Parameters.AddWithValue("$expected", (object?)expectedETag ?? DBNull.Value);
                if (write.ExecuteNonQuery() != 1)
                {
                    throw GrainStorageErrors.Conflict(Name, "write", stateName, grainId, StoredETag(connection, transaction, stateName, grainId), expectedETag);
                }

                return etag;
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task ClearAsync(string stateName, GrainId grainId, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        await initialized.Value.ConfigureAwait(false);
        await database.WriteAsync(
            (connection, transaction) =>
            {
                var stored = StoredETag(connection, transaction, stateName, grainId);
                if (!string.Equals(stored, expectedETag, StringComparison.Ordinal))
                {
                    throw GrainStorageErrors.Conflict(Name, "clear", stateName, grainId, stored, expectedETag);
                }

                using var delete = Command(connection, transaction, "DELETE FROM grain_state WHERE state_name = $state AND grain_type = $type AND grain_key = $key", stateName, grainId);
                return delete.ExecuteNonQuery();
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static string? StoredETag(SqliteConnection connection, SqliteTransaction transaction, string stateName, GrainId grainId)
    {
        using var select = Command(connection, transaction, "SELECT etag FROM grain_state WHERE state_name = $state AND grain_type = $type AND grain_key = $key", stateName, grainId);
        return select.ExecuteScalar() as string;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, string stateName, GrainId grainId)
    {
        var command = SqliteDatabase.Command(connection, transaction, sql);
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$type", grainId.Type);
        command.Parameters.AddWithValue("$key", grainId.Key);
        return command;
    }
}
