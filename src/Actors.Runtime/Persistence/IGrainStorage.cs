namespace Actors.Persistence;

/// <summary>A state record as a storage provider sees it: opaque bytes plus an ETag.</summary>
/// <param name="Data">The serialized state.</param>
/// <param name="ETag">The version stored with it.</param>
public sealed record StoredGrainState(ReadOnlyMemory<byte> Data, string ETag);

/// <summary>
/// A grain storage provider (memory, SQLite, later Azure Blob). Providers store opaque bytes; the
/// runtime serializes state with the generated codecs. Providers are registered as keyed
/// singletons by name; "Default" is used when a <see cref="PersistentStateAttribute"/> names none.
/// </summary>
/// <remarks>Thread-safe. Writes are conditional: <paramref name="expectedETag"/> null means
/// "the record must not exist".</remarks>
public interface IGrainStorage
{
    /// <summary>Reads the record, or null if there is none.</summary>
    Task<StoredGrainState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default);

    /// <summary>Writes if the stored ETag equals <paramref name="expectedETag"/>; returns the new ETag,
    /// else throws <see cref="InconsistentStateException"/>.</summary>
    Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Deletes if the stored ETag equals <paramref name="expectedETag"/>, else throws <see cref="InconsistentStateException"/>.</summary>
    Task ClearAsync(string stateName, GrainId grainId, string? expectedETag, CancellationToken cancellationToken = default);
}
