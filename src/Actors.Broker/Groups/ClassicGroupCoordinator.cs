using Actors.Broker.Configuration;

namespace Actors.Broker.Groups;

/// <summary>
/// The membership side of a consumer group in Kafka's classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup),
/// without I/O, following Kafka's classic group coordinator: a rebalance moves the group from Stable (or Empty)
/// through PreparingRebalance, where members join again, to CompletingRebalance, where the leader's SyncGroup brings
/// the assignments, and back to Stable. The grain relays protocol metadata and assignments without reading them
/// (apart from the topics of the "consumer" protocol, for OffsetDelete).
/// </summary>
/// <remarks>
/// Not thread-safe: the group grain's turns serialize access. Joins and syncs that must wait are answered through
/// <see cref="TaskCompletionSource{TResult}"/>s that later calls and <see cref="Tick"/> complete; they run their
/// continuations asynchronously, so completing one never runs a caller's code inside this class.
/// Time is the caller's (milliseconds); deadlines (initial delay, rebalance timeout, pending syncs, sessions) are
/// checked by <see cref="Tick"/>, which the grain calls from a timer and before it answers.
/// </remarks>
public sealed class ClassicGroupCoordinator
{
    /// <summary>Kafka's group.classic new member join timeout: a member that joins for the first time and never
    /// completes its join is removed after this (5 minutes).</summary>
    public const int NewMemberJoinTimeoutMs = 5 * 60 * 1000;

    /// <summary>The protocol type of Kafka consumers, whose metadata the group can read for the subscribed topics.</summary>
    public const string ConsumerProtocolType = "consumer";

    private const long Never = long.MaxValue;

    private readonly BrokerOptions options;
    private readonly Dictionary<string, Member> members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> staticMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> pendingMembers = new(StringComparer.Ordinal);
    private readonly HashSet<string> pendingSync = new(StringComparer.Ordinal);
    private long joinOrder;
    private long joinDeadlineMs = Never;
    private (int DelayMs, int RemainingMs)? initialRebalance;
    private long syncDeadlineMs = Never;
    private int syncGeneration;
    private bool newMemberAdded;

    public ClassicGroupCoordinator(string groupId, BrokerOptions options)
    {
        GroupId = groupId;
        this.options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public string GroupId { get; }

    public ClassicGroupState State { get; private set; }

    public ClassicGroupState PreviousState { get; private set; }

    public int GenerationId { get; private set; }

    /// <summary>Set by the first member to join; kept while the group is empty (as Kafka lists it).</summary>
    public string? ProtocolType { get; private set; }

    /// <summary>The protocol chosen for the current generation; null while the group is empty.</summary>
    public string? ProtocolName { get; private set; }

    public string? LeaderId { get; private set; }

    /// <summary>Topics the members subscribe to, read from "consumer" protocol metadata; null when unknown
    /// (another protocol type, or metadata that does not parse).</summary>
    public IReadOnlySet<string>? SubscribedTopics { get; private set; }

    /// <summary>True while the group has members (not counting those it asked to join again with their new id).</summary>
    public bool HasMembers => members.Count > 0;

    public int MemberCount => members.Count;

    /// <summary>Grows whenever something that is persisted changed (generation, protocol, members, assignments);
    /// the grain writes its record when it differs from the last one written.</summary>
    public long Version { get; private set; }

    /// <summary>Handles a JoinGroup. The task completes at once for errors and when no rebalance is needed, else when
    /// the join phase completes.</summary>
    public Task<JoinGroupResponse> Join(JoinGroupRequest request, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.SessionTimeoutMs < options.GroupMinSessionTimeoutMs || request.SessionTimeoutMs > options.GroupMaxSessionTimeoutMs)
        {
            return Done(JoinError(ErrorCode.InvalidSessionTimeout, request.MemberId,
                $"Session timeout {request.SessionTimeoutMs} ms is outside group.min.session.timeout.ms ({options.GroupMinSessionTimeoutMs}) and group.max.session.timeout.ms ({options.GroupMaxSessionTimeoutMs})."));
        }

        if (State == ClassicGroupState.Dead)
        {
            return Done(JoinError(ErrorCode.CoordinatorNotAvailable, request.MemberId, $"Group '{GroupId}' is being deleted."));
        }

        var unknown = request.MemberId.Length == 0;
        if (!AcceptJoiningMember(request.MemberId))
        {
            if (members.TryGetValue(request.MemberId, out var refused))
            {
                Remove(refused, ErrorCode.GroupMaxSizeReached);
            }

            return Done(JoinError(ErrorCode.GroupMaxSizeReached, string.Empty, $"Group '{GroupId}' already has {members.Count} members (group.max.size {options.ClassicGroupMaxSize})."));
        }

        return unknown ? JoinNewMember(request, nowMs) : JoinExistingMember(request, nowMs);
    }

