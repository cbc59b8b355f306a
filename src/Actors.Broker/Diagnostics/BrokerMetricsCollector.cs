using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Diagnostics;

/// <summary>
/// Refreshes this silo's broker gauges every <c>metrics.refresh.ms</c>: under-replicated partitions it leads,
/// offline partitions of the cluster (both from the controller's partition states), and consumer lag computed on the
/// broker: for every group (the group directory) and each committed partition this silo leads, the local high
/// watermark minus the committed offset (Kafka's consumer-groups LAG; Kafka itself exports none).
/// </summary>
/// <remarks>Bounded: at most <see cref="MaxLagSeries"/> lag series per silo. A refresh that fails (the controller
/// moving) keeps the previous values and is retried at the next tick.</remarks>
internal sealed partial class BrokerMetricsCollector(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    LogManager logs,
    IOptions<BrokerOptions> options,
    ILogger<BrokerMetricsCollector> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>The most lag series one silo reports.</summary>
    public const int MaxLagSeries = 10_000;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource stopping = new();
    private BrokerGaugeSnapshot? latest;
    private IDisposable? registration;
    private Task? loop;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(BrokerMetricsCollector), ServiceLifecycleStage.Active + 2, StartAsync, StopAsync);
    }

    /// <summary>Reads the partition states and group offsets once and publishes the gauges' new values.</summary>
    public async Task RefreshAsync()
    {
        var topics = await grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller).DescribeTopicsAsync(null).WaitAsync(CallTimeout).ConfigureAwait(false);
        var states = topics.SelectMany(t => t.Partitions).ToArray();
        var ledHere = states.Where(p => string.Equals(p.Leader, silo.Name, StringComparison.Ordinal)).Select(p => p.TopicPartition).ToHashSet();
        var underReplicated = states.Count(p => p.IsOnline && string.Equals(p.Leader, silo.Name, StringComparison.Ordinal) && p.Isr.Length < p.Replicas.Length);
        var offline = states.Count(p => !p.IsOnline);
        var lag = new List<GroupLag>();
        if (ledHere.Count > 0)
        {
            var groups = await grains.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync().WaitAsync(CallTimeout).ConfigureAwait(false);
            foreach (var group in groups.Order(StringComparer.Ordinal))
            {
                var committed = await grains.GetGrain<IConsumerGroupGrain>(group).FetchOffsetsAsync(null).WaitAsync(CallTimeout).ConfigureAwait(false);
                foreach (var offset in committed)
                {
                    if (offset.Offset < 0 || !ledHere.Contains(offset.TopicPartition) || logs.TryGet(offset.TopicPartition) is not { } local)
                    {
                        continue;
                    }

                    lag.Add(new GroupLag(group, offset.TopicPartition.Topic, offset.TopicPartition.Partition, Math.Max(0, local.HighWatermark - offset.Offset)));
                    if (lag.Count >= MaxLagSeries)
                    {
                        break;
                    }
                }

                if (lag.Count >= MaxLagSeries)
                {
                    LogLagBounded(logger, MaxLagSeries);
                    break;
                }
            }
        }

        Volatile.Write(ref latest, new BrokerGaugeSnapshot(underReplicated, offline, lag));
    }

    public void Dispose()
    {
        registration?.Dispose();
        stopping.Dispose();
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        registration = BrokerMetrics.Register(() => Volatile.Read(ref latest));
        loop = RunAsync(TimeSpan.FromMilliseconds(options.Value.MetricsRefreshMs), stopping.Token);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        registration?.Dispose();
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        do
        {
            try
            {
                await RefreshAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, e.Message);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            try
            {
                if (!await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (true);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Broker gauges not refreshed ({Reason}); the previous values stay until the next refresh")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer lag is reported for the first {Max} group partitions only")]
    private static partial void LogLagBounded(ILogger logger, int max);
}
