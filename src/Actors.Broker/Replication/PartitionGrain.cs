using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Topics;
using Actors.Broker.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Replication;

/// <summary>
/// The leader of one partition (see <see cref="IPartitionGrain"/>), placed on the leader's silo. It takes the
/// silo's <see cref="LocalPartition"/> from the <see cref="LogManager"/> and serves through a
/// <see cref="PartitionLeader"/>; an activation that finds itself on another silo than the leader answers
/// NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while the partition is offline) and deactivates.
/// </summary>
/// <remarks>Reentrant: long-poll fetches and acks=all waits interleave with produces, so the grain turn is not the
/// partition's lock; the <see cref="PartitionLeader"/> and <see cref="LocalPartition"/> locks are
/// (docs/lock-ordering.md).</remarks>
[Reentrant]
[GrainType("broker-partition")]
[PartitionLeaderPlacement]
public sealed class PartitionGrain : Grain, IPartitionGrain
{
    private readonly LogManager logs;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly string localSilo;
    private readonly TopicPartition tp;
    private PartitionLeader? leader;
    private PartitionState? lastState;
    private Guid topicId;
    private IGrainTimer? isrTimer;

    public PartitionGrain(LogManager logs, IOptions<BrokerOptions> options, TimeProvider time, ILogger<PartitionGrain> logger, ILocalSiloDetails silo)
    {
        this.logs = logs;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        localSilo = silo.Name;
        tp = BrokerGrainKeys.ParsePartition(this.GetPrimaryKeyString());
    }

    private IControllerGrain Controller => GrainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LeadAsync(await Controller.GetPartitionStateAsync(tp));
        }
        catch (BrokerException e) when (e.Code == ErrorCode.UnknownTopicOrPartition)
        {
            lastState = null;
        }

        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.ReplicaLagTimeMaxMs / 4, 50, 5_000));
        isrTimer = this.RegisterGrainTimer(_ => leader?.MaybeShrinkIsrAsync() ?? Task.CompletedTask, period, period);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        isrTimer?.Dispose();
        leader?.Resign();
        leader = null;
        return Task.CompletedTask;
    }

    public Task<ProduceResponse> ProduceAsync(ProduceRequest request) =>
        leader is { IsActive: true } l ? l.ProduceAsync(request) : Task.FromResult(NotLeading(new ProduceResponse { Error = NotLeaderCode(), ErrorMessage = NotLeaderMessage() }));

    public Task<FetchResponse> FetchAsync(FetchRequest request) =>
        leader is { IsActive: true } l ? l.FetchAsync(request) : Task.FromResult(NotLeading(new FetchResponse { Error = NotLeaderCode(), ErrorMessage = NotLeaderMessage() }));

    public Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request) =>
        leader is { IsActive: true } l ? l.ReplicaFetchAsync(request) : Task.FromResult(NotLeading(new ReplicaFetchResponse { Error = NotLeaderCode(), ErrorMessage = NotLeaderMessage() }));

    public Task<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(int currentLeaderEpoch, int leaderEpoch) =>
        Task.FromResult(leader is { IsActive: true } l ? l.OffsetForLeaderEpoch(currentLeaderEpoch, leaderEpoch) : NotLeading(new OffsetForLeaderEpochResponse { Error = NotLeaderCode() }));

    public Task<ListOffsetsResponse> ListOffsetsAsync(ListOffsetsRequest request) =>
        Task.FromResult(leader is { IsActive: true } l ? l.ListOffsets(request) : NotLeading(new ListOffsetsResponse { Error = NotLeaderCode() }));

    public Task<PartitionStatus> GetStatusAsync() =>
        Task.FromResult(leader?.GetStatus() ?? new PartitionStatus { Error = NotLeaderCode(), State = lastState });

    public async Task<bool> BecomeLeaderAsync(PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        // An older state is ignored; the same state again is re-applied (it refreshes the topic config).
        if (lastState is not null && lastState.IsNewerThan(state))
        {
            return string.Equals(lastState.Leader, localSilo, StringComparison.Ordinal);
        }

        return await LeadAsync(state);
    }

    private async Task<bool> LeadAsync(PartitionState state)
    {
        lastState = state;
        if (!string.Equals(state.Leader, localSilo, StringComparison.Ordinal))
        {
            leader?.Resign();
            leader = null;
            DeactivateOnIdle();
            return false;
        }

        var config = await TopicConfigAsync();
        if (leader is not null && leader.IsActive && leader.LeaderEpoch == state.LeaderEpoch)
        {
            leader.UpdateState(state, config);
            return true;
        }

        leader?.Resign();
        var local = logs.GetOrCreate(tp, config, topicId);
        leader = new PartitionLeader(local, state, localSilo, config, options.ReplicaLagTimeMaxMs, time,
            request => Controller.AlterPartitionAsync(request), logger);
        DelayDeactivation(TimeSpan.FromDays(3650));
        return true;
    }

    private async Task<EffectiveTopicConfig> TopicConfigAsync()
    {
        var description = (await Controller.DescribeTopicsAsync([tp.Topic]))[0];
        topicId = description.TopicId;
        return EffectiveTopicConfig.Resolve(description.Configs, options);
    }

    /// <summary>An activation that does not lead answers and then deactivates, so the next call is placed from the
    /// controller's current state instead of meeting this stale activation again.</summary>
    private T NotLeading<T>(T response)
    {
        DeactivateOnIdle();
        return response;
    }

    private ErrorCode NotLeaderCode() => lastState switch
    {
        null => ErrorCode.UnknownTopicOrPartition,
        { Replicas.Length: 0 } => ErrorCode.UnknownTopicOrPartition,
        { Leader: null } => ErrorCode.LeaderNotAvailable,
        _ => ErrorCode.NotLeaderOrFollower,
    };

    private string NotLeaderMessage() => lastState switch
    {
        null or { Replicas.Length: 0 } => $"{tp} does not exist.",
        { Leader: null } => $"{tp} has no leader: no in-sync replica is alive (leader epoch {lastState.LeaderEpoch}).",
        _ => $"Silo '{localSilo}' does not lead {tp}; the leader is '{lastState.Leader}' (leader epoch {lastState.LeaderEpoch}).",
    };
}
