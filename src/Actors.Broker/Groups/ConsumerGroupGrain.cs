using Actors.Broker.Configuration;
using Actors.Broker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Actors.Broker.Groups;

/// <summary>One committed offset as persisted.</summary>
[GenerateSerializer]
[Alias("broker.CommittedOffset")]
public sealed class CommittedOffset
{
    [Id(0)] public string Topic { get; set; } = string.Empty;

    [Id(1)] public int Partition { get; set; }

    [Id(2)] public long Offset { get; set; }

    [Id(3)] public int LeaderEpoch { get; set; } = -1;

    [Id(4)] public string? Metadata { get; set; }

    [Id(5)] public long CommitTimestampMs { get; set; }
}

/// <summary>What a consumer group persists: its committed offsets, since when it is empty, and its members.</summary>
[GenerateSerializer]
[Alias("broker.ConsumerGroupRecord")]
public sealed class ConsumerGroupRecord
{
    [Id(0)] public List<CommittedOffset> Offsets { get; set; } = [];

    /// <summary>When the group last became empty (ms), or 0 while it has members.</summary>
    [Id(1)] public long EmptySinceMs { get; set; }

    /// <summary>The members and their assignments, so a new activation of the group keeps them.</summary>
    [Id(2)] public ConsumerGroupSnapshot? Membership { get; set; }

    /// <summary>A classic group's generation, protocol and (while Stable) members with their metadata and
    /// assignments, so a new activation goes on from the same generation.</summary>
    [Id(3)] public ClassicGroupSnapshot? Classic { get; set; }

    /// <summary>True when <paramref name="offset"/> is due to be dropped (KIP-211): the group is empty, and both its
    /// last commit of that offset and the moment the group became empty are more than <paramref name="retentionMs"/>
    /// (offsets.retention.minutes) ago. Every commit restarts its offset's clock, so a group without members
    /// (standalone consumers, or offsets reset for consumers still to come) keeps what it committed recently.</summary>
    public bool OffsetExpired(CommittedOffset offset, bool groupIsEmpty, long nowMs, long retentionMs)
    {
        ArgumentNullException.ThrowIfNull(offset);
        return groupIsEmpty && EmptySinceMs > 0 && nowMs - Math.Max(EmptySinceMs, offset.CommitTimestampMs) > retentionMs;
    }

    /// <summary>True when at least one offset is due to be dropped (see <see cref="OffsetExpired"/>).</summary>
    public bool OffsetsExpired(bool groupIsEmpty, long nowMs, long retentionMs) =>
        Offsets.Exists(o => OffsetExpired(o, groupIsEmpty, nowMs, retentionMs));

    /// <summary>Drops the offsets due to be dropped; once none is left the group no longer counts as empty since
    /// any time (its next commit starts the clock again). Returns how many were dropped.</summary>
    public int RemoveExpiredOffsets(bool groupIsEmpty, long nowMs, long retentionMs)
    {
        var removed = Offsets.RemoveAll(o => OffsetExpired(o, groupIsEmpty, nowMs, retentionMs));
        if (removed > 0 && Offsets.Count == 0)
        {
            EmptySinceMs = 0;
        }

        return removed;
    }
}

/// <summary>
/// The group grain's own entry points for the state changes of the classic protocol's long calls
/// (see <see cref="ConsumerGroupGrain"/>); nothing else calls them.
/// </summary>
[Alias("broker.IClassicGroupTurns")]
public interface IClassicGroupTurns : IGrainWithStringKey
{
    /// <summary>Applies a JoinGroup and leaves its (possibly pending) answer under <paramref name="ticket"/>.</summary>
    Task BeginJoinAsync(long ticket, JoinGroupRequest request);

    /// <summary>Applies a SyncGroup and leaves its (possibly pending) answer under <paramref name="ticket"/>.</summary>
    Task BeginSyncAsync(long ticket, SyncGroupRequest request);
}

