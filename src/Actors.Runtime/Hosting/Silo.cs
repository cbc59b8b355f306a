using Actors.Catalog;
using Actors.Configuration;
using Actors.GrainDirectory;
using Actors.Membership;
using Actors.Networking;
using Actors.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Hosting;

/// <summary>
/// One silo's lifecycle. Start: listen on the silo and gateway ports, join membership, become Active.
/// Graceful stop: deactivate every activation (OnDeactivateAsync runs), leave membership
/// (ShuttingDown then Dead), close connections. Abort (a kill in tests, or membership found this silo
/// Dead): no goodbye — sockets are reset, membership writes nothing, no grain code runs.
/// </summary>
/// <remarks>Thread-safe. View changes are applied in version order (older snapshots are ignored).</remarks>
public sealed partial class Silo : IAsyncDisposable
{
    private readonly SiloOptions siloOptions;
    private readonly MessagingOptions messagingOptions;
    private readonly ILocalSiloDetails localSilo;
    private readonly IClusterMembershipService membership;
    private readonly IMembershipLifecycle? lifecycle;
    private readonly SiloConnectionManager connections;
    private readonly ActivationCatalog catalog;
    private readonly LocalGrainDirectory directory;
    private readonly SiloCallRuntime runtime;
    private readonly NetworkFaultInjector faults;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<Silo> logger;
    private readonly ILogger<Connection> connectionLogger;
    private readonly MessageCenter siloCenter;
    private readonly MessageCenter gatewayCenter;
    private readonly object viewGate = new();
    private ClusterMembershipSnapshot appliedView = ClusterMembershipSnapshot.Empty;
    private ConnectionListener? siloListener;
    private ConnectionListener? gatewayListener;
    private ITimer? sweeper;
    private int stopped;

    internal Silo(IOptions<SiloOptions> siloOptions, IOptions<MessagingOptions> messagingOptions, ILocalSiloDetails localSilo,
        IClusterMembershipService membership, IMembershipLifecycle? lifecycle, SiloConnectionManager connections,
        ActivationCatalog catalog, LocalGrainDirectory directory, SiloCallRuntime runtime, GrainTypeResolver types,
        NetworkFaultInjector faults, TimeProvider timeProvider, ILogger<Silo> logger, ILogger<Connection> connectionLogger)
    {
        this.siloOptions = siloOptions.Value;
        this.messagingOptions = messagingOptions.Value;
        this.localSilo = localSilo;
        this.membership = membership;
        this.lifecycle = lifecycle;
        this.connections = connections;
        this.catalog = catalog;
        this.directory = directory;
        this.runtime = runtime;
        this.faults = faults;
        this.timeProvider = timeProvider;
        this.logger = logger;
        this.connectionLogger = connectionLogger;
        siloCenter = new MessageCenter(false, runtime, catalog, directory, connections, types, localSilo);
        gatewayCenter = new MessageCenter(true, runtime, catalog, directory, connections, types, localSilo);
        connections.Handler = siloCenter;
    }

    /// <summary>This silo's address (with its generation).</summary>
    public SiloAddress SiloAddress => localSilo.SiloAddress;

    public string Name => localSilo.Name;

    /// <summary>Number of activations hosted here.</summary>
    public int ActivationCount => catalog.Count;

    /// <summary>True when an activation of <paramref name="grainId"/> lives on this silo.</summary>
    public bool HostsActivation(GrainId grainId) => catalog.TryGetActivation(grainId, out _);

    /// <summary>The factory grains on this silo use (calls made through it start on this silo).</summary>
    public IGrainFactory GrainFactory => runtime.GrainFactory;

    public bool IsStopped => Volatile.Read(ref stopped) != 0;

    /// <summary>Listens, joins membership and becomes Active.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(siloOptions.DataDirectory);
        siloListener = ConnectionListener.Start(siloOptions.AdvertisedHost, siloOptions.SiloPort, "SiloOptions.SiloPort",
            connections.OnAccepted, logger);
        if (siloOptions.GatewayPort > 0)
        {
            gatewayListener = ConnectionListener.Start(siloOptions.AdvertisedHost, siloOptions.GatewayPort, "SiloOptions.GatewayPort",
                AcceptClient, logger);
        }

