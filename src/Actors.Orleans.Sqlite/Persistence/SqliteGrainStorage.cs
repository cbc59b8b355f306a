using Microsoft.Data.Sqlite;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite;

/// <summary>
/// Orleans grain storage in a SQLite file (the embedded default): one row per (state name, grain id)
/// in table <c>orleans_grain_state</c>, the state serialized by the configured
/// <see cref="IGrainStorageSerializer"/> (Orleans' binary serializer by default).
/// </summary>
/// <remarks>
/// <para>Invariants:</para>
/// <list type="number">
/// <item>A write or clear with the stored ETag (or with none, when no row exists) replaces the row and
/// gives it a fresh ETag; any other ETag changes nothing and throws <see cref="InconsistentStateException"/>.</item>
/// <item>Clearing keeps the row with no data and a fresh ETag (as Orleans' Azure and ADO.NET providers
/// do by default), so an ETag from before the clear is never accepted again.</item>
/// </list>
/// <para>Thread-safe and process-safe: each write is one conditional statement in a
/// <c>BEGIN IMMEDIATE</c> transaction. A returned write is durable (WAL, <c>synchronous=FULL</c>).</para>
/// </remarks>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS orleans_grain_state (
            state_name TEXT NOT NULL,
            grain_id TEXT NOT NULL,
            data BLOB,
            etag TEXT NOT NULL,
            PRIMARY KEY (state_name, grain_id));
        """;

    private readonly SqliteDatabase database;
    private readonly IGrainStorageSerializer serializer;
    private readonly IActivatorProvider activatorProvider;
    private readonly Lazy<Task> schema;

    /// <param name="name">The provider name, as grains name it in <c>[PersistentState(…, name)]</c>.</param>
    /// <param name="options">Where the file is.</param>
    /// <param name="serializer">How state is turned into bytes, e.g. <see cref="OrleansGrainStorageSerializer"/>.</param>
    /// <param name="activatorProvider">Creates the empty state of a missing or cleared record.</param>
    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IGrainStorageSerializer serializer, IActivatorProvider activatorProvider)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(activatorProvider);
        options.Validate(name);
        Name = name;
        database = new SqliteDatabase(
            options.DatabasePath,
            options.BusyTimeout,
            $"{nameof(SqliteGrainStorageOptions)}.{nameof(SqliteGrainStorageOptions.DatabasePath)} of grain storage '{name}'");
        this.serializer = serializer;
        this.activatorProvider = activatorProvider;
        schema = new Lazy<Task>(() => Task.Run(() => database.Initialize(Schema)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The provider name.</summary>
    public string Name { get; }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath => database.DatabasePath;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var (data, etag) = await database.ReadAsync((connection, transaction) =>
        {
            using var select = Command(connection, transaction, "SELECT data, etag FROM orleans_grain_state WHERE state_name = $state AND grain_id = $grain", stateName, grainId);
            using var reader = select.ExecuteReader();
            return reader.Read()
                ? (reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0), reader.GetString(1))
                : ((byte[]?)null, (string?)null);
        }, cancellationToken).ConfigureAwait(false);

        grainState.ETag = etag;
        grainState.RecordExists = data is not null;
        grainState.State = data is null ? CreateInstance<T>() : serializer.Deserialize<T>(new BinaryData(data)) ?? CreateInstance<T>();
    }

    /// <summary>The ETag stored for (<paramref name="stateName"/>, <paramref name="grainId"/>), or null when no row
    /// exists: what a <see cref="ReadStateAsync{T}(string, GrainId, IGrainState{T}, CancellationToken)"/> would set
    /// as <see cref="IGrainState{T}.ETag"/>, without reading or deserializing the state. A caller holding that ETag
    /// from its own last read or write knows nobody has written since.</summary>
    public async Task<string?> ReadETagAsync(string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await database.ReadAsync(
            (connection, transaction) => StoredETag(connection, transaction, stateName, grainId), cancellationToken).ConfigureAwait(false);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var data = serializer.Serialize(grainState.State).ToArray();
        grainState.ETag = await WriteAsync("write", stateName, grainId, data, grainState.ETag, cancellationToken).ConfigureAwait(false);
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        grainState.ETag = await WriteAsync("clear", stateName, grainId, null, grainState.ETag, cancellationToken).ConfigureAwait(false);
        grainState.RecordExists = false;
        grainState.State = CreateInstance<T>();
    }

    /// <summary>Writes <paramref name="data"/> (null: cleared) if the stored ETag is
    /// <paramref name="expectedETag"/> (null: no row); returns the fresh ETag.</summary>
    private Task<string> WriteAsync(string operation, string stateName, GrainId grainId, byte[]? data, string? expectedETag, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            var etag = SqliteDatabase.NewETag();
            using var write = Command(
                connection,
                transaction,
                expectedETag is null
                    ? "INSERT OR IGNORE INTO orleans_grain_state (state_name, grain_id, data, etag) VALUES ($state, $grain, $data, $etag)"
                    : "UPDATE orleans_grain_state SET data = $data, etag = $etag WHERE state_name = $state AND grain_id = $grain AND etag = $expected",
                stateName,
                grainId);
            write.Parameters.AddWithValue("$data", (object?)data ?? DBNull.Value);
            write.Parameters.AddWithValue("$etag", etag);
            write.Parameters.AddWithValue("$expected", (object?)expectedETag ?? DBNull.Value);
            if (write.ExecuteNonQuery() != 1)
            {
                var stored = StoredETag(connection, transaction, stateName, grainId);
                throw new InconsistentStateException(
                    $"Grain storage '{Name}' refused to {operation} state '{stateName}' of grain {grainId}: the caller's ETag is {expectedETag ?? "none (a new record)"}, the stored one is {stored ?? "none (no record)"}.",
                    stored,
                    expectedETag);
            }

            return etag;
        }, cancellationToken);

    private T CreateInstance<T>() => activatorProvider.GetActivator<T>().Create();

    private static string? StoredETag(SqliteConnection connection, SqliteTransaction transaction, string stateName, GrainId grainId)
    {
        using var select = Command(connection, transaction, "SELECT etag FROM orleans_grain_state WHERE state_name = $state AND grain_id = $grain", stateName, grainId);
        return select.ExecuteScalar() as string;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, string stateName, GrainId grainId)
    {
        var command = SqliteDatabase.Command(connection, transaction, sql);
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        return command;
    }
}
