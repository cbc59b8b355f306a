using Actors.Broker.Logs;
using Actors.Broker.Topics;
using Actors.Log;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Actors.Broker.Replication;

/// <summary>
/// The leader side of one partition on its leader's silo: produce with acks 0 / 1 / all and min.insync.replicas,
/// the high watermark over the ISR, consumer fetches below the high watermark with long-poll, follower fetches
/// (with divergence detection for a follower's last epoch), ListOffsets, and ISR shrink/expand through the
/// controller. The partition grain is a thin shell around it.
/// </summary>
/// <remarks>
/// Thread-safe: the tracker and the acks=all waiters are guarded by <c>gate</c>; appends go through
/// <see cref="LocalPartition"/>, which serializes writers under its own lock, taken after <c>gate</c> if ever
/// both are held (docs/lock-ordering.md). The lock is needed although the grain is single-threaded: the grain is
/// reentrant and the continuations here (<c>ConfigureAwait(false)</c>) run off its turn. While an ISR expansion
/// is in flight the high watermark is computed over the ISR including the joining replica (Kafka's "maximal
/// ISR"), and a shrink takes effect only once the controller accepted it, so a record below the high watermark is
/// always on every replica that can be elected.
/// </remarks>
public sealed partial class PartitionLeader
{
    private readonly object gate = new();
    private readonly LocalPartition local;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Func<AlterPartitionRequest, Task<PartitionState>> alterPartition;
    private readonly List<(long RequiredOffset, TaskCompletionSource<bool> Done)> waiters = [];
    private readonly ReplicaSyncTracker tracker;
    private readonly TimeSpan alterTimeout;
    private readonly long maxAlterBackoffMs;
    private bool alterInFlight;
    private long alterGeneration;
    private long nextAlterAtMs;
    private long alterBackoffMs = FirstAlterBackoffMs;
    private bool active;

    /// <summary>The first pause after an ISR change failed or got no answer; it doubles up to a quarter of the lag time.</summary>
    private const long FirstAlterBackoffMs = 100;

    /// <param name="local">The silo's copy of the partition.</param>
    /// <param name="state">The state naming this silo leader.</param>
    /// <param name="localSilo">This silo's name.</param>
    /// <param name="config">The topic's effective config.</param>
    /// <param name="lagTimeMaxMs">replica.lag.time.max.ms.</param>
    /// <param name="time">Clock.</param>
    /// <param name="alterPartition">Sends an ISR change to the controller; returns the new state or throws <see cref="BrokerException"/>.</param>
    /// <param name="logger">Logger.</param>
    public PartitionLeader(
        LocalPartition local,
        PartitionState state,
        string localSilo,
        EffectiveTopicConfig config,
        long lagTimeMaxMs,
        TimeProvider time,
        Func<AlterPartitionRequest, Task<PartitionState>> alterPartition,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(state);
        if (!string.Equals(state.Leader, localSilo, StringComparison.Ordinal))
        {
            throw new BrokerException(ErrorCode.NotLeaderOrFollower,
                $"{state.TopicPartition}: silo '{localSilo}' is not the leader; the controller names '{state.Leader ?? "none"}' (leader epoch {state.LeaderEpoch}).");
        }

        this.local = local;
        this.time = time;
        this.alterPartition = alterPartition;

        // An ISR change in flight must not hold ISR changes (and so acks=all) for long: it is given up after half the
        // lag time and tried again after a backoff, and a newer state from the controller supersedes it.
        alterTimeout = TimeSpan.FromMilliseconds(Math.Clamp(lagTimeMaxMs / 2, 100, 10_000));
        maxAlterBackoffMs = Math.Clamp(lagTimeMaxMs / 4, FirstAlterBackoffMs, 5_000);
        this.logger = logger ?? NullLogger.Instance;
        State = state;
        LocalSilo = localSilo;
        Config = config;
        if (!local.ClaimRole(state.LeaderEpoch))
        {
            throw new BrokerException(ErrorCode.FencedLeaderEpoch,
                $"{state.TopicPartition}: leader epoch {state.LeaderEpoch} is older than epoch {local.RoleEpoch} already served on this silo.");
        }

        local.AssignLeaderEpoch(state.LeaderEpoch);
        var leo = local.LogEndOffset;
        tracker = new ReplicaSyncTracker(localSilo, state.Replicas, state.Isr, leo, local.HighWatermark, leo, lagTimeMaxMs, NowMs);
        local.UpdateHighWatermark(tracker.HighWatermark);
        active = true;
    }