/// <summary>
/// A consumer group (see <see cref="IConsumerGroupGrain"/>): membership and assignment through a
/// <see cref="ConsumerGroupCoordinator"/> (KIP-848) or a <see cref="ClassicGroupCoordinator"/> (classic protocol),
/// offsets persisted through grain storage, lag from the partition leaders, offset resets planned by
/// <see cref="OffsetResetPlanner"/>, expiry of an empty group's offsets after offsets.retention.minutes.
/// </summary>
/// <remarks>
/// Threading. The grain is not reentrant: every state change runs in a non-interleaved turn, one at a time, so the
/// coordinators and the persisted record need no locks. The two classic calls that wait for a rebalance,
/// <see cref="JoinGroupAsync"/> and <see cref="SyncGroupAsync"/>, are [AlwaysInterleave] and change nothing
/// themselves: each calls the grain's own non-interleaved <see cref="IClassicGroupTurns"/> method, which applies
/// the request to the coordinator (and persists) in an ordinary turn and leaves behind, under a ticket, the task
/// that answers it; the interleaved call then awaits that task. The task is a
/// <see cref="TaskCompletionSource{TResult}"/> of the coordinator, completed by whichever later turn finishes the
/// rebalance: another member's join or sync, a leave, or the timer. Meanwhile the activation serves every other
/// call (heartbeats, commits, describe) as usual, since an interleaved request never blocks the queue.
/// Timers: deadlines are kept in group-clock time (the keyed <see cref="BrokerSiloBuilderExtensions.GroupClockKey"/>
/// TimeProvider, which tests replace with a manual clock) and run by <see cref="ClassicGroupCoordinator.Tick"/> at the
/// start of every classic call, from a one-shot timer set for the next deadline, and from the periodic expiry timer.
/// Timeouts: the long calls carry [ResponseTimeout] of <see cref="ConsumerGroupTimeouts.LongCall"/> and the
/// coordinator never waits longer than <see cref="ConsumerGroupTimeouts.MaxRebalanceWaitMs"/>; waiters still
/// pending when the activation goes away are answered NOT_COORDINATOR, which sends clients to find the group again.
/// </remarks>
[GrainType("broker-group")]
public sealed class ConsumerGroupGrain : Grain, IConsumerGroupGrain, IClassicGroupTurns
{
    private readonly IPersistentState<ConsumerGroupRecord> state;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ConsumerGroupCoordinator coordinator;
    private readonly ClassicGroupCoordinator classic;
    private readonly Dictionary<long, Task<JoinGroupResponse>> startedJoins = [];
    private readonly Dictionary<long, Task<SyncGroupResponse>> startedSyncs = [];
    private long nextTicket;
    private long persistedClassicVersion;
    private IGrainTimer? wakeUp;
    private long wakeUpAtMs = long.MaxValue;
    private bool lastKindClassic;
    private Dictionary<string, int> partitionCounts = new(StringComparer.Ordinal);
    private long countsFetchedMs = long.MinValue;
    private bool registered;
    private string persistedMembership = string.Empty;

    /// <summary>True while this activation's state is what storage accepted under <c>state.Etag</c> (false from the
    /// start of a write until it is stored: a failed write leaves a change here that storage never got).</summary>
    private bool stateStored = true;

    /// <summary>The name of the group's persistent state, and the grain storage it is kept in.</summary>
    private const string StateName = "group";
    private const string StorageName = "Default";

    public ConsumerGroupGrain([PersistentState(StateName, StorageName)] IPersistentState<ConsumerGroupRecord> state, IOptions<BrokerOptions> options,
        [FromKeyedServices(BrokerSiloBuilderExtensions.GroupClockKey)] TimeProvider time)
    {
        this.state = state;
        this.options = options.Value;
        this.time = time;
        coordinator = new ConsumerGroupCoordinator(this.GetPrimaryKeyString(), this.options);
        classic = new ClassicGroupCoordinator(this.GetPrimaryKeyString(), this.options);
    }

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>True while members of either kind are in the group.</summary>
    private bool HasMembers => !coordinator.IsEmpty || classic.HasMembers;