        membership.SnapshotChanged += OnViewChanged;
        OnViewChanged(membership.CurrentSnapshot);
        var sweepPeriod = TimeSpan.FromTicks(Math.Clamp(messagingOptions.ResponseTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond));
        sweeper = timeProvider.CreateTimer(static s => ((Silo)s!).Sweep(), this, sweepPeriod, sweepPeriod);
        if (lifecycle is not null)
        {
            await lifecycle.JoinAsync(cancellationToken).ConfigureAwait(false);
            await lifecycle.BecomeActiveAsync(cancellationToken).ConfigureAwait(false);
        }

        Log.Started(logger, localSilo.Name, SiloAddress, siloOptions.GatewayPort);
    }

    /// <summary>Graceful stop (see the class summary).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (IsStopped)
        {
            return;
        }

        Log.Stopping(logger, localSilo.Name, SiloAddress);
        try
        {
            await catalog.DeactivateAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.DeactivationTimedOut(logger, localSilo.Name);
        }

        if (lifecycle is not null)
        {
            try
            {
                await lifecycle.ShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.LeaveFailed(logger, exception, localSilo.Name);
            }
        }

        Shutdown("the silo stopped", abortive: false);
    }

    /// <summary>Stops at once without a goodbye (see the class summary).</summary>
    public void Abort(string reason)
    {
        if (IsStopped)
        {
            return;
        }

        Log.Aborting(logger, localSilo.Name, SiloAddress, reason);
        lifecycle?.Abort();
        catalog.Abort();
        Shutdown(reason, abortive: true);
    }

    public ValueTask DisposeAsync()
    {
        Shutdown("the silo was disposed", abortive: true);
        return ValueTask.CompletedTask;
    }

    private void Shutdown(string reason, bool abortive)
    {
        if (Interlocked.Exchange(ref stopped, 1) != 0)
        {
            return;
        }

        membership.SnapshotChanged -= OnViewChanged;
        sweeper?.Dispose();
        siloListener?.Stop();
        gatewayListener?.Stop();
        gatewayCenter.CloseClients(reason, abortive);
        connections.CloseAll(reason, abortive);
    }

    private Connection? AcceptClient(System.Net.Sockets.Socket socket)
    {
        if (IsStopped || faults.RefuseNewConnections)
        {
            return null;
        }

        var connection = new Connection(socket, isOutbound: false, gatewayCenter, messagingOptions, faults, timeProvider, connectionLogger);
        return gatewayCenter.AcceptClient(connection);
    }

    private void Sweep()
    {
        connections.ExpireCalls();
        runtime.ExpireLocalCalls();
    }

    private void OnViewChanged(ClusterMembershipSnapshot view)
    {
        lock (viewGate)
        {
            if (!view.IsSuccessorTo(appliedView) && appliedView.Version != 0)
            {
                return;
            }

            appliedView = view;
            directory.OnViewChanged(view);
            foreach (var member in view.Members.Values)
            {
                if (member.Status == SiloStatus.Dead && !SiloIdentity.Matches(member.Address, SiloAddress))
                {
                    connections.CloseConnectionsTo(member.Address, $"silo {member.Address} is Dead in membership version {view.Version}");
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Silo {Name} started at {Silo} (gateway port {GatewayPort})")]
        public static partial void Started(ILogger logger, string name, SiloAddress silo, int gatewayPort);

        [LoggerMessage(4002, LogLevel.Information, "Silo {Name} at {Silo} is stopping")]
        public static partial void Stopping(ILogger logger, string name, SiloAddress silo);

        [LoggerMessage(4003, LogLevel.Warning, "Silo {Name} at {Silo} is aborting: {Reason}")]
        public static partial void Aborting(ILogger logger, string name, SiloAddress silo, string reason);

        [LoggerMessage(4004, LogLevel.Warning, "Silo {Name}: deactivating grains did not finish before the stop deadline")]
        public static partial void DeactivationTimedOut(ILogger logger, string name);

        [LoggerMessage(4005, LogLevel.Warning, "Silo {Name}: leaving membership failed")]
        public static partial void LeaveFailed(ILogger logger, Exception exception, string name);
    }
}
