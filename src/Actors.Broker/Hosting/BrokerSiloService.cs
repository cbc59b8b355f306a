using Actors.Broker.Logs;
using Actors.Membership;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Broker.Hosting;

/// <summary>
/// The silo side of the broker's lifecycle: once the silo runs it wakes the controller (which then tells this silo
/// what to replicate); when the silo stops gracefully it first asks the controller to move the leadership it holds
/// to other in-sync replicas (Kafka's controlled shutdown), before its grains deactivate. At start it also removes
/// the logs of topics deleted while the silo was away.
/// </summary>
internal sealed partial class BrokerSiloService(IGrainFactory grainFactory, ILocalSiloDetails silo, LogManager logs, TimeProvider time, ILogger<BrokerSiloService> logger)
    : IHostedLifecycleService
{
    private readonly CancellationTokenSource stopping = new();
    private Task? wake;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        wake = WakeControllerAsync(stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
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
        if (wake is not null)
        {
            try
            {
                await wake.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }

        stopping.Dispose();
    }

    private async Task WakeControllerAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 60 && !cancellationToken.IsCancellationRequested; attempt++)
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

    [LoggerMessage(EventId = 5404, Level = LogLevel.Information, Message = "Deleted the log of {Partition}: its topic was deleted while this silo was away")]
    private static partial void LogDeletedOrphan(ILogger logger, string partition);

    [LoggerMessage(EventId = 5403, Level = LogLevel.Debug, Message = "Waking the controller failed: {Reason}")]
    private static partial void LogWakeFailed(ILogger logger, string reason);
}