    /// <summary>Handles a SyncGroup: the leader's completes the rebalance; a follower's waits for it.</summary>
    public Task<SyncGroupResponse> Sync(SyncGroupRequest request, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (members.Count == 0)
        {
            return Done(SyncError(ErrorCode.UnknownMemberId, $"Group '{GroupId}' has no members."));
        }

        if (State == ClassicGroupState.Dead)
        {
            return Done(SyncError(ErrorCode.CoordinatorNotAvailable, $"Group '{GroupId}' is being deleted."));
        }

        var (code, message) = ValidateMember(request.MemberId, request.GroupInstanceId);
        if (code == ErrorCode.None && request.GenerationId != GenerationId)
        {
            (code, message) = (ErrorCode.IllegalGeneration, $"Generation {request.GenerationId} is not the group's current generation {GenerationId}.");
        }

        if (code == ErrorCode.None && (Inconsistent(request.ProtocolType, ProtocolType) || Inconsistent(request.ProtocolName, ProtocolName)))
        {
            (code, message) = (ErrorCode.InconsistentGroupProtocol,
                $"SyncGroup with protocol {request.ProtocolType}/{request.ProtocolName}; the group's is {ProtocolType}/{ProtocolName}.");
        }

        if (code != ErrorCode.None)
        {
            return Done(SyncError(code, message));
        }

        var member = members[request.MemberId];
        switch (State)
        {
            case ClassicGroupState.PreparingRebalance:
                return Done(SyncError(ErrorCode.RebalanceInProgress, $"Group '{GroupId}' is rebalancing; join again."));
            case ClassicGroupState.CompletingRebalance:
            {
                // A second sync from the same member replaces the first, whose caller is answered now.
                member.SyncWaiter?.TrySetResult(SyncError(ErrorCode.RebalanceInProgress, "Replaced by a newer SyncGroup from the same member."));
                member.SyncWaiter = new TaskCompletionSource<SyncGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
                var waiter = member.SyncWaiter.Task;
                RemovePendingSync(member.Id);
                if (member.Id == LeaderId)
                {
                    var given = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    foreach (var a in request.Assignments)
                    {
                        given[a.MemberId] = a.Assignment ?? [];
                    }

                    foreach (var m in members.Values)
                    {
                        m.Assignment = given.TryGetValue(m.Id, out var bytes) ? bytes : [];
                    }

                    PropagateAssignment(ErrorCode.None, nowMs);
                    TransitionTo(ClassicGroupState.Stable);
                    Version++;
                }

                return waiter;
            }

            default:
                RemovePendingSync(member.Id);
                return Done(new SyncGroupResponse { ProtocolType = ProtocolType, ProtocolName = ProtocolName, Assignment = member.Assignment });
        }
    }

    /// <summary>Handles a classic Heartbeat.</summary>
    public ClassicHeartbeatResponse Heartbeat(ClassicHeartbeatRequest request, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (State == ClassicGroupState.Dead)
        {
            return new ClassicHeartbeatResponse { Error = ErrorCode.CoordinatorNotAvailable };
        }

        var (code, message) = ValidateMember(request.MemberId, request.GroupInstanceId);
        if (code != ErrorCode.None)
        {
            return new ClassicHeartbeatResponse { Error = code, ErrorMessage = message };
        }

        if (request.GenerationId != GenerationId)
        {
            return new ClassicHeartbeatResponse
            {
                Error = ErrorCode.IllegalGeneration,
                ErrorMessage = $"Generation {request.GenerationId} is not the group's current generation {GenerationId}.",
            };
        }

        var member = members[request.MemberId];
        switch (State)
        {
            case ClassicGroupState.Empty:
                return new ClassicHeartbeatResponse { Error = ErrorCode.UnknownMemberId };
            case ClassicGroupState.PreparingRebalance:
                member.HeartbeatDeadlineMs = nowMs + member.SessionTimeoutMs;
                return new ClassicHeartbeatResponse { Error = ErrorCode.RebalanceInProgress, ErrorMessage = $"Group '{GroupId}' is rebalancing; join again." };
            default:
                member.HeartbeatDeadlineMs = nowMs + member.SessionTimeoutMs;
                return new ClassicHeartbeatResponse();
        }
    }

    /// <summary>Handles a LeaveGroup: removes each member named (or the static member of an instance id) and
    /// rebalances the rest.</summary>
    public LeaveGroupResponse Leave(LeaveGroupRequest request, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (State == ClassicGroupState.Dead)
        {
            return new LeaveGroupResponse { Error = ErrorCode.CoordinatorNotAvailable };
        }

        var answers = new List<LeaveGroupMemberResponse>();
        var removed = 0;
        foreach (var leaving in request.Members)
        {
            var answer = new LeaveGroupMemberResponse { MemberId = leaving.MemberId, GroupInstanceId = leaving.GroupInstanceId };
            answers.Add(answer);
            if (leaving.MemberId.Length == 0)
            {
                if (leaving.GroupInstanceId is { } instance && staticMembers.TryGetValue(instance, out var staticId))
                {
                    Remove(members[staticId], ErrorCode.UnknownMemberId);
                    removed++;
                }
                else
                {
                    answer.Error = ErrorCode.UnknownMemberId;
                }
            }
            else if (pendingMembers.Remove(leaving.MemberId))
            {
                removed++;
            }
            else
            {
                var (code, _) = ValidateMember(leaving.MemberId, leaving.GroupInstanceId);
                answer.Error = code;
                if (code == ErrorCode.None)
                {
                    Remove(members[leaving.MemberId], ErrorCode.UnknownMemberId);
                    removed++;
                }
            }
        }

        if (removed > 0)
        {
            switch (State)
            {
                case ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance:
                    MaybePrepareRebalanceOrCompleteJoin(nowMs);
                    break;
                case ClassicGroupState.PreparingRebalance:
                    MaybeCompleteJoinPhase(nowMs);
                    break;
            }
        }

        return new LeaveGroupResponse { Members = [.. answers] };
    }

