using Actors.Broker.Configuration;

namespace Actors.Broker.Groups;

/// <summary>
/// The membership side of a consumer group in Kafka's new protocol (KIP-848), without I/O: members join, heartbeat
/// and leave; the group epoch grows on every change of members, subscriptions or partition counts; the target
/// assignment is recomputed by the group's assignor at each group epoch; each member is reconciled towards its
/// target incrementally (<see cref="AssignmentReconciler"/>) and gets the group epoch as its member epoch once it
/// has nothing left to revoke. Members silent past their session timeout, or holding a revoked partition past
/// their rebalance timeout (max.poll.interval.ms), are removed.
/// </summary>
/// <remarks>Not thread-safe: the group grain's turns serialize access. Bounded by group.consumer.max.size.</remarks>
public sealed class ConsumerGroupCoordinator
{
    private readonly BrokerOptions options;
    private readonly Dictionary<string, Member> members = new(StringComparer.Ordinal);
    private Dictionary<string, int> partitionCounts = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, TopicPartition[]> targets = new Dictionary<string, TopicPartition[]>();

    public ConsumerGroupCoordinator(string groupId, BrokerOptions options)
    {
        if (string.IsNullOrWhiteSpace(groupId))
        {
            throw new BrokerException(ErrorCode.InvalidGroupId, "The group id is empty; set group.id.");
        }

        GroupId = groupId;
        this.options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public string GroupId { get; }

    public int GroupEpoch { get; private set; }

    public string Assignor { get; private set; } = PartitionAssignors.Default;

    public bool IsEmpty => members.Count == 0;

    /// <summary>Topics the members subscribe to.</summary>
    public IReadOnlyCollection<string> SubscribedTopics => members.Values.SelectMany(m => m.Subscribed).Distinct(StringComparer.Ordinal).ToArray();

    public ConsumerGroupState State => members.Count == 0
        ? ConsumerGroupState.Empty
        : members.Values.All(m => m.Epoch == GroupEpoch && m.Pending == 0 && targets.ContainsKey(m.Id)) ? ConsumerGroupState.Stable : ConsumerGroupState.Reconciling;

    /// <summary>Handles one heartbeat (join with epoch 0, leave with -1).</summary>
    /// <param name="request">The heartbeat.</param>
    /// <param name="counts">Partition counts of (at least) the subscribed topics; unknown topics are skipped.</param>
    /// <param name="nowMs">The time now.</param>
    public GroupHeartbeatResponse Heartbeat(GroupHeartbeatRequest request, IReadOnlyDictionary<string, int> counts, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(counts);
        if (request.ServerAssignor is not null)
        {
            var assignor = PartitionAssignors.Get(request.ServerAssignor).Name;
            if (!string.Equals(assignor, Assignor, StringComparison.Ordinal))
            {
                Assignor = assignor;
                BumpGroupEpoch();
            }
        }

        if (request.MemberEpoch == -1 || request.MemberEpoch == -2)
        {
            if (members.Remove(request.MemberId))
            {
                BumpGroupEpoch();
            }

            return new GroupHeartbeatResponse { MemberId = request.MemberId, MemberEpoch = -1, HeartbeatIntervalMs = options.GroupHeartbeatIntervalMs };
        }

        Member? member;
        if (request.MemberEpoch == 0)
        {
            if (!members.TryGetValue(request.MemberId, out member))
            {
                if (members.Count >= options.GroupMaxSize)
                {
                    return Error(ErrorCode.GroupMaxSizeReached, $"Group '{GroupId}' already has {members.Count} members (group.consumer.max.size).", request.MemberId);
                }

                member = new Member(request.MemberId.Length > 0 ? request.MemberId : Guid.NewGuid().ToString("N"));
                members[member.Id] = member;
            }

            member.Epoch = 0;
            member.Owned.Clear();
            member.Subscribed = (request.SubscribedTopicNames ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            BumpGroupEpoch();
        }
        else
        {
            if (!members.TryGetValue(request.MemberId, out member))
            {
                return Error(ErrorCode.UnknownMemberId, $"Member '{request.MemberId}' is not in group '{GroupId}'; rejoin with epoch 0.", request.MemberId);
            }

            if (request.MemberEpoch != member.Epoch)
            {
                return Error(ErrorCode.FencedMemberEpoch,
                    $"Member '{member.Id}' sent epoch {request.MemberEpoch}; its epoch is {member.Epoch}. Rejoin with epoch 0.", member.Id);
            }

            if (request.SubscribedTopicNames is not null)
            {
                var subscribed = request.SubscribedTopicNames.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                if (!subscribed.SequenceEqual(member.Subscribed, StringComparer.Ordinal))
                {
                    member.Subscribed = subscribed;
                    BumpGroupEpoch();
                }
            }

            if (request.OwnedPartitions is not null)
            {
                member.Owned = new HashSet<TopicPartition>(request.OwnedPartitions);
            }
        }

        member.InstanceId = request.InstanceId ?? member.InstanceId;
        member.ClientId = request.ClientId ?? member.ClientId;
        member.ClientHost = request.ClientHost ?? member.ClientHost;
        member.SessionTimeoutMs = request.SessionTimeoutMs > 0 ? request.SessionTimeoutMs : options.GroupSessionTimeoutMs;
        member.RebalanceTimeoutMs = request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : options.GroupRebalanceTimeoutMs;
        member.LastHeartbeatMs = nowMs;

        if (CountsChanged(counts))
        {
            BumpGroupEpoch();
        }

        EnsureTargets();
        var step = Reconcile(member);
        if (step.Revoking.Length > 0)
        {
            member.RevokingSinceMs ??= nowMs;
        }
        else
        {
            member.RevokingSinceMs = null;
        }

        // As in KIP-848, a member moves to the group's epoch once it has nothing left to revoke; partitions it
        // still waits for (owned by others until they revoke them) arrive in later heartbeats.
        if (step.Revoking.Length == 0)
        {
            member.Epoch = GroupEpoch;
        }

        member.Pending = step.Pending.Length;

        return new GroupHeartbeatResponse
        {
            MemberId = member.Id,
            MemberEpoch = member.Epoch,
            HeartbeatIntervalMs = options.GroupHeartbeatIntervalMs,
            Assignment = step.Assignment,
        };
    }

    /// <summary>Removes members past their session or rebalance timeout; returns their ids.</summary>
    public IReadOnlyList<string> ExpireMembers(long nowMs)
    {
        var expired = members.Values
            .Where(m => nowMs - m.LastHeartbeatMs > m.SessionTimeoutMs
                        || (m.RevokingSinceMs is { } since && nowMs - since > m.RebalanceTimeoutMs))
            .Select(m => m.Id)
            .ToList();
        foreach (var id in expired)
        {
            members.Remove(id);
        }

        if (expired.Count > 0)
        {
            BumpGroupEpoch();
        }

        return expired;
    }

    /// <summary>Checks that a commit may be accepted (KIP-848 rules). Returns None or the error with its message.</summary>
    public (ErrorCode Code, string? Message) ValidateCommit(string memberId, int memberEpoch)
    {
        if (string.IsNullOrEmpty(memberId))
        {
            return members.Count == 0
                ? (ErrorCode.None, null)
                : (ErrorCode.UnknownMemberId, $"Group '{GroupId}' has active members; a commit from outside the group needs it empty.");
        }

        if (!members.TryGetValue(memberId, out var member))
        {
            return (ErrorCode.UnknownMemberId, $"Member '{memberId}' is not in group '{GroupId}'.");
        }

        if (memberEpoch > member.Epoch)
        {
            return (ErrorCode.FencedMemberEpoch, $"Commit with epoch {memberEpoch} from member '{memberId}', whose epoch is {member.Epoch}.");
        }

        return memberEpoch < member.Epoch
            ? (ErrorCode.StaleMemberEpoch, $"Commit with stale epoch {memberEpoch} from member '{memberId}', whose epoch is {member.Epoch}; retry with the current epoch.")
            : (ErrorCode.None, null);
    }

    /// <summary>The owner of each partition now.</summary>
    public IReadOnlyDictionary<TopicPartition, string> Owners() =>
        members.Values.SelectMany(m => m.Owned.Select(tp => (tp, m.Id))).GroupBy(x => x.tp).ToDictionary(g => g.Key, g => g.First().Id);

    public GroupMemberDescription[] DescribeMembers() => members.Values
        .OrderBy(m => m.Id, StringComparer.Ordinal)
        .Select(m => new GroupMemberDescription
        {
            MemberId = m.Id,
            InstanceId = m.InstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = m.Epoch,
            SubscribedTopics = m.Subscribed,
            Assigned = m.Owned.Order().ToArray(),
            Target = targets.TryGetValue(m.Id, out var t) ? t : [],
        })
        .ToArray();

    private ReconciliationStep Reconcile(Member member)
    {
        var target = targets.TryGetValue(member.Id, out var t) ? t : [];
        var step = AssignmentReconciler.Next(member.Owned, target, tp => members.Values.Any(o => o != member && o.Owned.Contains(tp)));

        // Until the member confirms, revoked partitions stay owned by it (nobody else gets them).
        member.Owned = new HashSet<TopicPartition>(step.Assignment.Concat(step.Revoking));
        return step;
    }

    private bool CountsChanged(IReadOnlyDictionary<string, int> counts)
    {
        var relevant = SubscribedTopics.Where(counts.ContainsKey).ToDictionary(t => t, t => counts[t], StringComparer.Ordinal);
        if (relevant.Count == partitionCounts.Count && relevant.All(kv => partitionCounts.TryGetValue(kv.Key, out var c) && c == kv.Value))
        {
            return false;
        }

        partitionCounts = relevant;
        return true;
    }

    private void BumpGroupEpoch()
    {
        GroupEpoch++;
        targets = new Dictionary<string, TopicPartition[]>();
    }

    private void EnsureTargets()
    {
        if (targets.Count == members.Count && members.Keys.All(targets.ContainsKey))
        {
            return;
        }

        var input = members.Values
            .OrderBy(m => m.Id, StringComparer.Ordinal)
            .Select(m => new AssignmentMember(m.Id, m.Subscribed, m.LastTarget))
            .ToList();
        targets = PartitionAssignors.Get(Assignor).Assign(input, partitionCounts);
        foreach (var m in members.Values)
        {
            m.LastTarget = targets.TryGetValue(m.Id, out var t) ? t : [];
        }
    }

    /// <summary>The group's members, epochs and partition counts as persisted, so that a new activation of the
    /// group (after its silo died) keeps the members and their assignments instead of starting empty.</summary>
    public ConsumerGroupSnapshot Snapshot() => new()
    {
        GroupEpoch = GroupEpoch,
        Assignor = Assignor,
        PartitionCounts = new Dictionary<string, int>(partitionCounts, StringComparer.Ordinal),
        Members = members.Values.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => new ConsumerGroupMemberRecord
        {
            MemberId = m.Id,
            InstanceId = m.InstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = m.Epoch,
            SubscribedTopics = m.Subscribed,
            Owned = m.Owned.Order().ToArray(),
            LastTarget = m.LastTarget,
            SessionTimeoutMs = m.SessionTimeoutMs,
            RebalanceTimeoutMs = m.RebalanceTimeoutMs,
        }).ToList(),
    };

    /// <summary>A key that changes whenever <see cref="Snapshot"/> would (heartbeat times are not part of it), so
    /// the group writes its membership only when it changed.</summary>
    public string SnapshotKey()
    {
        var key = new System.Text.StringBuilder();
        key.Append(GroupEpoch).Append('|').Append(Assignor);
        foreach (var (topic, count) in partitionCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            key.Append('|').Append(topic).Append('=').Append(count);
        }

        foreach (var m in members.Values.OrderBy(m => m.Id, StringComparer.Ordinal))
        {
            key.Append("|m:").Append(m.Id).Append(':').Append(m.Epoch).Append(':').Append(m.InstanceId).Append(':').Append(m.ClientId)
                .Append(':').Append(m.ClientHost).Append(':').Append(m.SessionTimeoutMs).Append(':').Append(m.RebalanceTimeoutMs)
                .Append(":s=").AppendJoin(',', m.Subscribed)
                .Append(":o=").AppendJoin(',', m.Owned.Order())
                .Append(":t=").AppendJoin(',', m.LastTarget);
        }

        return key.ToString();
    }

    /// <summary>Takes the members of a <see cref="Snapshot"/> back; each gets a full session timeout from
    /// <paramref name="nowMs"/> to heartbeat the new activation.</summary>
    public void Restore(ConsumerGroupSnapshot snapshot, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        GroupEpoch = snapshot.GroupEpoch;
        Assignor = PartitionAssignors.Get(snapshot.Assignor).Name;
        partitionCounts = new Dictionary<string, int>(snapshot.PartitionCounts, StringComparer.Ordinal);
        targets = new Dictionary<string, TopicPartition[]>();
        members.Clear();
        foreach (var r in snapshot.Members)
        {
            members[r.MemberId] = new Member(r.MemberId)
            {
                InstanceId = r.InstanceId,
                ClientId = r.ClientId,
                ClientHost = r.ClientHost,
                Epoch = r.MemberEpoch,
                Subscribed = r.SubscribedTopics,
                Owned = [.. r.Owned],
                LastTarget = r.LastTarget,
                SessionTimeoutMs = r.SessionTimeoutMs,
                RebalanceTimeoutMs = r.RebalanceTimeoutMs,
                LastHeartbeatMs = nowMs,
            };
        }
    }

    private static GroupHeartbeatResponse Error(ErrorCode code, string message, string memberId) =>
        new() { Error = code, ErrorMessage = message, MemberId = memberId, MemberEpoch = -1 };

    private sealed class Member(string id)
    {
        public string Id { get; } = id;

        public string? InstanceId { get; set; }

        public string? ClientId { get; set; }

        public string? ClientHost { get; set; }

        public int Epoch { get; set; }

        public string[] Subscribed { get; set; } = [];

        public HashSet<TopicPartition> Owned { get; set; } = [];

        public TopicPartition[] LastTarget { get; set; } = [];

        public long LastHeartbeatMs { get; set; }

        public long? RevokingSinceMs { get; set; }

        public int SessionTimeoutMs { get; set; }

        public int Pending { get; set; }

        public int RebalanceTimeoutMs { get; set; }
    }
}

/// <summary>What a consumer group persists of its membership (see <see cref="ConsumerGroupCoordinator.Snapshot"/>).</summary>
[GenerateSerializer]
[Alias("broker.ConsumerGroupSnapshot")]
public sealed class ConsumerGroupSnapshot
{
    [Id(0)] public int GroupEpoch { get; set; }

    [Id(1)] public string Assignor { get; set; } = PartitionAssignors.Default;

    [Id(2)] public Dictionary<string, int> PartitionCounts { get; set; } = new(StringComparer.Ordinal);

    [Id(3)] public List<ConsumerGroupMemberRecord> Members { get; set; } = [];
}

/// <summary>One member as persisted.</summary>
[GenerateSerializer]
[Alias("broker.ConsumerGroupMemberRecord")]
public sealed class ConsumerGroupMemberRecord
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? InstanceId { get; set; }

    [Id(2)] public string? ClientId { get; set; }

    [Id(3)] public string? ClientHost { get; set; }

    [Id(4)] public int MemberEpoch { get; set; }

    [Id(5)] public string[] SubscribedTopics { get; set; } = [];

    [Id(6)] public TopicPartition[] Owned { get; set; } = [];

    [Id(7)] public TopicPartition[] LastTarget { get; set; } = [];

    [Id(8)] public int SessionTimeoutMs { get; set; }

    [Id(9)] public int RebalanceTimeoutMs { get; set; }
}
