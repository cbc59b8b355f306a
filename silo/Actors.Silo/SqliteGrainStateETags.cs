using Actors.Broker.Hosting;
using Actors.Orleans.Sqlite;
using Orleans.Runtime;
using Orleans.Storage;

namespace Actors.Silo;

/// <summary>The broker's ETag-only reads (<see cref="IGrainStateETags"/>) from the silo's SQLite grain storage.</summary>
internal sealed class SqliteGrainStateETags(IGrainStorage storage) : IGrainStateETags
{
    private readonly SqliteGrainStorage sqlite = storage as SqliteGrainStorage
        ?? throw new InvalidOperationException($"Grain storage 'Default' is a {storage.GetType().Name}, not the SQLite grain storage whose ETags this reads.");

    public Task<string?> ReadETagAsync(string stateName, GrainId grainId, CancellationToken cancellationToken) =>
        sqlite.ReadETagAsync(stateName, grainId, cancellationToken);
}