    /// <summary>Checks a classic offset commit (Kafka's rules). Returns None or the error; a valid commit from a member
    /// keeps its session while the group is Stable or PreparingRebalance.</summary>
    public (ErrorCode Code, string? Message) ValidateCommit(string memberId, string? instanceId, int generationId, long nowMs)
    {
        if (State == ClassicGroupState.Dead)
        {
            return (ErrorCode.CoordinatorNotAvailable, $"Group '{GroupId}' is being deleted.");
        }

        if (generationId < 0 && State == ClassicGroupState.Empty)
        {
            return (ErrorCode.None, null);
        }

        if (generationId >= 0 || memberId.Length > 0 || instanceId is not null)
        {
            var (code, message) = ValidateMember(memberId, instanceId);
            if (code != ErrorCode.None)
            {
                return (code, message);
            }

            if (generationId != GenerationId)
            {
                return (ErrorCode.IllegalGeneration, $"Commit with generation {generationId}; the group's generation is {GenerationId}.");
            }
        }
        else if (State != ClassicGroupState.Empty)
        {
            return (ErrorCode.UnknownMemberId, $"Group '{GroupId}' has active members; a commit from outside the group needs it empty.");
        }

        if (State == ClassicGroupState.CompletingRebalance)
        {
            return (ErrorCode.RebalanceInProgress, $"Group '{GroupId}' is completing a rebalance; commit after SyncGroup.");
        }

        if (State is ClassicGroupState.Stable or ClassicGroupState.PreparingRebalance && members.TryGetValue(memberId, out var member))
        {
            member.HeartbeatDeadlineMs = nowMs + member.SessionTimeoutMs;
        }

        return (ErrorCode.None, null);
    }

    /// <summary>True when OffsetDelete must spare <paramref name="topic"/> (Kafka's isSubscribedToTopic): a topic the
    /// members subscribe to, or any topic when a "consumer" group's subscriptions cannot be read.</summary>
    public bool IsSubscribedTo(string topic) =>
        SubscribedTopics is { } topics ? topics.Contains(topic) : ProtocolType == ConsumerProtocolType;

    /// <summary>Runs what is due by <paramref name="nowMs"/>: the end of the join phase, pending syncs that expired,
    /// members whose session expired. Returns true when it changed anything.</summary>
    public bool Tick(long nowMs)
    {
        var changed = false;
        for (var guard = 0; guard < 10_000; guard++)
        {
            var next = NextDeadline();
            if (next > nowMs)
            {
                break;
            }

            changed = true;
            if (joinDeadlineMs == next)
            {
                joinDeadlineMs = Never;
                OnJoinDeadline(nowMs);
            }
            else if (syncDeadlineMs == next)
            {
                syncDeadlineMs = Never;
                OnSyncDeadline(nowMs);
            }
            else if (pendingMembers.FirstOrDefault(p => p.Value == next) is { Key: not null } pending)
            {
                pendingMembers.Remove(pending.Key);
                if (State == ClassicGroupState.PreparingRebalance && HasAllMembersJoined())
                {
                    CompleteJoin(nowMs);
                }
            }
            else if (members.Values.FirstOrDefault(m => m.HeartbeatDeadlineMs == next) is { } member)
            {
                member.HeartbeatDeadlineMs = Never;
                if (!member.HasSatisfiedHeartbeat)
                {
                    RemoveAndUpdate(member, nowMs);
                }
            }
        }

        return changed;
    }

    /// <summary>The earliest deadline still to run (ms), or <see cref="long.MaxValue"/>.</summary>
    public long NextDeadline()
    {
        var next = Math.Min(joinDeadlineMs, syncDeadlineMs);
        foreach (var p in pendingMembers.Values)
        {
            next = Math.Min(next, p);
        }

        foreach (var m in members.Values)
        {
            next = Math.Min(next, m.HeartbeatDeadlineMs);
        }

        return next;
    }

    /// <summary>Answers every waiting join and sync with <paramref name="error"/> (the activation is going away:
    /// NOT_COORDINATOR sends the clients to find the coordinator again).</summary>
    public void FailAllWaiters(ErrorCode error)
    {
        foreach (var m in members.Values)
        {
            m.JoinWaiter?.TrySetResult(JoinError(error, m.Id, "The group coordinator moved; find it again and rejoin."));
            m.JoinWaiter = null;
            m.SyncWaiter?.TrySetResult(SyncError(error, "The group coordinator moved; find it again and rejoin."));
            m.SyncWaiter = null;
        }
    }

    /// <summary>Forgets everything (the group was deleted); the next join starts a new group at generation 0.</summary>
    public void Reset()
    {
        FailAllWaiters(ErrorCode.CoordinatorNotAvailable);
        members.Clear();
        staticMembers.Clear();
        pendingMembers.Clear();
        pendingSync.Clear();
        State = PreviousState = ClassicGroupState.Empty;
        GenerationId = 0;
        ProtocolType = ProtocolName = LeaderId = null;
        SubscribedTopics = null;
        joinDeadlineMs = syncDeadlineMs = Never;
        initialRebalance = null;
        Version++;
    }

