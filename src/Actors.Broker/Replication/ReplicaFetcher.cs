using Actors.Broker.Logs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Actors.Broker.Replication;

/// <summary>How a follower reaches its partition's leader (the partition grain, or a direct link in tests).</summary>
public interface IPartitionLeaderLink
{
    Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request, CancellationToken cancellationToken);

    Task<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(int currentLeaderEpoch, int leaderEpoch, CancellationToken cancellationToken);
}

/// <summary>
/// A follower's fetch loop for one partition, as Kafka's replica fetcher: first it asks the leader where its last
/// epoch ends and truncates its divergent tail, then it long-polls the leader from its log end offset and appends
/// what it gets with the leader's offsets and epochs; a diverging-epoch answer truncates again. It follows one
/// leader epoch: when a newer role claims the partition on this silo its writes are refused and the loop ends.
/// </summary>
/// <remarks>One loop per partition and silo; <see cref="RunAsync"/> must not run twice at once. Stopping the loop
/// does not wait for a call to the leader that does not answer (a leader on a silo going down): the one who stops it
/// (a new state for the replica) must not wait up to the response timeout while the new leader counts this replica
/// in its ISR and acks=all waits for it.</remarks>
public sealed partial class ReplicaFetcher
{
    private readonly LocalPartition local;
    private readonly IPartitionLeaderLink leader;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly int maxBytes;
    private readonly int maxWaitMs;

    public ReplicaFetcher(
        LocalPartition local,
        PartitionState state,
        string localSilo,
        IPartitionLeaderLink leader,
        int maxBytes,
        int maxWaitMs,
        TimeProvider time,
        ILogger? logger = null)
    {
        this.local = local ?? throw new ArgumentNullException(nameof(local));
        State = state ?? throw new ArgumentNullException(nameof(state));
        LocalSilo = localSilo;
        this.leader = leader ?? throw new ArgumentNullException(nameof(leader));
        this.maxBytes = maxBytes;
        this.maxWaitMs = maxWaitMs;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        this.logger = logger ?? NullLogger.Instance;
    }

    public PartitionState State { get; }

    public string LocalSilo { get; }

    /// <summary>True once the divergent tail is gone and fetching began.</summary>
    public bool Truncated { get; private set; }

    /// <summary>How many fetch requests this loop sent (a diagnostic: a loop that stopped stops counting).</summary>
    public long Fetches => Interlocked.Read(ref fetches);

    private long fetches;

    /// <summary>The longest pause between fetches that make no progress.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>Fetches until <paramref name="cancellationToken"/> fires or a newer role takes the partition.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!local.ClaimRole(State.LeaderEpoch))
        {
            return;
        }

        var firstBackoff = TimeSpan.FromMilliseconds(50);
        var backoff = firstBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (local.RoleEpoch > State.LeaderEpoch)
            {
                // A newer role (this silo leading, or following a newer epoch) owns the partition here.
                LogSuperseded(logger, State.TopicPartition.ToString(), State.LeaderEpoch, local.RoleEpoch);
                return;
            }

