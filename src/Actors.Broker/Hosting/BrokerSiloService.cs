using Actors.Broker.Logs;
using Actors.Broker.Placement;
using Microsoft.Extensions.Logging;

namespace Actors.Broker.Hosting;

/// <summary>
/// The silo side of the broker's lifecycle: once the silo runs it wakes the controller (which then tells this silo
/// what to replicate); when the silo stops gracefully it first asks the controller to move the leadership it holds
/// to other in-sync replicas (Kafka's controlled shutdown), before its grains deactivate. At start it first checks
/// that its logs belong to this cluster (the cluster id each partition directory records against the metadata
/// store's, <see cref="IClusterIdentityGrain"/>) and refuses to start otherwise, deleting nothing; then it moves aside
/// (never deletes) the logs of topics the controller does not know.
/// <para>
/// The controller acts on membership from a timer inside its activation, and an activation exists only where the
/// grain was last called. When the silo holding it dies, nothing else may call the controller for a long time (an
/// idle partition's leader never asks it anything), so the dead silo's leaderships and ISR places would stay as they
/// were. Every silo therefore wakes the controller whenever the set of Active silos changes: the call places a new
/// activation if the old one died, and the reconcile it runs moves leadership and shrinks ISRs at once.
/// </para>
/// </summary>
/// <remarks>A silo lifecycle participant one step after <see cref="ServiceLifecycleStage.Active"/>: it starts once the
/// silo is Active and stops before the silo leaves Active, so the hand-over's grain calls still go out and come in.
/// One loop reads Orleans' membership updates and makes the calls. An abrupt stop (a cancelled stop token, as when
/// the host is killed) skips the controlled hand-over, so the partitions fail over as after a crash.</remarks>
internal sealed partial class BrokerSiloService(
    IGrainFactory grainFactory,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    LogManager logs,
    TimeProvider time,
    ILogger<BrokerSiloService> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{

    /// <summary>The lifecycle stage: after the silo is Active (start), before it stops being Active (stop).</summary>
    public const int Stage = ServiceLifecycleStage.Active + 1;

    private const int WakeAttempts = 60;
    private static readonly TimeSpan WakeRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan WakeCallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ControlledShutdownTimeout = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);

        // No log is handed out before StartAsync checked the logs' cluster id.
        logs.RequireClusterId();
        lifecycle.Subscribe(nameof(BrokerSiloService), Stage, StartAsync, StopAsync);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await VerifyClusterIdAsync(cancellationToken).ConfigureAwait(false);
        loop = RunAsync(stopping.Token);
    }

    /// <summary>Reads the metadata store's cluster id (retrying while the store or the grain is unreachable) and checks
    /// the logs against it; a mismatch stops the silo's start with a message that says what to check.</summary>
    private async Task VerifyClusterIdAsync(CancellationToken cancellationToken)
    {
        var identity = grainFactory.GetGrain<IClusterIdentityGrain>(BrokerGrainKeys.ClusterIdentity);
        Exception? last = null;
        for (var attempt = 0; attempt < WakeAttempts; attempt++)
        {
            string clusterId;
            try
            {
                clusterId = await identity.GetClusterIdAsync().WaitAsync(WakeCallTimeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
                LogWakeFailed(logger, e.Message);
                await Task.Delay(WakeRetryDelay, time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                logs.VerifyClusterId(clusterId);
            }
            catch (InvalidOperationException e)
            {
                LogForeignLogs(logger, e.Message);
                throw;
            }

            LogClusterId(logger, clusterId, logs.Partitions.Count);
            return;
        }

        throw new InvalidOperationException(
            $"Silo {silo.Name} could not read the cluster id from the metadata store (grain storage \"Default\") in {WakeAttempts} attempts, " +
            "so it cannot check that its logs belong to this cluster; check that the store is reachable. Last error: " + last?.Message, last);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            // An abrupt stop: no hand-over. The controller moves leadership when this silo leaves membership.
            LogAbruptStop(logger, silo.Name);
            await StopLoopAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ControlledShutdownTimeout);
            var result = await grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller)
                .ControlledShutdownAsync(silo.Name).WaitAsync(timeout.Token).ConfigureAwait(false);
            LogControlledShutdown(logger, silo.Name, result.RemainingPartitions.Length);
        }
        catch (Exception e)
        {
            LogControlledShutdownFailed(logger, silo.Name, e);
        }

        await StopLoopAsync().ConfigureAwait(false);
    }

    public void Dispose() => stopping.Dispose();

    /// <summary>Waits (briefly: a call in flight may take up to its timeout) for the membership loop to end.</summary>
    private async Task StopLoopAsync()
    {
        if (loop is null)
        {
            return;
        }

        try
        {
            await loop.WaitAsync(WakeCallTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            // Stopping; a call still in flight ends with the silo.
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await WakeControllerAsync(cancellationToken).ConfigureAwait(false);
        var lastActive = membership.CurrentSnapshot.ActiveSiloNames();
        await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var active = snapshot.ActiveSiloNames();
            if (active.SetEquals(lastActive))
            {
                continue;
            }

            lastActive = active;
            await ReconcileAfterChangeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the controller to reconcile membership, retrying while the call cannot reach it (its directory
    /// entry or activation may be moving off the silo that just left).</summary>
    private async Task ReconcileAfterChangeAsync(CancellationToken cancellationToken)
    {
        var controller = grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
        for (var attempt = 1; attempt <= WakeAttempts; attempt++)
        {
            try
            {
                await controller.ReconcileMembershipAsync().WaitAsync(WakeCallTimeout, time, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWakeFailed(logger, e.Message);
                await Task.Delay(WakeRetryDelay, time, cancellationToken).ConfigureAwait(false);
            }
        }

        LogWakeGaveUp(logger, WakeAttempts);
    }

    private async Task WakeControllerAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < WakeAttempts && !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                // Logs found at start whose topic the controller does not know: most likely deleted while this silo was
                // away, but a name missing from a list is no proof (a stale or replaced metadata store lists nothing),
                // so they are moved aside, never deleted.
                var found = logs.Partitions;
                var controller = grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
                var topics = (await controller.ListTopicsAsync().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
                foreach (var tp in found.Where(tp => !topics.Contains(tp.Topic)))
                {
                    if (logs.MoveAside(tp) is { } moved)
                    {
                        LogMovedAsideOrphan(logger, tp.ToString(), moved);
                    }
                }

                await controller.ReconcileMembershipAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWakeFailed(logger, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 5401, Level = LogLevel.Information, Message = "Controlled shutdown of silo {Silo}: {Remaining} partitions still led (no other in-sync replica)")]
    private static partial void LogControlledShutdown(ILogger logger, string silo, int remaining);

    [LoggerMessage(EventId = 5402, Level = LogLevel.Warning, Message = "Controlled shutdown of silo {Silo} failed; its partitions fail over when it leaves membership")]
    private static partial void LogControlledShutdownFailed(ILogger logger, string silo, Exception exception);

    [LoggerMessage(EventId = 5406, Level = LogLevel.Information, Message = "Silo {Silo} is stopping abruptly: no controlled shutdown; its partitions fail over when it leaves membership")]
    private static partial void LogAbruptStop(ILogger logger, string silo);

    [LoggerMessage(EventId = 5404, Level = LogLevel.Warning, Message = "The controller does not know the topic of the local log of {Partition}; the log was moved aside to {Directory} and kept, not deleted. If the topic was deleted while this silo was away, delete that directory; if the topic should exist, check that this silo uses the cluster's metadata store (grain storage), then stop the silo and rename the directory back")]
    private static partial void LogMovedAsideOrphan(ILogger logger, string partition, string directory);

    [LoggerMessage(EventId = 5407, Level = LogLevel.Critical, Message = "Refusing to start: {Reason}")]
    private static partial void LogForeignLogs(ILogger logger, string reason);

    [LoggerMessage(EventId = 5408, Level = LogLevel.Information, Message = "Cluster id {ClusterId}: the {Count} local partition logs belong to this cluster")]
    private static partial void LogClusterId(ILogger logger, string clusterId, int count);

    [LoggerMessage(EventId = 5405, Level = LogLevel.Warning, Message = "Could not wake the controller after a membership change in {Attempts} attempts; its own timer reconciles once it is called again")]
    private static partial void LogWakeGaveUp(ILogger logger, int attempts);

    [LoggerMessage(EventId = 5403, Level = LogLevel.Debug, Message = "Waking the controller failed: {Reason}")]
    private static partial void LogWakeFailed(ILogger logger, string reason);
}
