using Actors.Broker.Configuration;
using Actors.Broker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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

    /// <summary>True when the group has been empty for longer than <paramref name="retentionMs"/>
    /// (offsets.retention.minutes) and still holds offsets: they are due to be dropped.</summary>
    public bool OffsetsExpired(bool groupIsEmpty, long nowMs, long retentionMs) =>
        groupIsEmpty && EmptySinceMs > 0 && Offsets.Count > 0 && nowMs - EmptySinceMs > retentionMs;
}

/// <summary>
/// A consumer group (see <see cref="IConsumerGroupGrain"/>): membership and assignment through a
/// <see cref="ConsumerGroupCoordinator"/>, offsets persisted through grain storage, lag from the partition leaders,
/// offset resets planned by <see cref="OffsetResetPlanner"/>, expiry of an empty group's offsets after
/// offsets.retention.minutes.
/// </summary>
[GrainType("broker-group")]
public sealed class ConsumerGroupGrain : Grain, IConsumerGroupGrain
{
    private readonly IPersistentState<ConsumerGroupRecord> state;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ConsumerGroupCoordinator coordinator;
    private Dictionary<string, int> partitionCounts = new(StringComparer.Ordinal);
    private long countsFetchedMs = long.MinValue;
    private bool registered;
    private string persistedMembership = string.Empty;

    public ConsumerGroupGrain([PersistentState("group")] IPersistentState<ConsumerGroupRecord> state, IOptions<BrokerOptions> options,
        [FromKeyedServices(BrokerSiloBuilderExtensions.GroupClockKey)] TimeProvider time)
    {
        this.state = state;
        this.options = options.Value;
        this.time = time;
        coordinator = new ConsumerGroupCoordinator(this.GetPrimaryKeyString(), this.options);
    }

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        registered = state.RecordExists;
        if (state.State.Membership is { } membership)
        {
            // The members of the previous activation carry on; any that are gone expire after their session timeout.
            coordinator.Restore(membership, NowMs);
            persistedMembership = coordinator.SnapshotKey();
        }

        if (coordinator.IsEmpty && state.State.EmptySinceMs == 0 && state.State.Offsets.Count > 0)
        {
            // A group with offsets but neither members nor an empty-since time (written before members were
            // persisted): its offsets begin to age now, else they would never expire.
            state.State.EmptySinceMs = NowMs;
            await state.WriteStateAsync(cancellationToken);
        }

        // Offsets that expired while no activation was running are gone before the first call reads them.
        await ExpireAsync();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.GroupHeartbeatIntervalMs, 100, 1000));
        this.RegisterGrainTimer(_ => ExpireAsync(), period, period);
    }

    public async Task<GroupHeartbeatResponse> HeartbeatAsync(GroupHeartbeatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var wasEmpty = coordinator.IsEmpty;
        var topics = coordinator.SubscribedTopics.Concat(request.SubscribedTopicNames ?? []).Distinct(StringComparer.Ordinal).ToArray();
        var counts = await PartitionCountsAsync(topics);
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
            await RegisterAsync();
        }

        return response;
    }

    public async Task<OffsetCommitResponse> CommitOffsetsAsync(OffsetCommitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (code, message) = coordinator.ValidateCommit(request.MemberId, request.MemberEpoch);
        if (code != ErrorCode.None)
        {
            return new OffsetCommitResponse { Error = code, ErrorMessage = message };
        }

        var bad = request.Offsets.FirstOrDefault(o => o.Offset < 0);
        if (request.Offsets.Any(o => o.Offset < 0))
        {
            return new OffsetCommitResponse { Error = ErrorCode.InvalidCommitOffsetSize, ErrorMessage = $"Offset {bad.Offset} for {bad.TopicPartition} is negative." };
        }

        var now = NowMs;
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

        if (coordinator.IsEmpty && state.State.EmptySinceMs == 0)
        {
            state.State.EmptySinceMs = now;
        }

        await state.WriteStateAsync();
        await RegisterAsync();
        return new OffsetCommitResponse();
    }

    public Task<TopicPartitionOffset[]> FetchOffsetsAsync(TopicPartition[]? partitions)
    {
        // A read sees the offsets as of now, not as of the last expiry tick (this read-only turn leaves the removal to it).
        var committed = OffsetsExpired(NowMs) ? [] : Committed();
        var wanted = partitions ?? committed.Keys.Order().ToArray();
        return Task.FromResult(wanted.Select(tp => committed.TryGetValue(tp, out var c)
            ? new TopicPartitionOffset(tp, c.Offset, c.LeaderEpoch, c.Metadata)
            : new TopicPartitionOffset(tp, -1, -1, null)).ToArray());
    }

    public async Task<ConsumerGroupDescription> DescribeAsync()
    {
        await ExpireAsync();
        if (coordinator.IsEmpty && !state.RecordExists)
        {
            throw new BrokerException(ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist.");
        }

        var owners = coordinator.Owners();
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
        return new ConsumerGroupDescription
        {
            GroupId = this.GetPrimaryKeyString(),
            State = coordinator.State,
            GroupEpoch = coordinator.GroupEpoch,
            Assignor = coordinator.Assignor,
            Members = coordinator.DescribeMembers(),
            Offsets = lags,
        };
    }

    public async Task<OffsetResetPlanEntry[]> ResetOffsetsAsync(ResetOffsetsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!coordinator.IsEmpty)
        {
            throw new BrokerException(ErrorCode.NonEmptyGroup,
                $"Offsets of group '{this.GetPrimaryKeyString()}' can be reset only while it has no active members; it is {coordinator.State} with {coordinator.DescribeMembers().Length} members. Stop the consumers first.");
        }

        var committed = Committed();
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
        if (!coordinator.IsEmpty)
        {
            throw new BrokerException(ErrorCode.NonEmptyGroup,
                $"Group '{this.GetPrimaryKeyString()}' has active members ({coordinator.State}); it can be deleted only when empty.");
        }

        if (!state.RecordExists)
        {
            throw new BrokerException(ErrorCode.GroupIdNotFound, $"Group '{this.GetPrimaryKeyString()}' does not exist.");
        }

        await state.ClearStateAsync();
        state.State = new ConsumerGroupRecord();
        await GrainFactory.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).UnregisterAsync(this.GetPrimaryKeyString());
        registered = false;
        DeactivateOnIdle();
    }

    private async Task ExpireAsync()
    {
        var now = NowMs;
        if (coordinator.ExpireMembers(now).Count > 0)
        {
            if (coordinator.IsEmpty)
            {
                state.State.EmptySinceMs = now;
            }

            await PersistMembershipAsync(force: true);
        }

        if (OffsetsExpired(now))
        {
            state.State.Offsets.Clear();
            await state.WriteStateAsync();
        }
    }

    /// <summary>True when the group has been empty for <c>offsets.retention.minutes</c> and still holds offsets.</summary>
    private bool OffsetsExpired(long nowMs) =>
        state.State.OffsetsExpired(coordinator.IsEmpty, nowMs, options.OffsetsRetentionMinutes * 60_000L);

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
        await state.WriteStateAsync();
        persistedMembership = key;
    }

    private Dictionary<TopicPartition, CommittedOffset> Committed() =>
        state.State.Offsets.ToDictionary(c => new TopicPartition(c.Topic, c.Partition));

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