    /// <summary>True when the group exists: it has members, or it has stored state (offsets, a past generation).</summary>
    private bool GroupExists => HasMembers || state.RecordExists;

    /// <summary>Which kind the group is: the kind of its members, else the kind it last had.</summary>
    private bool IsClassic => classic.HasMembers || (coordinator.IsEmpty && (lastKindClassic || coordinator.GroupEpoch == 0));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        registered = state.RecordExists;
        if (state.State.Membership is { } membership)
        {
            // The members of the previous activation carry on; any that are gone expire after their session timeout.
            coordinator.Restore(membership, NowMs);
            persistedMembership = coordinator.SnapshotKey();
        }

        if (state.State.Classic is { } classicSnapshot)
        {
            // Kafka's rule: a classic group is loaded Stable with the members of its last generation (they carry on
            // if they heartbeat in time) or Empty; either way the generation goes on from the persisted one.
            classic.Restore(classicSnapshot, NowMs);
            persistedClassicVersion = classic.Version;
            lastKindClassic = classicSnapshot.ProtocolType is not null && state.State.Membership is null;
        }

        if (coordinator.IsEmpty && state.State.EmptySinceMs == 0 && state.State.Offsets.Count > 0)
        {
            // A group with offsets but neither members nor an empty-since time (written before members were
            // persisted): its offsets begin to age now, else they would never expire.
            state.State.EmptySinceMs = NowMs;
            await PersistAsync(cancellationToken);
        }