    public GroupMemberDescription[] DescribeMembers()
    {
        var stable = State == ClassicGroupState.Stable && ProtocolName is not null;
        return members.Values.OrderBy(m => m.Order).Select(m => new GroupMemberDescription
        {
            MemberId = m.Id,
            InstanceId = m.InstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = GenerationId,
            SubscribedTopics = ConsumerProtocol.Topics(ProtocolType, ProtocolName is null ? null : m.Metadata(ProtocolName))?.Order(StringComparer.Ordinal).ToArray() ?? [],
            Metadata = stable ? m.Metadata(ProtocolName!) ?? [] : [],
            Assignment = stable ? m.Assignment : [],
        }).ToArray();
    }

    /// <summary>What the group persists: generation, protocol, leader and members with their chosen metadata and
    /// assignment (as Kafka's group metadata record).</summary>
    public ClassicGroupSnapshot Snapshot() => new()
    {
        GenerationId = GenerationId,
        ProtocolType = ProtocolType,
        ProtocolName = ProtocolName,
        LeaderId = LeaderId,
        Members = State is ClassicGroupState.Stable && ProtocolName is not null
            ? members.Values.OrderBy(m => m.Order).Select(m => new ClassicGroupMemberRecord
            {
                MemberId = m.Id,
                InstanceId = m.InstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                ProtocolType = m.ProtocolType,
                SessionTimeoutMs = m.SessionTimeoutMs,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                Metadata = m.Metadata(ProtocolName) ?? [],
                Assignment = m.Assignment,
            }).ToList()
            : [],
    };

    /// <summary>Takes back a <see cref="Snapshot"/>: Stable with its members (each with a full session from
    /// <paramref name="nowMs"/> to heartbeat the new activation) or Empty.</summary>
    public void Restore(ClassicGroupSnapshot snapshot, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        GenerationId = snapshot.GenerationId;
        ProtocolType = snapshot.ProtocolType;
        ProtocolName = snapshot.Members.Count > 0 ? snapshot.ProtocolName : null;
        LeaderId = null;
        foreach (var r in snapshot.Members)
        {
            var member = new Member(r.MemberId, joinOrder++)
            {
                InstanceId = r.InstanceId,
                ClientId = r.ClientId,
                ClientHost = r.ClientHost,
                ProtocolType = r.ProtocolType,
                Protocols = [new JoinGroupProtocol { Name = snapshot.ProtocolName ?? string.Empty, Metadata = r.Metadata }],
                SessionTimeoutMs = r.SessionTimeoutMs,
                RebalanceTimeoutMs = r.RebalanceTimeoutMs,
                Assignment = r.Assignment,
                HeartbeatDeadlineMs = nowMs + r.SessionTimeoutMs,
            };
            members[member.Id] = member;
            if (member.InstanceId is { } instance)
            {
                staticMembers[instance] = member.Id;
            }
        }

        LeaderId = snapshot.LeaderId is { } leader && members.ContainsKey(leader) ? leader : members.Values.FirstOrDefault()?.Id;
        State = members.Count > 0 ? ClassicGroupState.Stable : ClassicGroupState.Empty;
        PreviousState = ClassicGroupState.Empty;
        SubscribedTopics = ComputeSubscribedTopics();
    }

    private static Task<T> Done<T>(T value) => Task.FromResult(value);

    private static bool Inconsistent(string? given, string? current) => given is not null && !string.Equals(given, current, StringComparison.Ordinal);

    private static JoinGroupResponse JoinError(ErrorCode code, string memberId, string? message) =>
        new() { Error = code, ErrorMessage = message, MemberId = memberId };

    private static SyncGroupResponse SyncError(ErrorCode code, string? message) => new() { Error = code, ErrorMessage = message };

    private int RebalanceTimeoutMs()
    {
        var max = members.Values.Select(m => m.RebalanceTimeoutMs).DefaultIfEmpty(0).Max();
        return Math.Min(max, ConsumerGroupTimeouts.MaxRebalanceWaitMs);
    }

    private bool AcceptJoiningMember(string memberId) => State switch
    {
        ClassicGroupState.Empty or ClassicGroupState.Dead => true,
        ClassicGroupState.PreparingRebalance => (members.TryGetValue(memberId, out var m) && m.AwaitingJoin)
                                                || members.Values.Count(x => x.AwaitingJoin) < options.ClassicGroupMaxSize,
        _ => members.ContainsKey(memberId) || members.Count < options.ClassicGroupMaxSize,
    };

    private bool SupportsProtocols(string protocolType, JoinGroupProtocol[] protocols)
    {
        if (State == ClassicGroupState.Empty && members.Count == 0)
        {
            return protocolType.Length > 0 && protocols.Length > 0;
        }

        return string.Equals(ProtocolType, protocolType, StringComparison.Ordinal)
               && protocols.Any(p => members.Values.All(m => m.Supports(p.Name)));
    }

    private Task<JoinGroupResponse> JoinNewMember(JoinGroupRequest request, long nowMs)
    {
        if (!SupportsProtocols(request.ProtocolType, request.Protocols))
        {
            return Done(JoinError(ErrorCode.InconsistentGroupProtocol, string.Empty,
                $"Protocol type '{request.ProtocolType}' with protocols [{string.Join(", ", request.Protocols.Select(p => p.Name))}] does not match group '{GroupId}' ({ProtocolType}, protocols its members all support)."));
        }

        var newId = $"{request.GroupInstanceId ?? request.ClientId ?? string.Empty}-{Guid.NewGuid()}";
        if (request.GroupInstanceId is { } instance)
        {
            return staticMembers.TryGetValue(instance, out var existing)
                ? ReplaceStaticMember(request, existing, newId, nowMs)
                : AddMember(request, newId, nowMs);
        }

        if (request.RequireKnownMemberId)
        {
            pendingMembers[newId] = nowMs + request.SessionTimeoutMs;
            return Done(JoinError(ErrorCode.MemberIdRequired, newId, "Join again with this member id."));
        }

        return AddMember(request, newId, nowMs);
    }