    public PartitionState State { get; private set; }

    public string LocalSilo { get; }

    public EffectiveTopicConfig Config { get; private set; }

    public int LeaderEpoch => State.LeaderEpoch;

    public bool IsActive
    {
        get
        {
            lock (gate)
            {
                return active;
            }
        }
    }

    public long HighWatermark
    {
        get
        {
            lock (gate)
            {
                return tracker.HighWatermark;
            }
        }
    }

    public LocalPartition Local => local;

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Produce (see <see cref="IPartitionGrain.ProduceAsync"/>).</summary>
    public async Task<ProduceResponse> ProduceAsync(ProduceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Acks is not (0 or 1 or -1))
        {
            return Error(ErrorCode.InvalidRequiredAcks, $"acks must be 0, 1 or -1 (all); got {request.Acks}.");
        }

        var epochError = CheckEpoch(request.CurrentLeaderEpoch);
        if (epochError is not null)
        {
            return Error(epochError.Value.Code, epochError.Value.Message);
        }

        int isrSize;
        lock (gate)
        {
            if (!active)
            {
                return Error(ErrorCode.NotLeaderOrFollower, $"{State.TopicPartition}: this silo no longer leads (leader epoch {State.LeaderEpoch}).");
            }

            isrSize = State.Isr.Length;
        }

        if (request.Acks == -1 && isrSize < Config.MinInsyncReplicas)
        {
            return Error(ErrorCode.NotEnoughReplicas,
                $"{State.TopicPartition}: the ISR [{string.Join(',', State.Isr)}] has {isrSize} replicas, fewer than min.insync.replicas={Config.MinInsyncReplicas}; nothing was written.");
        }

