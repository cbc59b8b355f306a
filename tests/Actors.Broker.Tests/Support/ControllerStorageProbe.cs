using System.Collections.Concurrent;
using Actors.Broker.Controller;
using Actors.Broker.Hosting;
using Actors.Orleans.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;

namespace Actors.Broker.Tests.Support;

/// <summary>One persisted controller record, as the partitions it held: written in this order, with its ETag.</summary>
internal sealed record PersistedControllerState(int Sequence, string? ETag, IReadOnlyList<PersistedPartition> Partitions);

/// <summary>A partition as one persisted controller record held it; <see cref="TopicId"/> tells a re-created topic apart.</summary>
internal sealed record PersistedPartition(Guid TopicId, string Topic, int Partition, string? Leader, int LeaderEpoch, int PartitionEpoch, string[] Isr)
{
    public override string ToString() =>
        $"{Topic}-{Partition} (topic id {TopicId:N}) leader={Leader ?? "none"} leaderEpoch={LeaderEpoch} partitionEpoch={PartitionEpoch} isr=[{string.Join(',', Isr)}]";
}

/// <summary>
/// A point where a controller storage call stops until the test releases it. <see cref="Entered"/> completes when
/// the call reaches it; <see cref="Release"/> lets it go on. With <see cref="AfterStorage"/> the call stops after
/// the real storage did its work (a read has read, a write has written) and before the grain hears of it.
/// </summary>
internal sealed class StorageGate(bool afterStorage)
{
    private readonly TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool AfterStorage { get; } = afterStorage;

    public Task Entered => entered.Task;

    public void Release() => released.TrySetResult();

    internal Task PassAsync()
    {
        entered.TrySetResult();
        return released.Task;
    }
}

/// <summary>
/// Test support around the controller's grain storage: every controller record that the real storage accepted is
/// recorded in order (the metadata history), and a test can stop the next read or write at a gate or make the next
/// write fail. Shared by every silo of a test cluster; <see cref="Install"/> decorates a silo's storage with it.
/// </summary>
internal sealed class ControllerStorageProbe
{
    private readonly object sync = new();
    private readonly List<PersistedControllerState> history = [];
    private StorageGate? nextRead;
    private StorageGate? nextWrite;
    private Exception? nextWriteFailure;
    private readonly ConcurrentDictionary<string, int> fullReads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> etagReads = new(StringComparer.Ordinal);

    /// <summary>How many whole-record reads of state <paramref name="stateName"/> (any grain) reached storage.</summary>
    public int FullReads(string stateName) => fullReads.GetValueOrDefault(stateName);

    /// <summary>How many ETag-only reads (<see cref="IGrainStateETags"/>) of state <paramref name="stateName"/> reached storage.</summary>
    public int ETagReads(string stateName) => etagReads.GetValueOrDefault(stateName);

    /// <summary>Every controller record written so far, oldest first.</summary>
    public IReadOnlyList<PersistedControllerState> History
    {
        get
        {
            lock (sync)
            {
                return history.ToArray();
            }
        }
    }

    /// <summary>Stops the next controller read at a gate.</summary>
    public StorageGate GateNextRead(bool afterStorage)
    {
        var gate = new StorageGate(afterStorage);
        Interlocked.Exchange(ref nextRead, gate);
        return gate;
    }

    /// <summary>Stops the next controller write at a gate.</summary>
    public StorageGate GateNextWrite(bool afterStorage)
    {
        var gate = new StorageGate(afterStorage);
        Interlocked.Exchange(ref nextWrite, gate);
        return gate;
    }

    /// <summary>Makes the next controller write throw <paramref name="failure"/> without reaching storage.</summary>
    public void FailNextWrite(Exception failure) => Interlocked.Exchange(ref nextWriteFailure, failure);