            try
            {
                if (!Truncated)
                {
                    if (!await TruncateToLeaderAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    Truncated = true;
                }

                Interlocked.Increment(ref fetches);
                var sentAt = time.GetTimestamp();
                var endBefore = local.LogEndOffset;
                var response = await leader.ReplicaFetchAsync(
                    new ReplicaFetchRequest
                    {
                        ReplicaSilo = LocalSilo,
                        LeaderEpoch = State.LeaderEpoch,
                        FetchOffset = local.LogEndOffset,
                        LastFetchedEpoch = local.Log.LatestEpoch,
                        MaxBytes = maxBytes,
                        MaxWaitMs = maxWaitMs,
                    },
                    cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (response.Error == ErrorCode.FencedLeaderEpoch)
                {
                    // The leader is at a newer epoch than the one this loop follows: it waits to be told the new
                    // state (a new loop starts then) instead of polling with an epoch the leader refuses.
                    LogFenced(logger, State.TopicPartition.ToString(), State.LeaderEpoch, response.ErrorMessage ?? string.Empty);
                    return;
                }

                // Progress: records, a truncation, or an empty answer after the leader's long-poll. An empty answer that
                // comes at once with nothing to apply (a diverging epoch the leader cannot name, EpochEndOffset.Undefined,
                // looks like "no divergence") is not: asked again at once, it would be answered the same at once.
                var applied = Apply(response);
                var waited = time.GetElapsedTime(sentAt) >= TimeSpan.FromMilliseconds(maxWaitMs / 2.0);
                if (applied && (!response.Records.IsEmpty || local.LogEndOffset != endBefore || waited))
                {
                    backoff = firstBackoff;
                    continue;
                }

                // An error, or an answer that moved nothing at once: ask again later, backing off.
                await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (BrokerException e) when (e.Code == ErrorCode.FencedLeaderEpoch)
            {
                // A newer role owns the partition on this silo.
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFetchFailed(logger, State.TopicPartition.ToString(), State.Leader ?? "none", e);
                await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Kafka's truncation on becoming a follower: the leader's end offset for our last epoch, bounded by
    /// our own end of that epoch. Returns false when the leader could not answer.</summary>
    private async Task<bool> TruncateToLeaderAsync(CancellationToken cancellationToken)
    {
        var lastEpoch = local.Log.LatestEpoch;
        if (lastEpoch < 0)
        {
            return true;
        }

        var answer = await leader.OffsetForLeaderEpochAsync(State.LeaderEpoch, lastEpoch, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (answer.Error == ErrorCode.FencedLeaderEpoch)
        {
            throw new BrokerException(ErrorCode.FencedLeaderEpoch, $"{State.TopicPartition}: the leader is past leader epoch {State.LeaderEpoch}.");
        }

        if (answer.Error != ErrorCode.None)
        {
            return false;
        }

        TruncateTo(answer.EndOffset);
        return true;
    }

    private void TruncateTo(EpochEndOffset leaderEnd)
    {
        long target;
        if (leaderEnd.LeaderEpoch < 0 || leaderEnd.EndOffset < 0)
        {
            // The leader knows none of our epochs: keep what is known committed.
            target = local.HighWatermark;
        }
        else
        {
            var (_, localEnd) = local.Log.EndOffsetForEpoch(leaderEnd.LeaderEpoch);
            target = Math.Min(leaderEnd.EndOffset, localEnd < 0 ? local.LogEndOffset : localEnd);
        }

        if (target < local.LogEndOffset)
        {
            LogTruncating(logger, State.TopicPartition.ToString(), local.LogEndOffset, target, State.LeaderEpoch);
        }

        // Also at the log end: an epoch this replica began there as leader, with no batch in it, is dropped (the
        // leader does not have it, and asking with it would be answered "diverging" again and again).
        local.TruncateTo(target, State.LeaderEpoch);
    }

    private bool Apply(ReplicaFetchResponse response)
    {
        switch (response.Error)
        {
            case ErrorCode.None:
                if (response.DivergingEpoch.EndOffset >= 0)
                {
                    TruncateTo(response.DivergingEpoch);
                    return true;
                }

                if (!response.Records.IsEmpty)
                {
                    local.AppendAsFollower(response.Records.Span, State.LeaderEpoch);
                }

                local.UpdateHighWatermark(Math.Min(response.HighWatermark, local.LogEndOffset));
                return true;
            case ErrorCode.OffsetOutOfRange when response.LogEndOffset >= 0 && local.LogEndOffset > response.LogEndOffset:
                local.TruncateTo(response.LogEndOffset, State.LeaderEpoch);
                return true;
            case ErrorCode.OffsetOutOfRange when response.LogStartOffset >= 0 && local.LogEndOffset < response.LogStartOffset:
                // The leader's retention removed everything after our end: nothing of ours can be continued.
                LogRestarting(logger, State.TopicPartition.ToString(), local.LogEndOffset, response.LogStartOffset);
                local.TruncateFullyAndStartAt(response.LogStartOffset, State.LeaderEpoch);
                return true;
            default:
                LogFetchError(logger, State.TopicPartition.ToString(), response.Error.KafkaName(), response.ErrorMessage ?? string.Empty);
                return false;
        }
    }

    [LoggerMessage(EventId = 5205, Level = LogLevel.Debug, Message = "Stopped following {Partition} at leader epoch {LeaderEpoch}: this silo serves epoch {RoleEpoch} now")]
    private static partial void LogSuperseded(ILogger logger, string partition, int leaderEpoch, int roleEpoch);

    [LoggerMessage(EventId = 5206, Level = LogLevel.Debug, Message = "Stopped following {Partition} at leader epoch {LeaderEpoch}: the leader refused the epoch ({Message}); waiting for the new state")]
    private static partial void LogFenced(ILogger logger, string partition, int leaderEpoch, string message);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Truncating {Partition} from {LogEndOffset} to {Offset} to follow leader epoch {LeaderEpoch}")]
    private static partial void LogTruncating(ILogger logger, string partition, long logEndOffset, long offset, int leaderEpoch);

    [LoggerMessage(EventId = 5204, Level = LogLevel.Warning, Message = "Replica of {Partition} ends at {LogEndOffset}, below the leader's log start {LeaderLogStart}: restarting the log empty there")]
    private static partial void LogRestarting(ILogger logger, string partition, long logEndOffset, long leaderLogStart);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Debug, Message = "Fetch of {Partition} from leader {Leader} failed")]
    private static partial void LogFetchFailed(ILogger logger, string partition, string leader, Exception exception);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Debug, Message = "Fetch of {Partition} answered {Error}: {Message}")]
    private static partial void LogFetchError(ILogger logger, string partition, string error, string message);
}