        // One deadline for the whole request: the wait for a producer's earlier batches below, then acks=all.
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs));
        LeaderAppendResult append;
        while (true)
        {
            var changed = local.Changed;
            try
            {
                append = local.AppendAsLeader(request.Records, State.LeaderEpoch);
            }
            catch (BrokerException e)
            {
                return Error(e.Code == ErrorCode.FencedLeaderEpoch ? ErrorCode.NotLeaderOrFollower : e.Code, e.Message);
            }

            // A batch that starts past its producer's next sequence may have overtaken the producer's earlier batches
            // on the way here: a client pipelines up to five requests, and the calls that carry them from the Kafka
            // listener to this grain are not ordered as a connection is (an earlier call can wait for placement or be
            // rerouted while a later one arrives). Kafka reads a connection's requests in order, so it never judges a
            // batch before the ones sent ahead of it; this leader waits for them instead, within the request's
            // timeout, and answers OUT_OF_ORDER_SEQUENCE_NUMBER only when they never come. Answering at once would
            // let the client see the earlier batch acknowledged before this refusal, which it takes for a lost
            // sequence: a fatal error of the idempotent producer.
            var remaining = deadline - time.GetUtcNow();
            if (!append.SequenceGap || remaining <= TimeSpan.Zero || !IsActive)
            {
                break;
            }

            await WaitForChangeAsync(changed, remaining, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (append.Error != ErrorCode.None)
        {
            LogProducerRefused(logger, State.TopicPartition.ToString(), append.Error, append.Message ?? string.Empty);
            return Error(append.Error, append.Message);
        }

        if (!append.Duplicate)
        {
            OnLogAppended();
        }

        var ok = new ProduceResponse
        {
            Error = ErrorCode.None,
            BaseOffset = append.FirstOffset,
            LogAppendTimeMs = append.LogAppendTime,
            LogStartOffset = local.LogStartOffset,
            LeaderEpoch = State.LeaderEpoch,
        };
        if (request.Acks != -1)
        {
            return ok;
        }

        var required = append.LastOffset + 1;
        TaskCompletionSource<bool> done;
        lock (gate)
        {
            if (tracker.IsReplicatedTo(required))
            {
                return AfterReplication(ok);
            }

            if (!active)
            {
                return Error(ErrorCode.NotLeaderOrFollower, $"{State.TopicPartition}: leadership moved before the records were replicated.");
            }

            done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((required, done));
        }

        var timeout = deadline - time.GetUtcNow();
        timeout = timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero;
        // WaitAsync disarms its timer when the replicas answer first (a Task.Delay raced with WhenAny would stay armed).
        var replicated = done.Task.WaitAsync(timeout, time, cancellationToken);
        await ((Task)replicated).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        if (!replicated.IsCompletedSuccessfully)
        {
            lock (gate)
            {
                waiters.RemoveAll(w => w.Done == done);
            }

            return Error(ErrorCode.RequestTimedOut,
                $"{State.TopicPartition}: the records up to offset {required - 1} did not reach every in-sync replica within {request.TimeoutMs} ms.");
        }

        if (!replicated.Result)
        {
            return Error(ErrorCode.NotLeaderOrFollower, $"{State.TopicPartition}: leadership moved before the records were replicated.");
        }

        return AfterReplication(ok);
    }

    /// <summary>Waits until the log changes, the wait is over or the call is cancelled, whichever comes first; the
    /// timer is disarmed as soon as the change comes, so a long-poll leaves nothing behind.</summary>
    private async Task WaitForChangeAsync(Task changed, TimeSpan wait, CancellationToken cancellationToken) =>
        await changed.WaitAsync(wait, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>A consumer fetch (see <see cref="IPartitionGrain.FetchAsync"/>).</summary>
    public async Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var epochError = CheckEpoch(request.CurrentLeaderEpoch);
        if (epochError is not null)
        {
            return new FetchResponse { Error = epochError.Value.Code, ErrorMessage = epochError.Value.Message };
        }

        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            var changed = local.Changed;
            var hw = HighWatermark;
            if (!IsActive)
            {
                return new FetchResponse { Error = ErrorCode.NotLeaderOrFollower, ErrorMessage = $"{State.TopicPartition}: this silo no longer leads." };
            }

            using (var read = local.Log.Read(request.FetchOffset, Math.Max(0, request.MaxBytes), hw))
            {
                if (read.Status == LogReadStatus.OffsetOutOfRange)
                {
                    return new FetchResponse
                    {
                        Error = ErrorCode.OffsetOutOfRange,
                        ErrorMessage = $"{State.TopicPartition}: offset {request.FetchOffset} is outside [{read.LogStartOffset}, {read.LogEndOffset}].",
                        HighWatermark = hw,
                        LastStableOffset = hw,
                        LogStartOffset = read.LogStartOffset,
                    };
                }

                var remaining = deadline - time.GetUtcNow();
                if (read.Length >= Math.Max(1, request.MinBytes) || remaining <= TimeSpan.Zero)
                {
                    // The read's pooled buffer goes with the answer, not a copy of it: a caller in this silo (the
                    // Kafka listener) returns it to the pool once written; one elsewhere gets a serialized copy.
                    var rented = read.Length == 0 ? null : read.DetachBuffer();
                    return new FetchResponse
                    {
                        HighWatermark = hw,
                        LastStableOffset = hw,
                        LogStartOffset = read.LogStartOffset,
                        Records = rented is null ? ReadOnlyMemory<byte>.Empty : rented.AsMemory(0, read.Length),
                    }.WithRentedRecords(rented);
                }

                await WaitForChangeAsync(changed, remaining, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>A follower fetch (see <see cref="IPartitionGrain.ReplicaFetchAsync"/>).</summary>
    public async Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var epochError = CheckEpoch(request.LeaderEpoch);
        if (epochError is not null)
        {
            return new ReplicaFetchResponse { Error = epochError.Value.Code, ErrorMessage = epochError.Value.Message };
        }

        if (!State.Replicas.Contains(request.ReplicaSilo, StringComparer.Ordinal))
        {
            return new ReplicaFetchResponse
            {
                Error = ErrorCode.NotLeaderOrFollower,
                ErrorMessage = $"{State.TopicPartition}: '{request.ReplicaSilo}' is not a replica (replicas: {string.Join(',', State.Replicas)}).",
            };
        }

        // Below the log start first: retention may have dropped the epochs a divergence check would consult.
        if (request.LastFetchedEpoch >= 0 && request.FetchOffset >= local.LogStartOffset)
        {
            var (epoch, end) = local.Log.EndOffsetForEpoch(request.LastFetchedEpoch);
            if (epoch != request.LastFetchedEpoch || end < request.FetchOffset)
            {
                return new ReplicaFetchResponse
                {
                    HighWatermark = HighWatermark,
                    LogStartOffset = local.LogStartOffset,
                    LogEndOffset = local.LogEndOffset,
                    DivergingEpoch = new EpochEndOffset(epoch, end),
                };
            }
        }

        if (request.FetchOffset > local.LogEndOffset || request.FetchOffset < local.LogStartOffset)
        {
            return new ReplicaFetchResponse
            {
                Error = ErrorCode.OffsetOutOfRange,
                ErrorMessage = $"{State.TopicPartition}: follower offset {request.FetchOffset} is outside [{local.LogStartOffset}, {local.LogEndOffset}].",
                HighWatermark = HighWatermark,
                LogStartOffset = local.LogStartOffset,
                LogEndOffset = local.LogEndOffset,
            };
        }

        OnFollowerFetch(request.ReplicaSilo, request.FetchOffset);
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            var changed = local.Changed;
            using (var read = local.Log.Read(request.FetchOffset, Math.Max(1, request.MaxBytes), long.MaxValue))
            {
                var remaining = deadline - time.GetUtcNow();
                if (read.Length > 0 || remaining <= TimeSpan.Zero || !IsActive)
                {
                    return new ReplicaFetchResponse
                    {
                        Error = IsActive ? ErrorCode.None : ErrorCode.NotLeaderOrFollower,
                        HighWatermark = HighWatermark,
                        LogStartOffset = read.LogStartOffset,
                        LogEndOffset = read.LogEndOffset,
                        Records = read.Length == 0 ? ReadOnlyMemory<byte>.Empty : read.Records.ToArray(),
                    };
                }
            }

            await WaitForChangeAsync(changed, Max(deadline - time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Kafka's OffsetForLeaderEpoch on the leader.</summary>
    public OffsetForLeaderEpochResponse OffsetForLeaderEpoch(int currentLeaderEpoch, int leaderEpoch)
    {
        var epochError = CheckEpoch(currentLeaderEpoch);
        if (epochError is not null)
        {
            return new OffsetForLeaderEpochResponse { Error = epochError.Value.Code };
        }

        var (epoch, end) = local.Log.EndOffsetForEpoch(leaderEpoch);
        return new OffsetForLeaderEpochResponse { EndOffset = new EpochEndOffset(epoch, end) };
    }

    /// <summary>ListOffsets: earliest, latest (the high watermark), the largest timestamp or by timestamp (below the high watermark).</summary>
    public ListOffsetsResponse ListOffsets(ListOffsetsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var epochError = CheckEpoch(request.CurrentLeaderEpoch);
        if (epochError is not null)
        {
            return new ListOffsetsResponse { Error = epochError.Value.Code };
        }

        var hw = HighWatermark;
        switch (request.Timestamp)
        {
            case ListOffsetsRequest.Earliest:
                return new ListOffsetsResponse { Offset = local.LogStartOffset, LeaderEpoch = State.LeaderEpoch };
            case ListOffsetsRequest.Latest:
                return new ListOffsetsResponse { Offset = hw, LeaderEpoch = State.LeaderEpoch };
            case ListOffsetsRequest.MaxTimestamp:
                return local.Log.FindMaxTimestamp() is { } max && max.Offset < hw
                    ? new ListOffsetsResponse { Offset = max.Offset, Timestamp = max.Timestamp, LeaderEpoch = State.LeaderEpoch }
                    : new ListOffsetsResponse { Offset = -1, Timestamp = -1, LeaderEpoch = State.LeaderEpoch };
            case < 0:
                return new ListOffsetsResponse { Error = ErrorCode.InvalidRequest };
        }

        var found = local.Log.FindOffsetByTimestamp(request.Timestamp);
        return found is { } f && f.Offset < hw
            ? new ListOffsetsResponse { Offset = f.Offset, Timestamp = f.Timestamp, LeaderEpoch = State.LeaderEpoch }
            : new ListOffsetsResponse { Offset = -1, Timestamp = -1, LeaderEpoch = State.LeaderEpoch };
    }

    /// <summary>The leader's view for <see cref="IPartitionGrain.GetStatusAsync"/>.</summary>
    public PartitionStatus GetStatus()
    {
        lock (gate)
        {
            var leos = tracker.FollowerLogEndOffsets.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            leos[LocalSilo] = local.LogEndOffset;
            return new PartitionStatus
            {
                Error = active ? ErrorCode.None : ErrorCode.NotLeaderOrFollower,
                State = State,
                LogStartOffset = local.LogStartOffset,
                LogEndOffset = local.LogEndOffset,
                HighWatermark = tracker.HighWatermark,
                ReplicaLogEndOffsets = leos,
            };
        }
    }

    /// <summary>Adopts a newer state from the controller. Returns false (and resigns) when it no longer names this
    /// silo leader of the same epoch.</summary>
    public bool UpdateState(PartitionState state, EffectiveTopicConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (gate)
        {
            if (config is not null)
            {
                Config = config;
            }

            if (!state.IsNewerThan(State))
            {
                return active;
            }

            if (!string.Equals(state.Leader, LocalSilo, StringComparison.Ordinal) || state.LeaderEpoch != State.LeaderEpoch)
            {
                ResignLocked();
                State = state;
                return false;
            }

            State = state;
            if (alterInFlight)
            {
                // The controller's newer state supersedes the change in flight (its answer, if any, is stale now).
                alterInFlight = false;
                alterGeneration++;
            }

            tracker.SetIsr(state.Isr);

            PublishHighWatermarkLocked();
            return true;
        }
    }

    /// <summary>Stops leading: pending acks=all produces fail with NOT_LEADER_OR_FOLLOWER.</summary>
    public void Resign()
    {
        lock (gate)
        {
            ResignLocked();
        }
    }

    /// <summary>Shrinks the ISR when followers have lagged longer than replica.lag.time.max.ms. Call periodically.</summary>
    public Task MaybeShrinkIsrAsync()
    {
        string[] newIsr;
        lock (gate)
        {
            if (!active || alterInFlight || NowMs < nextAlterAtMs)
            {
                return Task.CompletedTask;
            }

            var lagging = tracker.ShrinkCandidates(NowMs);
            if (lagging.Count == 0)
            {
                return Task.CompletedTask;
            }

            newIsr = State.Isr.Where(r => !lagging.Contains(r, StringComparer.Ordinal)).ToArray();
            alterInFlight = true;
            LogShrinking(logger, State.TopicPartition.ToString(), string.Join(',', State.Isr), string.Join(',', newIsr));
        }

        return SendAlterAsync(newIsr);
    }

    private void OnFollowerFetch(string replica, long fetchOffset)
    {
        string[]? newIsr = null;
        lock (gate)
        {
            if (!active)
            {
                return;
            }

            if (tracker.OnFollowerFetch(replica, fetchOffset, NowMs))
            {
                PublishHighWatermarkLocked();
            }

            if (!alterInFlight && NowMs >= nextAlterAtMs)
            {
                var joining = tracker.ExpandCandidates();
                if (joining.Count > 0)
                {
                    newIsr = State.Isr.Concat(joining).Distinct(StringComparer.Ordinal).ToArray();
                    alterInFlight = true;

                    // Maximal ISR: count the joining replica for the high watermark while the change is in flight.
                    tracker.SetIsr(newIsr);
                    LogExpanding(logger, State.TopicPartition.ToString(), string.Join(',', State.Isr), string.Join(',', newIsr));
                }
            }
        }

        if (newIsr is not null)
        {
            _ = SendAlterAsync(newIsr);
        }
    }

    private async Task SendAlterAsync(string[] newIsr)
    {
        AlterPartitionRequest request;
        long generation;
        lock (gate)
        {
            generation = alterGeneration;
            request = new AlterPartitionRequest
            {
                TopicPartition = State.TopicPartition,
                Leader = LocalSilo,
                LeaderEpoch = State.LeaderEpoch,
                PartitionEpoch = State.PartitionEpoch,
                NewIsr = newIsr,
            };
        }

        PartitionState? accepted = null;
        Task<PartitionState>? call = null;
        try
        {
            call = alterPartition(request);
            accepted = await call.WaitAsync(alterTimeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException) when (call is not null)
        {
            // No answer in time: ISR changes go on without it; should the controller still accept it, the answer is
            // adopted when it comes.
            LogAlterTimedOut(logger, State.TopicPartition.ToString(), (long)alterTimeout.TotalMilliseconds);
            _ = AdoptLateAnswerAsync(call);
        }
        catch (Exception e)
        {
            LogAlterFailed(logger, State.TopicPartition.ToString(), e);
        }

        lock (gate)
        {
            if (generation != alterGeneration)
            {
                // A newer state from the controller superseded this change while it was in flight.
                AdoptLocked(accepted);
                return;
            }

            alterInFlight = false;
            alterGeneration++;
            if (accepted is null)
            {
                nextAlterAtMs = NowMs + alterBackoffMs;
                alterBackoffMs = Math.Min(alterBackoffMs * 2, maxAlterBackoffMs);
            }
            else
            {
                alterBackoffMs = FirstAlterBackoffMs;
            }

            AdoptLocked(accepted);
        }
    }

    /// <summary>An ISR change answered after it was given up: its state is adopted if it is still the newest.</summary>
    private async Task AdoptLateAnswerAsync(Task<PartitionState> call)
    {
        await ((Task)call).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (call.IsCompletedSuccessfully)
        {
            lock (gate)
            {
                AdoptLocked(call.Result);
            }
        }
    }

    /// <summary>Adopts the controller's answer to an ISR change when it is newer than <see cref="State"/>; the
    /// tracker then follows the state's ISR unless another change is in flight.</summary>
    private void AdoptLocked(PartitionState? accepted)
    {
        if (accepted is not null && accepted.IsNewerThan(State))
        {
            if (!string.Equals(accepted.Leader, LocalSilo, StringComparison.Ordinal) || accepted.LeaderEpoch != State.LeaderEpoch)
            {
                ResignLocked();
                State = accepted;
                return;
            }

            State = accepted;
        }

        if (active && !alterInFlight)
        {
            tracker.SetIsr(State.Isr);
            PublishHighWatermarkLocked();
        }
    }

    private void OnLogAppended()
    {
        lock (gate)
        {
            if (tracker.OnLeaderAppend(local.LogEndOffset))
            {
                PublishHighWatermarkLocked();
            }
        }
    }

    private ProduceResponse AfterReplication(ProduceResponse ok)
    {
        int isr;
        lock (gate)
        {
            isr = State.Isr.Length;
        }

        return isr < Config.MinInsyncReplicas
            ? Error(ErrorCode.NotEnoughReplicasAfterAppend,
                $"{State.TopicPartition}: the records were written but the ISR shrank to {isr}, below min.insync.replicas={Config.MinInsyncReplicas}.")
            : ok;
    }

    private void PublishHighWatermarkLocked()
    {
        var hw = tracker.HighWatermark;
        local.UpdateHighWatermark(hw);
        for (var i = waiters.Count - 1; i >= 0; i--)
        {
            if (waiters[i].RequiredOffset <= hw)
            {
                waiters[i].Done.TrySetResult(true);
                waiters.RemoveAt(i);
            }
        }
    }

    private void ResignLocked()
    {
        if (!active)
        {
            return;
        }

        active = false;
        foreach (var (_, done) in waiters)
        {
            done.TrySetResult(false);
        }

        waiters.Clear();
        LogResigned(logger, State.TopicPartition.ToString(), State.LeaderEpoch);
    }

    private (ErrorCode Code, string Message)? CheckEpoch(int requestEpoch)
    {
        var current = State.LeaderEpoch;
        if (requestEpoch < 0 || requestEpoch == current)
        {
            return null;
        }

        return requestEpoch < current
            ? (ErrorCode.FencedLeaderEpoch, $"{State.TopicPartition}: request for leader epoch {requestEpoch}, the current one is {current}.")
            : (ErrorCode.UnknownLeaderEpoch, $"{State.TopicPartition}: request for leader epoch {requestEpoch}, newer than this leader's {current}.");
    }

    private static TimeSpan Max(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;

    private static ProduceResponse Error(ErrorCode code, string? message) => new() { Error = code, ErrorMessage = message };

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Shrinking ISR of {Partition} from [{Isr}] to [{NewIsr}]")]
    private static partial void LogShrinking(ILogger logger, string partition, string isr, string newIsr);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Expanding ISR of {Partition} from [{Isr}] to [{NewIsr}]")]
    private static partial void LogExpanding(ILogger logger, string partition, string isr, string newIsr);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "ISR change of {Partition} got no answer from the controller within {TimeoutMs} ms; ISR changes go on without it and it is retried after a backoff")]
    private static partial void LogAlterTimedOut(ILogger logger, string partition, long timeoutMs);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "ISR change of {Partition} was refused or failed")]
    private static partial void LogAlterFailed(ILogger logger, string partition, Exception exception);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "Produce to {Partition} refused with {Code}: {Reason}")]
    private static partial void LogProducerRefused(ILogger logger, string partition, ErrorCode code, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "No longer leading {Partition} (leader epoch {LeaderEpoch})")]
    private static partial void LogResigned(ILogger logger, string partition, int leaderEpoch);
}
