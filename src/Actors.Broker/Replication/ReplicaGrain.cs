using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Topics;
using Actors.Broker.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Replication;

/// <summary>
/// One silo's copy of a partition (see <see cref="IReplicaGrain"/>), pinned to its silo. While the silo follows, a
/// <see cref="ReplicaFetcher"/> loop runs in the background against the partition grain (the leader); a new state
/// restarts it for the new leader epoch, which first truncates any divergent tail.
/// </summary>
[GrainType("broker-replica")]
[SiloNamePlacement]
public sealed class ReplicaGrain : Grain, IReplicaGrain, IDisposable
{
    private readonly LogManager logs;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly string localSilo;
    private readonly TopicPartition tp;
    private PartitionState? current;
    private CancellationTokenSource? stop;
    private Task? loop;

    public ReplicaGrain(LogManager logs, IOptions<BrokerOptions> options, TimeProvider time, ILogger<ReplicaGrain> logger, ILocalSiloDetails silo)
    {
        this.logs = logs;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        localSilo = silo.Name;
        tp = BrokerGrainKeys.ParsePartition(this.GetPrimaryKeyString());
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DelayDeactivation(TimeSpan.FromDays(3650));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await StopLoopAsync();

    /// <summary>Releases the fetch loop's cancellation source if the activation ends without deactivating.</summary>
    public void Dispose() => stop?.Dispose();

    public async Task BecomeFollowerAsync(PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (current is not null && current.IsNewerThan(state))
        {
            return;
        }

        var sameLeaderEpoch = current is not null && current.LeaderEpoch == state.LeaderEpoch && loop is { IsCompleted: false };
        current = state;
        if (state.Leader is null || string.Equals(state.Leader, localSilo, StringComparison.Ordinal))
        {
            await StopLoopAsync();
            return;
        }

        if (sameLeaderEpoch)
        {
            return;
        }

        await StopLoopAsync();
        var description = (await GrainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller).DescribeTopicsAsync([tp.Topic]))[0];
        var local = logs.GetOrCreate(tp, EffectiveTopicConfig.Resolve(description.Configs, options), description.TopicId);
        var fetcher = new ReplicaFetcher(local, state, localSilo, new GrainLeaderLink(GrainFactory, tp), options.ReplicaFetchMaxBytes, options.ReplicaFetchWaitMaxMs, time, logger);
        stop = new CancellationTokenSource();
        var token = stop.Token;
        loop = Task.Run(() => fetcher.RunAsync(token), CancellationToken.None);
    }

    public Task ApplyTopicConfigAsync(Dictionary<string, string> configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        logs.ApplyConfig(tp, EffectiveTopicConfig.Resolve(configs, options));
        return Task.CompletedTask;
    }

    public async Task StopReplicaAsync(bool deleteLog)
    {
        await StopLoopAsync();
        if (deleteLog)
        {
            logs.Delete(tp);
        }

        current = null;
        DeactivateOnIdle();
    }

    public Task<ReplicaStatus> GetStatusAsync()
    {
        var local = logs.TryGet(tp);
        return Task.FromResult(new ReplicaStatus
        {
            Silo = localSilo,
            Leader = current?.Leader,
            LeaderEpoch = current?.LeaderEpoch ?? -1,
            LogStartOffset = local?.LogStartOffset ?? -1,
            LogEndOffset = local?.LogEndOffset ?? -1,
            HighWatermark = local?.HighWatermark ?? -1,
            Fetching = loop is { IsCompleted: false },
        });
    }

    private async Task StopLoopAsync()
    {
        var s = stop;
        var l = loop;
        stop = null;
        loop = null;
        if (s is null)
        {
            return;
        }

        await s.CancelAsync();
        try
        {
            if (l is not null)
            {
                await l;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        s.Dispose();
    }

    /// <summary>Reaches the leader through the partition grain.</summary>
    private sealed class GrainLeaderLink(IGrainFactory factory, TopicPartition tp) : IPartitionLeaderLink
    {
        private readonly IPartitionGrain grain = factory.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));

        public Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request, CancellationToken cancellationToken) =>
            grain.ReplicaFetchAsync(request);

        public Task<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(int currentLeaderEpoch, int leaderEpoch, CancellationToken cancellationToken) =>
            grain.OffsetForLeaderEpochAsync(currentLeaderEpoch, leaderEpoch);
    }
}