    /// <summary>Decorates the grain storage named <paramref name="storageName"/> of <paramref name="silo"/> (registered
    /// before this call) with this probe. The last keyed registration is the one grains get.</summary>
    public void Install(ISiloBuilder silo, string storageName = "Default")
    {
        var inner = silo.Services.LastOrDefault(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, storageName))
            ?? throw new InvalidOperationException($"No grain storage named '{storageName}' is registered before the probe is installed.");
        var factory = inner.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"Grain storage '{storageName}' is not registered with a factory.");
        silo.Services.AddKeyedSingleton<IGrainStorage>(storageName, (services, key) => new Storage((IGrainStorage)factory(services, key), this));

        // The ETag-only reads of the SQLite storage underneath, as the silo host registers them.
        silo.Services.AddKeyedSingleton<IGrainStateETags>(storageName, (services, key) => (Storage)services.GetRequiredKeyedService<IGrainStorage>(key));
    }

    private void Record(string? etag, ControllerState state)
    {
        var partitions = (state.Topics ?? [])
            .Values
            .SelectMany(t => t.Partitions.Select(p => new PersistedPartition(t.TopicId, t.Name, p.Partition, p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.Isr.ToArray())))
            .ToArray();
        lock (sync)
        {
            history.Add(new PersistedControllerState(history.Count, etag, partitions));
        }
    }

    private static bool IsController<T>(string stateName) =>
        typeof(T) == typeof(ControllerState) && string.Equals(stateName, "controller", StringComparison.Ordinal);

    private sealed class Storage(IGrainStorage inner, ControllerStorageProbe probe) : IGrainStorage, IGrainStateETags
    {
        public Task<string?> ReadETagAsync(string stateName, GrainId grainId, CancellationToken cancellationToken)
        {
            probe.etagReads.AddOrUpdate(stateName, 1, (_, n) => n + 1);
            return inner is SqliteGrainStorage sqlite
                ? sqlite.ReadETagAsync(stateName, grainId, cancellationToken)
                : throw new InvalidOperationException($"The probed grain storage is a {inner.GetType().Name}; only the SQLite storage reads ETags alone.");
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

        public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        {
            probe.fullReads.AddOrUpdate(stateName, 1, (_, n) => n + 1);
            var gate = IsController<T>(stateName) ? Interlocked.Exchange(ref probe.nextRead, null) : null;
            if (gate is { AfterStorage: false })
            {
                await gate.PassAsync();
            }

            await inner.ReadStateAsync(stateName, grainId, grainState, cancellationToken);
            if (gate is { AfterStorage: true })
            {
                await gate.PassAsync();
            }
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        {
            if (!IsController<T>(stateName))
            {
                await inner.WriteStateAsync(stateName, grainId, grainState, cancellationToken);
                return;
            }

            var gate = Interlocked.Exchange(ref probe.nextWrite, null);
            if (gate is { AfterStorage: false })
            {
                await gate.PassAsync();
            }

            if (Interlocked.Exchange(ref probe.nextWriteFailure, null) is { } failure)
            {
                throw failure;
            }

            await inner.WriteStateAsync(stateName, grainId, grainState, cancellationToken);
            probe.Record(grainState.ETag, (ControllerState)(object)grainState.State!);
            if (gate is { AfterStorage: true })
            {
                await gate.PassAsync();
            }
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            inner.ClearStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
            inner.ClearStateAsync(stateName, grainId, grainState, cancellationToken);
    }
}

/// <summary>
/// The metadata history checker: over every persisted controller record in write order, (a) a partition's leader
/// epoch never decreases, (b) each (partition, leader epoch) names one leader, and (c) a partition's partition
/// epoch never decreases. A partition is its topic id and number, so a topic re-created under the same name is a
/// new partition.
/// </summary>
internal static class MetadataHistoryChecker
{
    /// <summary>Every violation found, each naming the two records that show it; empty when the history is sound.</summary>
    public static List<string> Violations(IReadOnlyList<PersistedControllerState> history)
    {
        var violations = new List<string>();
        var last = new Dictionary<(Guid, int), (PersistedPartition State, int Sequence)>();
        var leaders = new Dictionary<(Guid, int, int), (string? Leader, int Sequence)>();
        foreach (var record in history)
        {
            foreach (var p in record.Partitions)
            {
                var key = (p.TopicId, p.Partition);
                if (last.TryGetValue(key, out var before))
                {
                    if (p.LeaderEpoch < before.State.LeaderEpoch)
                    {
                        violations.Add($"leader epoch went back: record {before.Sequence} had {before.State}, record {record.Sequence} has {p}");
                    }

                    if (p.PartitionEpoch < before.State.PartitionEpoch)
                    {
                        violations.Add($"partition epoch went back: record {before.Sequence} had {before.State}, record {record.Sequence} has {p}");
                    }
                }

                last[key] = (p, record.Sequence);
                var epochKey = (p.TopicId, p.Partition, p.LeaderEpoch);
                if (leaders.TryGetValue(epochKey, out var named) && !string.Equals(named.Leader, p.Leader, StringComparison.Ordinal))
                {
                    violations.Add($"two leaders in one leader epoch: record {named.Sequence} named '{named.Leader ?? "none"}', record {record.Sequence} has {p}");
                }

                leaders.TryAdd(epochKey, (p.Leader, record.Sequence));
            }
        }

        return violations;
    }

    /// <summary>Fails the test with every violation when the history breaks an invariant.</summary>
    public static void AssertSound(IReadOnlyList<PersistedControllerState> history)
    {
        var violations = Violations(history);
        Assert.True(violations.Count == 0,
            $"The metadata history of {history.Count} persisted controller records breaks its invariants:\n{string.Join('\n', violations.Take(20))}");
    }
}
