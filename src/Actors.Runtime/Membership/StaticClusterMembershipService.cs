namespace Actors.Membership;

/// <summary>
/// Static membership for the runtime core: the view comes from a <see cref="StaticMembershipSource"/>,
/// and the local silo's lifecycle writes its own row there (Joining, Active, ShuttingDown, Dead).
/// Used when no clustering provider registered an <see cref="IClusterMembershipService"/>.
/// </summary>
/// <remarks>Thread-safe. After <see cref="Abort"/> the service stops forwarding changes and writes nothing.</remarks>
public sealed class StaticClusterMembershipService : IClusterMembershipService, IMembershipLifecycle, IDisposable
{
    private readonly StaticMembershipSource source;
    private readonly ILocalSiloDetails? localSilo;
    private volatile bool aborted;
    private ClusterMembershipSnapshot lastPublished;

    /// <param name="source">The view.</param>
    /// <param name="localSilo">The local silo, or null on a client.</param>
    public StaticClusterMembershipService(StaticMembershipSource source, ILocalSiloDetails? localSilo)
    {
        ArgumentNullException.ThrowIfNull(source);
        this.source = source;
        this.localSilo = localSilo;
        lastPublished = source.Snapshot;
        source.Changed += OnSourceChanged;
    }

    public ClusterMembershipSnapshot CurrentSnapshot => aborted ? Volatile.Read(ref lastPublished) : source.Snapshot;

    public event Action<ClusterMembershipSnapshot>? SnapshotChanged;

    public Task RefreshAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task JoinAsync(CancellationToken cancellationToken) => Write(SiloStatus.Joining);

    public Task BecomeActiveAsync(CancellationToken cancellationToken) => Write(SiloStatus.Active);

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        await Write(SiloStatus.ShuttingDown).ConfigureAwait(false);
        await Write(SiloStatus.Dead).ConfigureAwait(false);
    }

    public void Abort()
    {
        aborted = true;
        source.Changed -= OnSourceChanged;
    }

    public void Dispose() => source.Changed -= OnSourceChanged;

    private Task Write(SiloStatus status)
    {
        if (localSilo is null || aborted)
        {
            return Task.CompletedTask;
        }

        source.SetStatus(localSilo.SiloAddress, localSilo.Name, status, localSilo.GatewayPort);
        return Task.CompletedTask;
    }

    private void OnSourceChanged(ClusterMembershipSnapshot snapshot)
    {
        if (aborted)
        {
            return;
        }

        lock (source)
        {
            if (!snapshot.IsSuccessorTo(lastPublished))
            {
                return;
            }

            lastPublished = snapshot;
        }

        SnapshotChanged?.Invoke(snapshot);
    }
}
