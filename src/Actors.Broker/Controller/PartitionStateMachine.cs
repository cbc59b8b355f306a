namespace Actors.Broker.Controller;

/// <summary>
/// The controller's decisions on one partition's replication state, as pure functions of the current
/// <see cref="PartitionState"/> and which silos are alive. Every change bumps the partition epoch; a change of
/// leader also bumps the leader epoch. With unclean election off, only an in-sync replica can lead; when no
/// in-sync replica is alive the partition goes offline and keeps its last ISR, so the first of those
/// replicas to return leads again with nothing lost.
/// </summary>
public static class PartitionStateMachine
{
    /// <summary>Applies a change of liveness: dead replicas leave the ISR; a dead (or missing) leader is replaced
    /// by the first live in-sync replica in assignment order; an offline partition whose ISR member is back
    /// gets it as leader. Returns <paramref name="state"/> itself when nothing changes.</summary>
    public static PartitionState OnLivenessChanged(PartitionState state, Func<string, bool> isLive, bool uncleanLeaderElection = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(isLive);
        var liveIsr = state.Isr.Where(isLive).ToArray();
        if (state.Leader is not null && isLive(state.Leader))
        {
            // Leader stays; dead followers leave the ISR.
            return liveIsr.Length == state.Isr.Length
                ? state
                : state.With(state.Leader, state.LeaderEpoch, liveIsr, state.PartitionEpoch + 1);
        }

        var candidate = state.Replicas.FirstOrDefault(r => liveIsr.Contains(r, StringComparer.Ordinal));
        if (candidate is not null)
        {
            return state.With(candidate, state.LeaderEpoch + 1, liveIsr, state.PartitionEpoch + 1);
        }

        if (uncleanLeaderElection)
        {
            var anyLive = state.Replicas.FirstOrDefault(isLive);
            if (anyLive is not null)
            {
                return state.With(anyLive, state.LeaderEpoch + 1, [anyLive], state.PartitionEpoch + 1);
            }
        }

        // Offline: keep the last ISR so that only one of its members can lead again.
        return state.Leader is null
            ? state
            : state.With(null, state.LeaderEpoch + 1, state.Isr, state.PartitionEpoch + 1);
    }

    /// <summary>Kafka's preferred-leader election: moves leadership to the first assigned replica when it is
    /// alive, in sync and not already leading; otherwise returns <paramref name="state"/>.</summary>
    public static PartitionState ElectPreferred(PartitionState state, Func<string, bool> isLive)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(isLive);
        var preferred = state.PreferredLeader;
        if (preferred.Length == 0
            || string.Equals(state.Leader, preferred, StringComparison.Ordinal)
            || !isLive(preferred)
            || !state.Isr.Contains(preferred, StringComparer.Ordinal))
        {
            return state;
        }