    private Task<JoinGroupResponse> JoinExistingMember(JoinGroupRequest request, long nowMs)
    {
        var memberId = request.MemberId;
        if (!SupportsProtocols(request.ProtocolType, request.Protocols))
        {
            return Done(JoinError(ErrorCode.InconsistentGroupProtocol, memberId,
                $"Protocol type '{request.ProtocolType}' with protocols [{string.Join(", ", request.Protocols.Select(p => p.Name))}] does not match group '{GroupId}'."));
        }

        if (pendingMembers.ContainsKey(memberId))
        {
            return AddMember(request, memberId, nowMs);
        }

        var (code, message) = ValidateMember(memberId, request.GroupInstanceId);
        if (code != ErrorCode.None)
        {
            return Done(JoinError(code, memberId, message));
        }

        var member = members[memberId];
        member.ClientId = request.ClientId ?? member.ClientId;
        member.ClientHost = request.ClientHost ?? member.ClientHost;
        switch (State)
        {
            case ClassicGroupState.PreparingRebalance:
                return UpdateMemberThenRebalance(member, request, nowMs);
            case ClassicGroupState.CompletingRebalance:
                // Same metadata: the member missed its join answer; it gets the current generation again.
                return member.Matches(request.Protocols)
                    ? Done(JoinAnswer(member))
                    : UpdateMemberThenRebalance(member, request, nowMs);
            case ClassicGroupState.Stable:
                // The leader joining again forces a rebalance (for changes its metadata does not show, such as new
                // partitions); a follower with unchanged metadata just gets the current generation.
                return member.Id == LeaderId || !member.Matches(request.Protocols)
                    ? UpdateMemberThenRebalance(member, request, nowMs)
                    : Done(JoinAnswer(member, includeMembers: false));
            default:
                return Done(JoinError(ErrorCode.UnknownMemberId, memberId, $"Group '{GroupId}' is {State}; join again without a member id."));
        }
    }

    private JoinGroupResponse JoinAnswer(Member member, bool includeMembers = true) => new()
    {
        MemberId = member.Id,
        GenerationId = GenerationId,
        ProtocolType = ProtocolType,
        ProtocolName = ProtocolName,
        LeaderId = LeaderId ?? string.Empty,
        Members = includeMembers && member.Id == LeaderId ? CurrentMembers() : [],
    };

    private JoinGroupMember[] CurrentMembers() => members.Values.OrderBy(m => m.Order).Select(m => new JoinGroupMember
    {
        MemberId = m.Id,
        GroupInstanceId = m.InstanceId,
        Metadata = m.Metadata(ProtocolName!) ?? [],
    }).ToArray();

    private Task<JoinGroupResponse> AddMember(JoinGroupRequest request, string memberId, long nowMs)
    {
        var member = new Member(memberId, joinOrder++)
        {
            InstanceId = request.GroupInstanceId,
            ClientId = request.ClientId,
            ClientHost = request.ClientHost,
            ProtocolType = request.ProtocolType,
            Protocols = request.Protocols,
            SessionTimeoutMs = request.SessionTimeoutMs,
            RebalanceTimeoutMs = EffectiveRebalanceTimeout(request),
            IsNew = true,
            JoinWaiter = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously),
            HeartbeatDeadlineMs = nowMs + NewMemberJoinTimeoutMs,
        };
        if (State == ClassicGroupState.PreparingRebalance && PreviousState == ClassicGroupState.Empty)
        {
            newMemberAdded = true;
        }

        if (members.Count == 0)
        {
            ProtocolType = request.ProtocolType;
        }

        if (member.InstanceId is { } instance)
        {
            staticMembers[instance] = member.Id;
        }

