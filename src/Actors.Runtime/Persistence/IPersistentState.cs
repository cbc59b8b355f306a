namespace Actors;

/// <summary>
/// A piece of grain state kept in a storage provider, injected with <see cref="PersistentStateAttribute"/>.
/// State is read before <see cref="Grain.OnActivateAsync"/>. Every write is conditional on the ETag
/// last read or written; a stale write throws <see cref="InconsistentStateException"/> and the
/// activation is deactivated (as Orleans does).
/// </summary>
/// <typeparam name="TState">A [GenerateSerializer] type with a public parameterless constructor.</typeparam>
public interface IPersistentState<TState>
{
    TState State { get; set; }

    /// <summary>The version of the stored record this activation last saw; null if none.</summary>
    string? Etag { get; }

    /// <summary>True if storage holds a record for this state.</summary>
    bool RecordExists { get; }

    Task ReadStateAsync(CancellationToken cancellationToken = default);

    Task WriteStateAsync(CancellationToken cancellationToken = default);

    Task ClearStateAsync(CancellationToken cancellationToken = default);
}