        return state.With(preferred, state.LeaderEpoch + 1, state.Isr, state.PartitionEpoch + 1);
    }

    /// <summary>True when the partition's leader is not its preferred replica although the preferred one could lead.</summary>
    public static bool IsImbalanced(PartitionState state, Func<string, bool> isLive) =>
        !ReferenceEquals(ElectPreferred(state, isLive), state);

    /// <summary>Controlled shutdown of <paramref name="silo"/>: if it leads, leadership moves to another live
    /// in-sync replica; it leaves the ISR unless it is the only member left. Returns the state unchanged
    /// when the silo leads and no other replica can take over.</summary>
    public static PartitionState OnControlledShutdown(PartitionState state, string silo, Func<string, bool> isLive)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(isLive);
        if (!state.Replicas.Contains(silo, StringComparer.Ordinal))
        {
            return state;
        }

        var remainingIsr = state.Isr.Where(r => !string.Equals(r, silo, StringComparison.Ordinal)).ToArray();
        if (string.Equals(state.Leader, silo, StringComparison.Ordinal))
        {
            var candidate = state.Replicas.FirstOrDefault(r =>
                !string.Equals(r, silo, StringComparison.Ordinal) && isLive(r) && remainingIsr.Contains(r, StringComparer.Ordinal));
            return candidate is null
                ? state
                : state.With(candidate, state.LeaderEpoch + 1, remainingIsr, state.PartitionEpoch + 1);
        }

        if (remainingIsr.Length == state.Isr.Length || remainingIsr.Length == 0)
        {
            return state;
        }

        return state.With(state.Leader, state.LeaderEpoch, remainingIsr, state.PartitionEpoch + 1);
    }

    /// <summary>Validates and applies a leader's ISR change (Kafka's AlterPartition). Throws a
    /// <see cref="BrokerException"/>: NOT_LEADER_OR_FOLLOWER from a silo that is not the leader, FENCED_LEADER_EPOCH
    /// from an older leader epoch, INVALID_UPDATE_VERSION when the partition epoch is not the current one,
    /// INVALID_REQUEST when the ISR lacks the leader or names a non-replica, INELIGIBLE_REPLICA when it adds a
    /// silo that is not alive.</summary>
    public static PartitionState AlterIsr(PartitionState state, AlterPartitionRequest request, Func<string, bool> isLive)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(isLive);
        if (request.LeaderEpoch < state.LeaderEpoch)
        {
            throw new BrokerException(ErrorCode.FencedLeaderEpoch,
                $"ISR change for {state.TopicPartition} from leader epoch {request.LeaderEpoch} refused: the current leader epoch is {state.LeaderEpoch}.");
        }

        if (request.LeaderEpoch > state.LeaderEpoch)
        {
            throw new BrokerException(ErrorCode.UnknownLeaderEpoch,
                $"ISR change for {state.TopicPartition} names leader epoch {request.LeaderEpoch}, newer than the controller's {state.LeaderEpoch}.");
        }

        if (!string.Equals(request.Leader, state.Leader, StringComparison.Ordinal))
        {
            throw new BrokerException(ErrorCode.NotLeaderOrFollower,
                $"ISR change for {state.TopicPartition} from '{request.Leader}' refused: the leader is '{state.Leader ?? "none"}'.");
        }

        if (request.PartitionEpoch != state.PartitionEpoch)
        {
            throw new BrokerException(ErrorCode.InvalidUpdateVersion,
                $"ISR change for {state.TopicPartition} is based on partition epoch {request.PartitionEpoch}; the current one is {state.PartitionEpoch}.");
        }

        var newIsr = request.NewIsr.Distinct(StringComparer.Ordinal).ToArray();
        if (!newIsr.Contains(state.Leader, StringComparer.Ordinal))
        {
            throw new BrokerException(ErrorCode.InvalidRequest,
                $"The new ISR [{string.Join(',', newIsr)}] of {state.TopicPartition} does not contain the leader '{state.Leader}'.");
        }

        var stranger = newIsr.FirstOrDefault(r => !state.Replicas.Contains(r, StringComparer.Ordinal));
        if (stranger is not null)
        {
            throw new BrokerException(ErrorCode.InvalidRequest,
                $"The new ISR of {state.TopicPartition} names '{stranger}', which is not one of its replicas [{string.Join(',', state.Replicas)}].");
        }

        var deadAdded = newIsr.FirstOrDefault(r => !state.Isr.Contains(r, StringComparer.Ordinal) && !isLive(r));
        if (deadAdded is not null)
        {
            throw new BrokerException(ErrorCode.IneligibleReplica,
                $"The new ISR of {state.TopicPartition} adds '{deadAdded}', which is not alive.");
        }

        // Keep assignment order so that ISR listings read the same everywhere.
        var ordered = state.Replicas.Where(r => newIsr.Contains(r, StringComparer.Ordinal)).ToArray();
        return state.With(state.Leader, state.LeaderEpoch, ordered, state.PartitionEpoch + 1);
    }
}