        LeaderId ??= member.Id;
        members[member.Id] = member;
        pendingMembers.Remove(member.Id);
        var waiter = member.JoinWaiter.Task;
        MaybePrepareRebalanceOrCompleteJoin(nowMs);
        return waiter;
    }

    private Task<JoinGroupResponse> ReplaceStaticMember(JoinGroupRequest request, string oldId, string newId, long nowMs)
    {
        var old = members[oldId];
        members.Remove(oldId);
        pendingSync.Remove(oldId);

        // A duplicate instance still waiting is fenced at once.
        old.JoinWaiter?.TrySetResult(JoinError(ErrorCode.FencedInstanceId, oldId, $"Instance '{request.GroupInstanceId}' joined again with a new member id."));
        old.SyncWaiter?.TrySetResult(SyncError(ErrorCode.FencedInstanceId, $"Instance '{request.GroupInstanceId}' joined again with a new member id."));
        var member = new Member(newId, old.Order)
        {
            InstanceId = old.InstanceId,
            ClientId = request.ClientId ?? old.ClientId,
            ClientHost = request.ClientHost ?? old.ClientHost,
            ProtocolType = old.ProtocolType,
            Protocols = old.Protocols,
            SessionTimeoutMs = old.SessionTimeoutMs,
            RebalanceTimeoutMs = old.RebalanceTimeoutMs,
            Assignment = old.Assignment,
        };
        members[newId] = member;
        staticMembers[request.GroupInstanceId!] = newId;
        var currentLeader = LeaderId;
        if (LeaderId == oldId)
        {
            LeaderId = newId;
        }

        member.HeartbeatDeadlineMs = nowMs + member.SessionTimeoutMs;
        member.Protocols = request.Protocols;
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        member.RebalanceTimeoutMs = EffectiveRebalanceTimeout(request);
        member.JoinWaiter = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = member.JoinWaiter.Task;
        switch (State)
        {
            case ClassicGroupState.Stable when string.Equals(SelectProtocol(), ProtocolName, StringComparison.Ordinal):
                // Same protocol: no rebalance. The member keeps its assignment; it is told the old leader id (as Kafka
                // does for JoinGroup before v9), so it syncs as a follower and gets that assignment back.
                member.JoinWaiter.TrySetResult(new JoinGroupResponse
                {
                    MemberId = newId,
                    GenerationId = GenerationId,
                    ProtocolType = ProtocolType,
                    ProtocolName = ProtocolName,
                    LeaderId = currentLeader ?? string.Empty,
                });
                member.JoinWaiter = null;
                Version++;
                break;
            case ClassicGroupState.Stable:
                MaybePrepareRebalanceOrCompleteJoin(nowMs);
                break;
            case ClassicGroupState.CompletingRebalance:
                PrepareRebalance(nowMs);
                break;
            default:
                MaybeCompleteJoinPhase(nowMs);
                break;
        }

        return waiter;
    }

    private static int EffectiveRebalanceTimeout(JoinGroupRequest request) =>
        request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs;

    private Task<JoinGroupResponse> UpdateMemberThenRebalance(Member member, JoinGroupRequest request, long nowMs)
    {
        member.Protocols = request.Protocols;
        member.RebalanceTimeoutMs = EffectiveRebalanceTimeout(request);
        member.SessionTimeoutMs = request.SessionTimeoutMs;

        // A join repeated while the first still waits replaces it; the first caller is answered now.
        member.JoinWaiter?.TrySetResult(JoinError(ErrorCode.RebalanceInProgress, member.Id, "Replaced by a newer JoinGroup from the same member."));
        member.JoinWaiter = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = member.JoinWaiter.Task;
        MaybePrepareRebalanceOrCompleteJoin(nowMs);
        return waiter;
    }

    private void MaybePrepareRebalanceOrCompleteJoin(long nowMs)
    {
        if (State is ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance or ClassicGroupState.Empty)
        {
            PrepareRebalance(nowMs);
        }
        else
        {
            MaybeCompleteJoinPhase(nowMs);
        }
    }

    private void MaybeCompleteJoinPhase(long nowMs)
    {
        if (State == ClassicGroupState.PreparingRebalance && PreviousState != ClassicGroupState.Empty && HasAllMembersJoined())
        {
            CompleteJoin(nowMs);
        }
    }

    private void PrepareRebalance(long nowMs)
    {
        if (State == ClassicGroupState.CompletingRebalance)
        {
            foreach (var m in members.Values)
            {
                m.Assignment = [];
            }

            PropagateAssignment(ErrorCode.RebalanceInProgress, nowMs);
        }

        pendingSync.Clear();
        syncDeadlineMs = Never;
        var initial = State == ClassicGroupState.Empty;
        if (initial)
        {
            var delay = options.GroupInitialRebalanceDelayMs;
            initialRebalance = (delay, Math.Max(RebalanceTimeoutMs() - delay, 0));
            joinDeadlineMs = nowMs + delay;
        }

        TransitionTo(ClassicGroupState.PreparingRebalance);
        if (!initial)
        {
            if (HasAllMembersJoined())
            {
                CompleteJoin(nowMs);
            }
            else
            {
                initialRebalance = null;
                joinDeadlineMs = nowMs + RebalanceTimeoutMs();
            }
        }
    }

    private void OnJoinDeadline(long nowMs)
    {
        if (State != ClassicGroupState.PreparingRebalance)
        {
            return;
        }

        if (initialRebalance is { } initial && newMemberAdded && initial.RemainingMs != 0)
        {
            // Members keep arriving in the first rebalance: wait another delay, within the rebalance timeout.
            newMemberAdded = false;
            var delay = Math.Min(options.GroupInitialRebalanceDelayMs, initial.RemainingMs);
            initialRebalance = (delay, Math.Max(initial.RemainingMs - initial.DelayMs, 0));
            joinDeadlineMs = nowMs + delay;
            return;
        }

        CompleteJoin(nowMs);
    }

    private void CompleteJoin(long nowMs)
    {
        joinDeadlineMs = Never;
        initialRebalance = null;
        newMemberAdded = false;

        // Dynamic members that did not join again are out; static members keep their place.
        foreach (var gone in members.Values.Where(m => !m.AwaitingJoin && m.InstanceId is null).ToList())
        {
            Remove(gone, ErrorCode.UnknownMemberId);
        }

        if (!MaybeElectNewJoinedLeader() && members.Count > 0)
        {
            // Nobody joined: try again after another rebalance timeout (sessions expire the silent ones meanwhile).
            joinDeadlineMs = nowMs + RebalanceTimeoutMs();
            return;
        }

        GenerationId++;
        pendingSync.Clear();
        Version++;
        if (members.Count == 0)
        {
            ProtocolName = null;
            SubscribedTopics = ComputeSubscribedTopics();
            TransitionTo(ClassicGroupState.Empty);
            return;
        }

        ProtocolName = SelectProtocol();
        SubscribedTopics = ComputeSubscribedTopics();
        TransitionTo(ClassicGroupState.CompletingRebalance);
        foreach (var m in members.Values.OrderBy(m => m.Order))
        {
            if (m.JoinWaiter is { } waiter)
            {
                waiter.TrySetResult(JoinAnswer(m));
                m.JoinWaiter = null;
            }

            m.HeartbeatDeadlineMs = nowMs + m.SessionTimeoutMs;
            m.IsNew = false;
            pendingSync.Add(m.Id);
        }

        syncGeneration = GenerationId;
        syncDeadlineMs = nowMs + RebalanceTimeoutMs();
    }

    private bool MaybeElectNewJoinedLeader()
    {
        if (LeaderId is null || !members.TryGetValue(LeaderId, out var leader))
        {
            LeaderId = members.Values.OrderBy(m => m.Order).FirstOrDefault(m => m.AwaitingJoin)?.Id;
            return LeaderId is not null;
        }

        if (leader.AwaitingJoin)
        {
            return true;
        }

        var joined = members.Values.OrderBy(m => m.Order).FirstOrDefault(m => m.AwaitingJoin);
        if (joined is null)
        {
            return false;
        }

        LeaderId = joined.Id;
        return true;
    }

    private void OnSyncDeadline(long nowMs)
    {
        if (syncGeneration != GenerationId || State is not (ClassicGroupState.CompletingRebalance or ClassicGroupState.Stable) || pendingSync.Count == 0)
        {
            return;
        }

        // Members that joined but never synced within the rebalance timeout are out; the rest rebalance.
        foreach (var id in pendingSync.ToList())
        {
            if (members.TryGetValue(id, out var m))
            {
                Remove(m, ErrorCode.UnknownMemberId);
            }
        }

        PrepareRebalance(nowMs);
    }

    private void RemovePendingSync(string memberId)
    {
        pendingSync.Remove(memberId);
        if (pendingSync.Count == 0)
        {
            syncDeadlineMs = Never;
        }
    }

    private void PropagateAssignment(ErrorCode error, long nowMs)
    {
        foreach (var m in members.Values)
        {
            if (m.SyncWaiter is { } waiter)
            {
                waiter.TrySetResult(new SyncGroupResponse
                {
                    Error = error,
                    ErrorMessage = error == ErrorCode.None ? null : $"Group '{GroupId}' is rebalancing; join again.",
                    ProtocolType = error == ErrorCode.None ? ProtocolType : null,
                    ProtocolName = error == ErrorCode.None ? ProtocolName : null,
                    Assignment = m.Assignment,
                });
                m.SyncWaiter = null;
                m.HeartbeatDeadlineMs = nowMs + m.SessionTimeoutMs;
            }
        }
    }

    private void RemoveAndUpdate(Member member, long nowMs)
    {
        Remove(member, ErrorCode.UnknownMemberId);
        if (State is ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance)
        {
            MaybePrepareRebalanceOrCompleteJoin(nowMs);
        }
        else if (State == ClassicGroupState.PreparingRebalance && HasAllMembersJoined())
        {
            CompleteJoin(nowMs);
        }
    }

    /// <summary>Removes a member; a join or sync it still waits for is answered with <paramref name="error"/>.</summary>
    private void Remove(Member member, ErrorCode error)
    {
        member.JoinWaiter?.TrySetResult(JoinError(error, string.Empty, $"Member '{member.Id}' was removed from group '{GroupId}'."));
        member.JoinWaiter = null;
        member.SyncWaiter?.TrySetResult(SyncError(error, $"Member '{member.Id}' was removed from group '{GroupId}'."));
        member.SyncWaiter = null;
        members.Remove(member.Id);
        if (member.InstanceId is { } instance)
        {
            staticMembers.Remove(instance);
        }

        if (LeaderId == member.Id)
        {
            LeaderId = members.Values.OrderBy(m => m.Order).FirstOrDefault()?.Id;
        }

        pendingMembers.Remove(member.Id);
        pendingSync.Remove(member.Id);
    }

    private bool HasAllMembersJoined() => pendingMembers.Count == 0 && members.Values.All(m => m.AwaitingJoin);

    private (ErrorCode Code, string? Message) ValidateMember(string memberId, string? instanceId)
    {
        if (instanceId is not null)
        {
            if (!staticMembers.TryGetValue(instanceId, out var existing))
            {
                return (ErrorCode.UnknownMemberId, $"No member of group '{GroupId}' has instance id '{instanceId}'.");
            }

            if (!string.Equals(existing, memberId, StringComparison.Ordinal))
            {
                return (ErrorCode.FencedInstanceId, $"Instance '{instanceId}' is member '{existing}' now, not '{memberId}'.");
            }
        }

        return members.ContainsKey(memberId)
            ? (ErrorCode.None, null)
            : (ErrorCode.UnknownMemberId, $"Member '{memberId}' is not in group '{GroupId}'; join again.");
    }

    /// <summary>The protocol every member supports that most members prefer (Kafka's vote); ties go to the
    /// oldest member's preference.</summary>
    private string SelectProtocol()
    {
        var ordered = members.Values.OrderBy(m => m.Order).ToList();
        var candidates = ordered[0].Protocols.Select(p => p.Name).Where(n => ordered.All(m => m.Supports(n))).ToHashSet(StringComparer.Ordinal);
        var votes = ordered.Select(m => m.Protocols.First(p => candidates.Contains(p.Name)).Name).ToList();
        return votes.GroupBy(v => v, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => votes.IndexOf(g.Key))
            .First().Key;
    }

    private HashSet<string>? ComputeSubscribedTopics()
    {
        if (!string.Equals(ProtocolType, ConsumerProtocolType, StringComparison.Ordinal))
        {
            return null;
        }

        if (members.Count == 0)
        {
            return [];
        }

        if (ProtocolName is null)
        {
            return null;
        }

        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in members.Values)
        {
            if (ConsumerProtocol.Topics(ProtocolType, m.Metadata(ProtocolName)) is not { } topics)
            {
                return null;
            }

            all.UnionWith(topics);
        }

        return all;
    }

    private void TransitionTo(ClassicGroupState state)
    {
        PreviousState = State;
        State = state;
    }

    private sealed class Member(string id, long order)
    {
        public string Id { get; } = id;

        /// <summary>Join order: the leader falls to the oldest member, and members are listed in it.</summary>
        public long Order { get; } = order;

        public string? InstanceId { get; init; }

        public string? ClientId { get; set; }

        public string? ClientHost { get; set; }

        public string ProtocolType { get; init; } = string.Empty;

        public JoinGroupProtocol[] Protocols { get; set; } = [];

        public int SessionTimeoutMs { get; set; }

        public int RebalanceTimeoutMs { get; set; }

        public byte[] Assignment { get; set; } = [];

        public bool IsNew { get; set; }

        public long HeartbeatDeadlineMs { get; set; } = Never;

        public TaskCompletionSource<JoinGroupResponse>? JoinWaiter { get; set; }

        public TaskCompletionSource<SyncGroupResponse>? SyncWaiter { get; set; }

        public bool AwaitingJoin => JoinWaiter is not null;

        /// <summary>Kafka's rule: a member waiting for a join or sync answer needs no heartbeat, unless it is new.</summary>
        public bool HasSatisfiedHeartbeat => !IsNew && (JoinWaiter is not null || SyncWaiter is not null);

        public bool Supports(string protocol) => Protocols.Any(p => p.Name == protocol);

        public byte[]? Metadata(string protocol) => Protocols.FirstOrDefault(p => p.Name == protocol)?.Metadata;

        public bool Matches(JoinGroupProtocol[] protocols) =>
            protocols.Length == Protocols.Length
            && protocols.Zip(Protocols).All(x => x.First.Name == x.Second.Name && x.First.Metadata.AsSpan().SequenceEqual(x.Second.Metadata));
    }
}

