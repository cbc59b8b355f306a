using Actors.Broker.Logs;
using Actors.Broker.Placement;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Broker.Hosting;

/// <summary>
/// The silo side of the broker's lifecycle: once the silo runs it wakes the controller (which then tells this silo
/// what to replicate); when the silo stops gracefully it first asks the controller to move the leadership it holds
/// to other in-sync replicas (Kafka's controlled shutdown), before its grains deactivate. At start it also removes
/// the logs of topics deleted while the silo was away.
/// <para>
/// The controller acts on membership from a timer inside its activation, and an activation exists only where the
/// grain was last called. When the silo holding it dies, nothing else may call the controller for a long time (an
/// idle partition's leader never asks it anything), so the dead silo's leaderships and ISR places would stay as they
/// were. Every silo therefore wakes the controller whenever the set of Active silos changes: the call places a new
/// activation if the old one died, and the reconcile it runs moves leadership and shrinks ISRs at once.
/// </para>
/// </summary>
/// <remarks>One loop reads Orleans' membership updates and makes the calls; an abrupt stop (a cancelled stop token,
/// as when the host is killed) skips the controlled hand-over, so the partitions fail over as after a crash.</remarks>
internal sealed partial class BrokerSiloService(
    IGrainFactory grainFactory,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    LogManager logs,
    TimeProvider time,
    ILogger<BrokerSiloService> logger)
    : IHostedLifecycleService
{
    private const int WakeAttempts = 60;
    private static readonly TimeSpan WakeRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan WakeCallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ControlledShutdownTimeout = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        loop = RunAsync(stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            // An abrupt stop: no hand-over. The controller moves leadership when this silo leaves membership.
            LogAbruptStop(logger, silo.Name);
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
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }

        stopping.Dispose();
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
                // Logs found at start whose topic the controller no longer knows were deleted while this silo was away.
                var found = logs.Partitions;
                var controller = grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
                var topics = (await controller.ListTopicsAsync().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
                foreach (var tp in found.Where(tp => !topics.Contains(tp.Topic)))
                {
                    logs.Delete(tp);
                    LogDeletedOrphan(logger, tp.ToString());
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

    [LoggerMessage(EventId = 5404, Level = LogLevel.Information, Message = "Deleted the log of {Partition}: its topic was deleted while this silo was away")]
    private static partial void LogDeletedOrphan(ILogger logger, string partition);

    [LoggerMessage(EventId = 5405, Level = LogLevel.Warning, Message = "Could not wake the controller after a membership change in {Attempts} attempts; its own timer reconciles once it is called again")]
    private static partial void LogWakeGaveUp(ILogger logger, int attempts);

    [LoggerMessage(EventId = 5403, Level = LogLevel.Debug, Message = "Waking the controller failed: {Reason}")]
    private static partial void LogWakeFailed(ILogger logger, string reason);
}
