namespace Actors.Persistence;

/// <summary>
/// Grain state kept in process memory (lost when the process stops). For tests and for state that
/// may be lost. Registered by <c>AddMemoryGrainStorage(name)</c>.
/// </summary>
/// <remarks>Thread-safe: each record's check-and-write runs under one lock. Data is copied in and
/// out, so callers never share buffers with the store. ETags are fresh GUIDs, never reused, so a
/// record cleared and written again never matches an ETag held from before.</remarks>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly Lock gate = new();
    private readonly Dictionary<(string State, GrainId Grain), StoredGrainState> records = [];

    public MemoryGrainStorage(string name = "Default") => Name = name;

    /// <summary>The provider's registered name.</summary>
    public string Name { get; }

    public Task<StoredGrainState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        lock (gate)
        {
            return Task.FromResult(records.TryGetValue((stateName, grainId), out var record)
                ? new StoredGrainState(record.Data.ToArray(), record.ETag)
                : null);
        }
    }

    public Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        lock (gate)
        {
            CheckETag(stateName, grainId, expectedETag, "write");
            var etag = Guid.NewGuid().ToString("N");
            records[(stateName, grainId)] = new StoredGrainState(data.ToArray(), etag);
            return Task.FromResult(etag);
        }
    }

    public Task ClearAsync(string stateName, GrainId grainId, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        lock (gate)
        {
            CheckETag(stateName, grainId, expectedETag, "clear");
            records.Remove((stateName, grainId));
            return Task.CompletedTask;
        }
    }

    private void CheckETag(string stateName, GrainId grainId, string? expectedETag, string operation)
    {
        var stored = records.TryGetValue((stateName, grainId), out var record) ? record.ETag : null;
        if (!string.Equals(stored, expectedETag, StringComparison.Ordinal))
        {
            throw GrainStorageErrors.Conflict(Name, operation, stateName, grainId, stored, expectedETag);
        }
    }
}

/// <summary>The error every provider throws on a stale ETag.</summary>
internal static class GrainStorageErrors
{
    public static InconsistentStateException Conflict(string provider, string operation, string stateName, GrainId grainId, string? storedETag, string? expectedETag) =>
        new(
            $"Grain storage '{provider}': {operation} of state '{stateName}' of grain {grainId} expected ETag " +
            $"{expectedETag ?? "<none: record must not exist>"} but storage holds {storedETag ?? "<no record>"}; another activation wrote first.",
            storedETag,
            expectedETag);
}