/// <summary>A classic group as persisted (see <see cref="ClassicGroupCoordinator.Snapshot"/>).</summary>
[GenerateSerializer]
[Alias("broker.ClassicGroupSnapshot")]
public sealed class ClassicGroupSnapshot
{
    [Id(0)] public int GenerationId { get; set; }

    [Id(1)] public string? ProtocolType { get; set; }

    [Id(2)] public string? ProtocolName { get; set; }

    [Id(3)] public string? LeaderId { get; set; }

    [Id(4)] public List<ClassicGroupMemberRecord> Members { get; set; } = [];
}

/// <summary>One classic member as persisted: its metadata for the chosen protocol and its assignment.</summary>
[GenerateSerializer]
[Alias("broker.ClassicGroupMemberRecord")]
public sealed class ClassicGroupMemberRecord
{
    [Id(0)] public string MemberId { get; set; } = string.Empty;

    [Id(1)] public string? InstanceId { get; set; }

    [Id(2)] public string? ClientId { get; set; }

    [Id(3)] public string? ClientHost { get; set; }

    [Id(4)] public string ProtocolType { get; set; } = string.Empty;

    [Id(5)] public int SessionTimeoutMs { get; set; }

    [Id(6)] public int RebalanceTimeoutMs { get; set; }

    [Id(7)] public byte[] Metadata { get; set; } = [];