        // Offsets that expired while no activation was running are gone before the first call reads them.
        await ExpireAsync();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.GroupHeartbeatIntervalMs, 100, 1000));
        this.RegisterGrainTimer(_ => ExpireAsync(), period, period);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        classic.FailAllWaiters(ErrorCode.NotCoordinator);
        return Task.CompletedTask;
    }

    public async Task<GroupHeartbeatResponse> HeartbeatAsync(GroupHeartbeatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var wasEmpty = coordinator.IsEmpty;
        var topics = coordinator.SubscribedTopics.Concat(request.SubscribedTopicNames ?? []).Distinct(StringComparer.Ordinal).ToArray();

        // A leave (epoch -1, or -2 for a static member) needs no partition counts, so it does not wait on the
        // controller: were that call to fail, the leave would be lost (a closing client sends it once and does not
        // retry), and the member's partitions would stay assigned to it until its session timed out.
        var counts = request.MemberEpoch is -1 or -2 ? partitionCounts : await PartitionCountsAsync(topics);
        if (classic.HasMembers)
        {
            // Kafka (online migration disabled): a classic group with members is not a consumer group.
            return new GroupHeartbeatResponse
            {
                Error = ErrorCode.GroupIdNotFound,
                ErrorMessage = $"Group '{this.GetPrimaryKeyString()}' is a classic group with members; it is not a consumer group.",
                MemberId = request.MemberId,
                MemberEpoch = -1,
            };
        }

        GroupHeartbeatResponse response;
        try
        {
            response = coordinator.Heartbeat(request, counts, NowMs);
        }
        catch (BrokerException e)
        {
            return new GroupHeartbeatResponse { Error = e.Code, ErrorMessage = e.Message, MemberId = request.MemberId, MemberEpoch = -1 };
        }

        if (wasEmpty != coordinator.IsEmpty)
        {
            state.State.EmptySinceMs = coordinator.IsEmpty ? NowMs : 0;
        }

        await PersistMembershipAsync(force: wasEmpty != coordinator.IsEmpty);

        if (!coordinator.IsEmpty)
        {
            lastKindClassic = false;
            await RegisterAsync();
        }

        return response;
    }

    public async Task<OffsetCommitResponse> CommitOffsetsAsync(OffsetCommitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs;
        classic.Tick(now);
        var (code, message) = ValidateCommit(request, now);
        if (code != ErrorCode.None)
        {
            return new OffsetCommitResponse { Error = code, ErrorMessage = message };
        }

        // Offsets are stored as given, negative ones included (Kafka does not check them either).
        foreach (var o in request.Offsets)
        {
            var existing = state.State.Offsets.FirstOrDefault(c => c.Topic == o.TopicPartition.Topic && c.Partition == o.TopicPartition.Partition);
            if (existing is null)
            {
                existing = new CommittedOffset { Topic = o.TopicPartition.Topic, Partition = o.TopicPartition.Partition };
                state.State.Offsets.Add(existing);
            }

            existing.Offset = o.Offset;
            existing.LeaderEpoch = o.LeaderEpoch;
            existing.Metadata = o.Metadata;
            existing.CommitTimestampMs = now;
        }

        if (!HasMembers && state.State.EmptySinceMs == 0)
        {
            state.State.EmptySinceMs = now;
        }

        await PersistAsync();
        await RegisterAsync();
        return new OffsetCommitResponse();
    }

    public async Task<TopicPartitionOffset[]> FetchOffsetsAsync(TopicPartition[]? partitions)
    {
        // Answer from what storage holds, not from whatever this activation holds: while cluster membership changes,
        // a second activation of the group can live for a moment and accept commits this one never saw (a stale read
        // made committed offsets go back under faults). Every accepted commit is stored before it is answered, so the
        // stored offsets are the latest.
        var record = await CurrentRecordAsync();

        // A read sees the offsets as of now, not as of the last expiry tick (this read-only turn leaves the removal to it).
        var now = NowMs;
        var committed = record.Offsets.Where(c => !record.OffsetExpired(c, !HasMembers, now, RetentionMs))
            .ToDictionary(c => new TopicPartition(c.Topic, c.Partition));
        var wanted = partitions ?? committed.Keys.Order().ToArray();
        return wanted.Select(tp => committed.TryGetValue(tp, out var c)
            ? new TopicPartitionOffset(tp, c.Offset, c.LeaderEpoch, c.Metadata)
            : new TopicPartitionOffset(tp, -1, -1, null)).ToArray();
    }

    /// <summary>The group's record as stored now. This activation's own state when it is current: its last write
    /// was stored and the stored ETag is still the one that write (or the activation's read) got, so no other
    /// activation has written since; that costs an ETag read (<see cref="IGrainStateETags"/>), not a read of the
    /// record. Otherwise the stored record, read into a copy (this activation's own state is not touched; its next
    /// write fails on the ETag and Orleans deactivates it). This activation's state also when nothing is stored yet
    /// or the storage provider cannot be found.</summary>
    private async Task<ConsumerGroupRecord> CurrentRecordAsync()
    {
        if (ServiceProvider.GetKeyedService<IGrainStorage>(StorageName) is not { } storage)
        {
            return state.State;
        }

        if (stateStored && ServiceProvider.GetKeyedService<IGrainStateETags>(StorageName) is { } etags
            && string.Equals(await etags.ReadETagAsync(StateName, this.GetGrainId(), CancellationToken.None), state.Etag, StringComparison.Ordinal))
        {
            return state.State;
        }

        var stored = new GrainState<ConsumerGroupRecord>();
        await storage.ReadStateAsync(StateName, this.GetGrainId(), stored);
        return stored.RecordExists && stored.State is { } record ? record : state.State;
    }

    /// <summary>Writes this activation's state to storage; until the write returns, the state counts as not stored.</summary>
    private async Task PersistAsync(CancellationToken cancellationToken = default)
    {
        stateStored = false;
        await state.WriteStateAsync(cancellationToken);
        stateStored = true;
    }

    public async Task<ConsumerGroupDescription> DescribeAsync()
    {
        await ExpireAsync();
        if (!GroupExists)
        {
            throw new BrokerException(ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist.");
        }

        var owners = IsClassic ? new Dictionary<TopicPartition, string>() : coordinator.Owners();
        var committed = Committed();
        var partitions = committed.Keys.Concat(owners.Keys).Distinct().Order().ToArray();
        var lags = await Task.WhenAll(partitions.Select(async tp =>
        {
            var end = await LatestOffsetAsync(tp);
            var c = committed.TryGetValue(tp, out var co) ? co.Offset : -1;
            return new PartitionLag
            {
                TopicPartition = tp,
                CommittedOffset = c,
                LogEndOffset = end,
                Lag = c >= 0 && end >= 0 ? Math.Max(0, end - c) : -1,
                MemberId = owners.TryGetValue(tp, out var m) ? m : null,
            };
        }));
        if (IsClassic)
        {
            var stable = classic.State == ClassicGroupState.Stable;
            return new ConsumerGroupDescription
            {
                GroupId = this.GetPrimaryKeyString(),
                State = classic.State switch
                {
                    ClassicGroupState.Empty => ConsumerGroupState.Empty,
                    ClassicGroupState.Stable => ConsumerGroupState.Stable,
                    ClassicGroupState.Dead => ConsumerGroupState.Dead,
                    _ => ConsumerGroupState.Reconciling,
                },
                ClassicState = classic.State,
                KafkaState = classic.State.ToKafkaString(),
                GroupType = KafkaGroupStates.ClassicType,
                ProtocolType = classic.ProtocolType ?? string.Empty,
                Protocol = stable ? classic.ProtocolName ?? string.Empty : string.Empty,
                GroupEpoch = classic.GenerationId,
                Assignor = classic.ProtocolName ?? string.Empty,
                Members = classic.DescribeMembers(),
                Offsets = lags,
            };
        }

        return new ConsumerGroupDescription
        {
            GroupId = this.GetPrimaryKeyString(),
            State = coordinator.State,
            KafkaState = coordinator.State.ToKafkaString(),
            GroupType = KafkaGroupStates.ConsumerType,
            ProtocolType = ClassicGroupCoordinator.ConsumerProtocolType,
            Protocol = coordinator.Assignor,
            GroupEpoch = coordinator.GroupEpoch,
            Assignor = coordinator.Assignor,
            Members = coordinator.DescribeMembers(),
            Offsets = lags,
        };
    }

    public async Task<OffsetResetPlanEntry[]> ResetOffsetsAsync(ResetOffsetsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HasMembers)
        {
            var (kafkaState, count) = classic.HasMembers ? (classic.State.ToKafkaString(), classic.MemberCount) : (coordinator.State.ToKafkaString(), coordinator.DescribeMembers().Length);
            throw new BrokerException(ErrorCode.NonEmptyGroup,
                $"Offsets of group '{this.GetPrimaryKeyString()}' can be reset only while it has no active members; it is {kafkaState} with {count} members. Stop the consumers first.");
        }

        var committed = Committed(NowMs);
        var topics = (request.Topics ?? []).Concat((request.Partitions ?? []).Select(p => p.Topic)).Concat(committed.Keys.Select(k => k.Topic)).Distinct(StringComparer.Ordinal).ToArray();
        var counts = await PartitionCountsAsync(topics, force: true);
        var chosen = OffsetResetPlanner.SelectPartitions(request, counts, committed.Keys);
        var target = OffsetResetPlanner.TargetTimestamp(request.Mode, request.Value, NowMs);
        var bounds = await Task.WhenAll(chosen.Select(async tp =>
        {
            var grain = GrainFactory.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));
            var earliest = await ListAsync(grain, tp, ListOffsetsRequest.Earliest);
            var latest = await ListAsync(grain, tp, ListOffsetsRequest.Latest);
            long? byTime = null;
            if (target is { } ts)
            {
                var found = await ListAsync(grain, tp, ts);
                byTime = found >= 0 ? found : null;
            }

            return new PartitionOffsetBounds(tp, earliest, latest, byTime);
        }));
        var plan = OffsetResetPlanner.Plan(request.Mode, request.Value, bounds, committed.ToDictionary(kv => kv.Key, kv => kv.Value.Offset));
        if (request.Execute)
        {
            await CommitOffsetsAsync(new OffsetCommitRequest
            {
                Offsets = plan.Select(p => new TopicPartitionOffset(p.TopicPartition, p.NewOffset, -1, null)).ToArray(),
            });
        }

        return plan;
    }

    public async Task DeleteAsync()
    {
        classic.Tick(NowMs);
        if (HasMembers)
        {
            var kafkaState = classic.HasMembers ? classic.State.ToKafkaString() : coordinator.State.ToKafkaString();
            throw new BrokerException(ErrorCode.NonEmptyGroup,
                $"Group '{this.GetPrimaryKeyString()}' has active members ({kafkaState}); it can be deleted only when empty.");
        }

        if (!state.RecordExists)
        {
            throw new BrokerException(ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist.");
        }

        stateStored = false;
        await state.ClearStateAsync();
        state.State = new ConsumerGroupRecord();
        stateStored = true;
        classic.Reset();
        persistedClassicVersion = classic.Version;
        await GrainFactory.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).UnregisterAsync(this.GetPrimaryKeyString());
        registered = false;
        DeactivateOnIdle();
    }

    public async Task<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request)
    {
        // Interleaved: the change runs in the grain's own non-interleaved turn; this call only waits for the answer.
        var ticket = ++nextTicket;
        try
        {
            await this.AsReference<IClassicGroupTurns>().BeginJoinAsync(ticket, request);
            return await startedJoins[ticket];
        }
        finally
        {
            startedJoins.Remove(ticket);
        }
    }

    public async Task<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request)
    {
        var ticket = ++nextTicket;
        try
        {
            await this.AsReference<IClassicGroupTurns>().BeginSyncAsync(ticket, request);
            return await startedSyncs[ticket];
        }
        finally
        {
            startedSyncs.Remove(ticket);
        }
    }

    public async Task BeginJoinAsync(long ticket, JoinGroupRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs;
        var wasEmpty = !HasMembers;
        classic.Tick(now);
        startedJoins[ticket] = coordinator.IsEmpty
            ? classic.Join(request, now)
            : Task.FromResult(new JoinGroupResponse
            {
                Error = ErrorCode.InconsistentGroupProtocol,
                ErrorMessage = $"Group '{this.GetPrimaryKeyString()}' has members of the new consumer protocol (KIP-848); a classic member cannot join it.",
                MemberId = request.MemberId,
            });
        if (classic.HasMembers)
        {
            lastKindClassic = true;
        }

        await AfterClassicChangeAsync(wasEmpty);
    }

    public async Task BeginSyncAsync(long ticket, SyncGroupRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs;
        var wasEmpty = !HasMembers;
        classic.Tick(now);
        startedSyncs[ticket] = classic.Sync(request, now);
        await AfterClassicChangeAsync(wasEmpty);
    }

    public async Task<ClassicHeartbeatResponse> ClassicHeartbeatAsync(ClassicHeartbeatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs;
        var wasEmpty = !HasMembers;
        var changed = classic.Tick(now);
        var response = classic.Heartbeat(request, now);
        if (changed)
        {
            await AfterClassicChangeAsync(wasEmpty);
        }

        return response;
    }

    public async Task<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs;
        var wasEmpty = !HasMembers;
        classic.Tick(now);
        var response = classic.Leave(request, now);
        await AfterClassicChangeAsync(wasEmpty);
        return response;
    }

    public async Task<ErrorCode[]> DeleteOffsetsAsync(TopicPartition[] partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var now = NowMs;
        var wasEmpty = !HasMembers;
        if (classic.Tick(now))
        {
            await AfterClassicChangeAsync(wasEmpty);
        }

        if (!GroupExists)
        {
            throw new BrokerException(ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist.");
        }

        var classicActive = classic.State is not (ClassicGroupState.Empty or ClassicGroupState.Dead);
        if (classicActive && classic.ProtocolType != ClassicGroupCoordinator.ConsumerProtocolType)
        {
            throw new BrokerException(ErrorCode.NonEmptyGroup,
                $"Group '{this.GetPrimaryKeyString()}' has members of protocol type '{classic.ProtocolType}'; its offsets can be deleted only when it is empty.");
        }

        var subscribed = coordinator.SubscribedTopics.ToHashSet(StringComparer.Ordinal);
        var errors = new ErrorCode[partitions.Length];
        var removed = 0;
        for (var i = 0; i < partitions.Length; i++)
        {
            var tp = partitions[i];
            if (classicActive ? classic.IsSubscribedTo(tp.Topic) : subscribed.Contains(tp.Topic))
            {
                errors[i] = ErrorCode.GroupSubscribedToTopic;
                continue;
            }

            removed += state.State.Offsets.RemoveAll(c => c.Topic == tp.Topic && c.Partition == tp.Partition);
        }

        if (removed > 0)
        {
            await PersistAsync();
        }

        return errors;
    }

    public Task<GroupListing> GetListingAsync()
    {
        var id = this.GetPrimaryKeyString();
        return Task.FromResult(IsClassic
            ? new GroupListing
            {
                GroupId = id,
                ProtocolType = classic.ProtocolType ?? string.Empty,
                State = classic.State.ToKafkaString(),
                GroupType = KafkaGroupStates.ClassicType,
                Exists = GroupExists,
            }
            : new GroupListing
            {
                GroupId = id,
                ProtocolType = ClassicGroupCoordinator.ConsumerProtocolType,
                State = coordinator.State.ToKafkaString(),
                GroupType = KafkaGroupStates.ConsumerType,
                Exists = GroupExists,
            });
    }

    /// <summary>Which rules check a commit: those of the kind of members the group has; with no members, Kafka's
    /// rules for a classic group (a commit from outside, generation -1, is accepted; one naming a member or a
    /// generation is refused, with GROUP_ID_NOT_FOUND if the group does not exist at all).</summary>
    private (ErrorCode Code, string? Message) ValidateCommit(OffsetCommitRequest request, long now)
    {
        if (!coordinator.IsEmpty)
        {
            return coordinator.ValidateCommit(request.MemberId, request.MemberEpoch);
        }

        if (!classic.HasMembers && request.MemberEpoch >= 0 && !GroupExists)
        {
            return (ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist; a member commit needs the group.");
        }

        return classic.ValidateCommit(request.MemberId, request.GroupInstanceId, request.MemberEpoch, now);
    }

    /// <summary>After a classic change: the empty-since time, the record (when the generation, protocol or members
    /// changed, or the group has just been created), the directory entry, and the timer for the next deadline.</summary>
    private async Task AfterClassicChangeAsync(bool wasEmpty)
    {
        var now = NowMs;
        var empty = !HasMembers;
        var write = false;
        if (wasEmpty != empty)
        {
            state.State.EmptySinceMs = empty ? now : 0;
            write = true;
        }

        var version = classic.Version;
        if (version != persistedClassicVersion)
        {
            state.State.Classic = classic.Snapshot();
            write = true;
        }

        if (!empty && !state.RecordExists)
        {
            state.State.Classic ??= classic.Snapshot();
            write = true;
        }

        ScheduleWakeUp(now);
        if (write)
        {
            await PersistAsync();
            persistedClassicVersion = version;
        }

        if (!empty)
        {
            await RegisterAsync();
        }
    }

    /// <summary>Sets the one-shot timer for the classic group's next deadline (the periodic expiry timer runs them too).</summary>
    private void ScheduleWakeUp(long now)
    {
        var next = classic.NextDeadline();
        if (next == long.MaxValue || next >= wakeUpAtMs && wakeUpAtMs > now)
        {
            return;
        }

        wakeUpAtMs = next;
        var due = TimeSpan.FromMilliseconds(Math.Clamp(next - now, 0, int.MaxValue));
        if (wakeUp is null)
        {
            wakeUp = this.RegisterGrainTimer(WakeUpAsync, due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            wakeUp.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task WakeUpAsync()
    {
        wakeUpAtMs = long.MaxValue;
        var now = NowMs;
        var wasEmpty = !HasMembers;
        classic.Tick(now);
        await AfterClassicChangeAsync(wasEmpty);
    }

    private async Task ExpireAsync()
    {
        var now = NowMs;
        var wasEmpty = !HasMembers;
        if (classic.Tick(now))
        {
            await AfterClassicChangeAsync(wasEmpty);
        }

        if (coordinator.ExpireMembers(now).Count > 0)
        {
            if (coordinator.IsEmpty)
            {
                state.State.EmptySinceMs = now;
            }

            await PersistMembershipAsync(force: true);
        }

        if (state.State.RemoveExpiredOffsets(!HasMembers, now, RetentionMs) > 0)
        {
            await PersistAsync();
        }
    }

    /// <summary>offsets.retention.minutes in milliseconds.</summary>
    private long RetentionMs => options.OffsetsRetentionMinutes * 60_000L;

    /// <summary>Writes the record when the membership changed since the last write (or when <paramref name="force"/>):
    /// joins, leaves, epochs and assignments, never a plain heartbeat.</summary>
    private async Task PersistMembershipAsync(bool force)
    {
        var key = coordinator.SnapshotKey();
        if (!force && key == persistedMembership)
        {
            return;
        }

        state.State.Membership = coordinator.IsEmpty ? null : coordinator.Snapshot();
        await PersistAsync();
        persistedMembership = key;
    }

    private Dictionary<TopicPartition, CommittedOffset> Committed() =>
        state.State.Offsets.ToDictionary(c => new TopicPartition(c.Topic, c.Partition));

    /// <summary>The offsets as of <paramref name="nowMs"/>, without those already due to expire (a read-only turn
    /// leaves their removal to the expiry tick).</summary>
    private Dictionary<TopicPartition, CommittedOffset> Committed(long nowMs) =>
        state.State.Offsets.Where(c => !state.State.OffsetExpired(c, !HasMembers, nowMs, RetentionMs))
            .ToDictionary(c => new TopicPartition(c.Topic, c.Partition));

    private async Task RegisterAsync()
    {
        if (!registered)
        {
            await GrainFactory.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).RegisterAsync(this.GetPrimaryKeyString());
            registered = true;
        }
    }

    private async Task<IReadOnlyDictionary<string, int>> PartitionCountsAsync(string[] topics, bool force = false)
    {
        var missing = topics.Any(t => !partitionCounts.ContainsKey(t));
        if (force || missing || NowMs - countsFetchedMs > 1000)
        {
            var metadata = await GrainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller)
                .GetMetadataAsync(new MetadataRequest { Topics = topics, AllowAutoTopicCreation = false });
            partitionCounts = metadata.Topics.Where(t => t.Description is not null)
                .ToDictionary(t => t.Name, t => t.Description!.Partitions.Length, StringComparer.Ordinal);
            countsFetchedMs = NowMs;
        }

        return partitionCounts;
    }

    private async Task<long> LatestOffsetAsync(TopicPartition tp)
    {
        try
        {
            return await ListAsync(GrainFactory.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp)), tp, ListOffsetsRequest.Latest);
        }
        catch (Exception e) when (e is BrokerException or SiloUnavailableException or TimeoutException)
        {
            return -1;
        }
    }

    private static async Task<long> ListAsync(IPartitionGrain grain, TopicPartition tp, long timestamp)
    {
        var r = await grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = timestamp });
        return r.Error == ErrorCode.None
            ? r.Offset
            : throw new BrokerException(r.Error, $"Listing offsets of {tp} failed: {r.Error.DefaultMessage()}");
    }
}
