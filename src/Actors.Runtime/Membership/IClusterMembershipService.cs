namespace Actors.Membership;

/// <summary>
/// The local silo's (or client's) view of cluster membership. Every silo and client holds one.
/// Implementations: a static list (tests of the runtime core) and the table-based oracle that
/// probes silos and votes them Dead.
/// </summary>
public interface IClusterMembershipService
{
    /// <summary>The latest snapshot; read without locks.</summary>
    ClusterMembershipSnapshot CurrentSnapshot { get; }

    /// <summary>Raised after <see cref="CurrentSnapshot"/> moves to a newer version. Handlers must not block.</summary>
    event Action<ClusterMembershipSnapshot>? SnapshotChanged;

    /// <summary>Re-read the source now (e.g. after a call to a silo failed).</summary>
    Task RefreshAsync(CancellationToken cancellationToken = default);
}

/// <summary>Who this silo is.</summary>
public interface ILocalSiloDetails
{
    SiloAddress SiloAddress { get; }

    string Name { get; }

    /// <summary>The gateway port clients connect to; 0 for none.</summary>
    int GatewayPort { get; }
}

/// <summary>
/// Sends a liveness probe to another silo over the runtime's own silo-to-silo connection and waits
/// for the answer. Implemented by the transport.
/// </summary>
public interface ISiloProber
{
    /// <summary>True if <paramref name="target"/> answered within <paramref name="timeout"/>.
    /// False on timeout, refused connection or a generation mismatch (the endpoint is another incarnation).</summary>
    Task<bool> ProbeAsync(SiloAddress target, TimeSpan timeout, CancellationToken cancellationToken = default);
}

/// <summary>
/// Lifecycle of the local silo in membership, called by the silo host: join as Joining once the
/// silo listens, become Active once it can host grains, ShuttingDown then Dead on a graceful stop.
/// </summary>
public interface IMembershipLifecycle
{
    Task JoinAsync(CancellationToken cancellationToken);

    Task BecomeActiveAsync(CancellationToken cancellationToken);

    Task ShutdownAsync(CancellationToken cancellationToken);

    /// <summary>Stops membership activity at once without writing anything (an abrupt kill in tests).</summary>
    void Abort();
}

/// <summary>Stops the local silo at once when membership finds it declared Dead.</summary>
public interface ISiloTerminator
{
    void TerminateSelf(string reason);
}
