using Actors.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Persistence;

/// <summary>Lets an activation read every persistent state before OnActivateAsync.</summary>
internal interface IPersistentStateLoader
{
    Task ReadStateAsync(CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="IPersistentState{TState}"/> over a keyed <see cref="IGrainStorage"/> provider. State is
/// serialized with the generated codecs; every write and clear is conditional on the ETag last seen.
/// </summary>
/// <remarks>Grain turn only: not thread-safe. Invariant: <see cref="Etag"/> is the ETag of the record
/// this activation last read or wrote (null when none exists).</remarks>
/// <typeparam name="TState">A [GenerateSerializer] type with a parameterless constructor.</typeparam>
internal sealed class PersistentState<TState> : IPersistentState<TState>, IPersistentStateLoader
    where TState : new()
{
    /// <summary>The provider name used when <see cref="PersistentStateAttribute"/> names none.</summary>
    public const string DefaultStorageName = "Default";

    private readonly string stateName;
    private readonly string storageName;
    private readonly IGrainContext context;
    private readonly IServiceProvider services;
    private IGrainStorage? storage;

    public PersistentState(string stateName, string? storageName, IGrainContext context, IServiceProvider services)
    {
        this.stateName = stateName;
        this.storageName = string.IsNullOrEmpty(storageName) ? DefaultStorageName : storageName;
        this.context = context;
        this.services = services;
    }

    public TState State { get; set; } = new();

    public string? Etag { get; private set; }

    public bool RecordExists { get; private set; }

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var record = await Storage.ReadAsync(stateName, context.GrainId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            State = new TState();
            Etag = null;
            RecordExists = false;
            return;
        }

        State = GrainStateSerializer.Deserialize<TState>(record.Data.Span);
        Etag = record.ETag;
        RecordExists = true;
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var data = GrainStateSerializer.Serialize(State);
        Etag = await Storage.WriteAsync(stateName, context.GrainId, data, Etag, cancellationToken).ConfigureAwait(false);
        RecordExists = true;
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        await Storage.ClearAsync(stateName, context.GrainId, Etag, cancellationToken).ConfigureAwait(false);
        Etag = null;
        RecordExists = false;
        State = new TState();
    }

    private IGrainStorage Storage => storage ??= services.GetKeyedService<IGrainStorage>(storageName)
        ?? throw new InvalidOperationException(
            $"Grain {context.GrainId} needs the grain storage provider '{storageName}' for its state '{stateName}', but none is registered. " +
            $"Register one in UseActors, e.g. silo.AddMemoryGrainStorage(\"{storageName}\") or silo.AddSqliteGrainStorage(\"{storageName}\", ...), " +
            "or register a keyed IGrainStorage singleton under that name.");
}