    [Id(8)] public byte[] Assignment { get; set; } = [];
}

/// <summary>Reads the topics of Kafka's ConsumerProtocolSubscription (the "consumer" protocol's metadata): a version,
/// then the topic list, which every version (0-3) starts with.</summary>
public static class ConsumerProtocol
{
    /// <summary>The subscribed topics, or null when <paramref name="protocolType"/> is not "consumer" or the bytes do not parse.</summary>
    public static string[]? Topics(string? protocolType, byte[]? metadata)
    {
        if (!string.Equals(protocolType, ClassicGroupCoordinator.ConsumerProtocolType, StringComparison.Ordinal) || metadata is null)
        {
            return null;
        }

        var span = metadata.AsSpan();
        if (span.Length < 6 || System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(span) < 0)
        {
            return null;
        }

        var count = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(span[2..]);
        var at = 6;
        if (count < 0 || count > (span.Length - at) / 2)
        {
            return null;
        }

        var topics = new string[count];
        for (var i = 0; i < count; i++)
        {
            if (span.Length - at < 2)
            {
                return null;
            }

            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(span[at..]);
            at += 2;
            if (length < 0 || span.Length - at < length)
            {
                return null;
            }

            topics[i] = System.Text.Encoding.UTF8.GetString(span.Slice(at, length));
            at += length;
        }

        return topics;
    }
}
