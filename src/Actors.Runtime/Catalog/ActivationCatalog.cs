using System.Collections.Concurrent;
using Actors.Configuration;
using Actors.Membership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Catalog;

/// <summary>
/// The activations of one silo, by grain id. Creates an activation on the first call routed here,
/// collects idle ones (<see cref="GrainCollectionOptions"/>), and deactivates all on graceful shutdown.
/// </summary>
/// <remarks>Thread-safe. Invariant: at most one activation per grain id in this silo at a time
/// (another silo may briefly hold a second one during a membership change; see the directory).</remarks>
internal sealed partial class ActivationCatalog : IAsyncDisposable
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> activations = new();
    private readonly GrainTypeResolver types;
    private readonly GrainCollectionOptions collectionOptions;
    private readonly ILogger<ActivationCatalog> logger;
    private readonly ITimer collector;
    private volatile bool stopping;

    public ActivationCatalog(IServiceProvider services, GrainTypeResolver types, ILocalSiloDetails localSilo,
        IOptions<MessagingOptions> messagingOptions, IOptions<GrainCollectionOptions> collectionOptions,
        TimeProvider timeProvider, ILogger<ActivationCatalog> logger)
    {
        Services = services;
        this.types = types;
        LocalSilo = localSilo.SiloAddress;
        MaxEnqueuedRequests = messagingOptions.Value.MaxEnqueuedRequestsPerActivation;
        this.collectionOptions = collectionOptions.Value;
        ActivationTimeout = this.collectionOptions.ActivationTimeout;
        TimeProvider = timeProvider;
        this.logger = logger;
        collector = timeProvider.CreateTimer(static s => ((ActivationCatalog)s!).CollectIdle(), this,
            this.collectionOptions.CollectionQuantum, this.collectionOptions.CollectionQuantum);
    }

    public IServiceProvider Services { get; }

    public SiloAddress LocalSilo { get; }

    public TimeProvider TimeProvider { get; }

    public int MaxEnqueuedRequests { get; }

    public TimeSpan ActivationTimeout { get; }

    /// <summary>Set by the silo once its runtime exists (grains get references through it).</summary>
    public IGrainFactory GrainFactory { get; set; } = null!;

    /// <summary>Raised after an activation left the catalog (the directory unregisters it).</summary>
    public event Action<GrainId>? ActivationEnded;

    public int Count => activations.Count;

    public ICollection<GrainId> GrainIds => activations.Keys;

    public bool TryGetActivation(GrainId grainId, out ActivationData activation) =>
        activations.TryGetValue(grainId, out activation!);

    /// <summary>The activation of <paramref name="grainId"/>, created (and its activation started) if none exists.</summary>
    /// <exception cref="InvalidOperationException">No grain class has that grain type, or the silo is stopping.</exception>
    public ActivationData GetOrCreateActivation(GrainId grainId)
    {
        if (activations.TryGetValue(grainId, out var existing))
        {
            return existing;
        }

        if (stopping)
        {
            throw new SiloUnavailableException($"Silo {LocalSilo} is shutting down and takes no new activations (grain {grainId}).");
        }

        if (!types.TryGetClass(grainId.Type, out var info))
        {
            throw new InvalidOperationException(
                $"No grain class has the grain type '{grainId.Type}' on silo {LocalSilo}; the silo must reference the assembly with that grain class.");
        }

        var created = new ActivationData(grainId, info.Descriptor, info.IsReentrant, this);
        var winner = activations.GetOrAdd(grainId, created);
        if (ReferenceEquals(winner, created))
        {
            Diagnostics.RuntimeMetrics.Activations.Add(1);
            Log.Activating(logger, grainId, LocalSilo);
            created.StartActivation();
        }

        return winner;
    }

    /// <summary>Deactivates every activation (graceful shutdown) and waits for their OnDeactivateAsync.</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "The silo is shutting down.");
        var all = activations.Values.Select(a => a.DeactivateAsync(reason)).ToArray();
        await Task.WhenAll(all).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops collection and forgets every activation without running grain code (an abrupt kill).</summary>
    public void Abort()
    {
        stopping = true;
        collector.Dispose();
        activations.Clear();
    }

    public ValueTask DisposeAsync()
    {
        collector.Dispose();
        return ValueTask.CompletedTask;
    }

    internal void OnActivationEnded(ActivationData activation, bool wasActive)
    {
        if (activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation)))
        {
            Diagnostics.RuntimeMetrics.Deactivations.Add(1);
            Log.Deactivated(logger, activation.GrainId, LocalSilo);
            ActivationEnded?.Invoke(activation.GrainId);
        }
    }

    internal void LogTimerFailed(GrainId grainId, Exception error) => Log.TimerFailed(logger, error, grainId);

    internal void LogActivationFailed(GrainId grainId, Exception error) => Log.ActivationFailed(logger, error, grainId);

    internal void LogDeactivationFailed(GrainId grainId, Exception error) => Log.DeactivationFailed(logger, error, grainId);

    /// <summary>Deactivates activations idle for at least <see cref="GrainCollectionOptions.CollectionAge"/>.</summary>
    internal void CollectIdle()
    {
        if (stopping)
        {
            return;
        }

        var now = TimeProvider.GetTimestamp();
        var reason = new DeactivationReason(DeactivationReasonCode.ActivationIdle,
            $"Idle for at least GrainCollectionOptions.CollectionAge ({collectionOptions.CollectionAge}).");
        foreach (var activation in activations.Values)
        {
            if (activation.IsIdle(now, collectionOptions.CollectionAge))
            {
                activation.Deactivate(reason);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Debug, "Activating {GrainId} on {Silo}")]
        public static partial void Activating(ILogger logger, GrainId grainId, SiloAddress silo);

        [LoggerMessage(2002, LogLevel.Debug, "Deactivated {GrainId} on {Silo}")]
        public static partial void Deactivated(ILogger logger, GrainId grainId, SiloAddress silo);

        [LoggerMessage(2003, LogLevel.Warning, "A timer callback of {GrainId} failed")]
        public static partial void TimerFailed(ILogger logger, Exception exception, GrainId grainId);

        [LoggerMessage(2004, LogLevel.Warning, "Activation of {GrainId} failed")]
        public static partial void ActivationFailed(ILogger logger, Exception exception, GrainId grainId);

        [LoggerMessage(2005, LogLevel.Warning, "OnDeactivateAsync of {GrainId} failed")]
        public static partial void DeactivationFailed(ILogger logger, Exception exception, GrainId grainId);
    }
}
