using System.Collections.Frozen;
using System.Text;

namespace Actors.Broker;

/// <summary>What the table says of one <see cref="ErrorCode"/>.</summary>
/// <param name="Code">The code.</param>
/// <param name="KafkaName">The name in Kafka's table, e.g. <c>NOT_ENOUGH_REPLICAS</c>.</param>
/// <param name="Retriable">True when the same request can succeed if sent again later
/// (after a metadata refresh, a leader election or a rebalance).</param>
/// <param name="DefaultMessage">A sentence for users when nothing more specific is known.</param>
public sealed record ErrorCodeInfo(ErrorCode Code, string KafkaName, bool Retriable, string DefaultMessage);

/// <summary>
/// The error table: for each <see cref="ErrorCode"/> its Kafka name, whether it is retriable and a
/// default message. Retriable flags follow Kafka's (an error is retriable where Kafka's exception
/// for it is a <c>RetriableException</c>).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public static class ErrorCodes
{
    private static readonly FrozenDictionary<ErrorCode, ErrorCodeInfo> Table = Build();

    /// <summary>Every code in the table, in numeric order.</summary>
    public static IReadOnlyList<ErrorCodeInfo> All { get; } =
        Table.Values.OrderBy(i => (short)i.Code).ToArray();

    /// <summary>The table entry of <paramref name="code"/>; an unknown number gives the
    /// <see cref="ErrorCode.UnknownServerError"/> entry (as old Kafka clients do).</summary>
    public static ErrorCodeInfo Info(this ErrorCode code) =>
        Table.TryGetValue(code, out var info) ? info : Table[ErrorCode.UnknownServerError];

    public static bool IsRetriable(this ErrorCode code) => code.Info().Retriable;

    public static string KafkaName(this ErrorCode code) => code.Info().KafkaName;

    public static string DefaultMessage(this ErrorCode code) => code.Info().DefaultMessage;

    /// <summary>The code whose Kafka name is <paramref name="kafkaName"/> (e.g. "NOT_ENOUGH_REPLICAS"), if any.</summary>
    public static bool TryParseKafkaName(string kafkaName, out ErrorCode code)
    {
        foreach (var info in All)
        {
            if (string.Equals(info.KafkaName, kafkaName, StringComparison.Ordinal))
            {
                code = info.Code;
                return true;
            }
        }

        code = ErrorCode.UnknownServerError;
        return false;
    }

    /// <summary>Converts a C# member name ("NotEnoughReplicas") to Kafka's style ("NOT_ENOUGH_REPLICAS").</summary>
    internal static string ToKafkaName(string memberName)
    {
        var sb = new StringBuilder(memberName.Length + 8);
        for (var i = 0; i < memberName.Length; i++)
        {
            var c = memberName[i];
            if (i > 0 && char.IsUpper(c))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(c));
        }

        return sb.ToString();
    }

    private static FrozenDictionary<ErrorCode, ErrorCodeInfo> Build()
    {
        var retriable = new HashSet<ErrorCode>
        {
            ErrorCode.CorruptMessage,
            ErrorCode.UnknownTopicOrPartition,
            ErrorCode.LeaderNotAvailable,
            ErrorCode.NotLeaderOrFollower,
            ErrorCode.RequestTimedOut,
            ErrorCode.ReplicaNotAvailable,
            ErrorCode.NetworkException,
            ErrorCode.CoordinatorLoadInProgress,
            ErrorCode.CoordinatorNotAvailable,
            ErrorCode.NotCoordinator,
            ErrorCode.NotEnoughReplicas,
            ErrorCode.NotEnoughReplicasAfterAppend,
            ErrorCode.NotController,
            ErrorCode.ConcurrentTransactions,
            ErrorCode.KafkaStorageError,
            ErrorCode.FetchSessionIdNotFound,
            ErrorCode.InvalidFetchSessionEpoch,
            ErrorCode.ListenerNotFound,
            ErrorCode.FencedLeaderEpoch,
            ErrorCode.UnknownLeaderEpoch,
            ErrorCode.OffsetNotAvailable,
            ErrorCode.PreferredLeaderNotAvailable,
            ErrorCode.EligibleLeadersNotAvailable,
            ErrorCode.ElectionNotNeeded,
            ErrorCode.UnstableOffsetCommit,
            ErrorCode.ThrottlingQuotaExceeded,
            ErrorCode.UnknownTopicId,
            ErrorCode.InconsistentTopicId,
            ErrorCode.FetchSessionTopicIdError,
        };

        var messages = new Dictionary<ErrorCode, string>
        {
            [ErrorCode.UnknownServerError] = "The server met an unexpected error while processing the request.",
            [ErrorCode.None] = "No error.",
            [ErrorCode.OffsetOutOfRange] = "The requested offset is outside the range of offsets the partition holds.",
            [ErrorCode.CorruptMessage] = "A record batch failed its CRC check, exceeds the valid size or is otherwise corrupt.",
            [ErrorCode.UnknownTopicOrPartition] = "The topic or partition does not exist on this cluster.",
            [ErrorCode.InvalidFetchSize] = "The requested fetch size is invalid.",
            [ErrorCode.LeaderNotAvailable] = "The partition has no leader at the moment (an election is in progress or no in-sync replica is alive).",
            [ErrorCode.NotLeaderOrFollower] = "This replica is not the leader (or not a follower) of the partition.",
            [ErrorCode.RequestTimedOut] = "The request timed out.",
            [ErrorCode.BrokerNotAvailable] = "The silo is not available.",
            [ErrorCode.ReplicaNotAvailable] = "The replica is not available for the requested partition.",
            [ErrorCode.MessageTooLarge] = "A record batch is larger than the largest the server accepts (max.message.bytes).",
            [ErrorCode.StaleControllerEpoch] = "The request came from a controller that is no longer current.",
            [ErrorCode.OffsetMetadataTooLarge] = "The metadata of the committed offset is too large.",
            [ErrorCode.NetworkException] = "The connection closed before a response was received.",
            [ErrorCode.CoordinatorLoadInProgress] = "The coordinator is loading its state and cannot answer yet.",
            [ErrorCode.CoordinatorNotAvailable] = "The group coordinator is not available.",
            [ErrorCode.NotCoordinator] = "This is not the coordinator of the group.",
            [ErrorCode.InvalidTopicException] = "The topic name or request is invalid.",
            [ErrorCode.RecordListTooLarge] = "The batch of records is larger than the segment size allows (segment.bytes).",
            [ErrorCode.NotEnoughReplicas] = "Fewer in-sync replicas than min.insync.replicas: the records were not written.",
            [ErrorCode.NotEnoughReplicasAfterAppend] = "The records were written to the leader but fewer in-sync replicas than min.insync.replicas acknowledged them.",
            [ErrorCode.InvalidRequiredAcks] = "acks must be 0, 1 or -1 (all).",
            [ErrorCode.IllegalGeneration] = "The generation given is not the group's current generation.",
            [ErrorCode.InconsistentGroupProtocol] = "The member's protocol does not match the group's.",
            [ErrorCode.InvalidGroupId] = "The group id is empty or invalid.",
            [ErrorCode.UnknownMemberId] = "The member id is not known to the group.",
            [ErrorCode.InvalidSessionTimeout] = "The session timeout is outside the range the server allows.",
            [ErrorCode.RebalanceInProgress] = "The group is rebalancing.",
            [ErrorCode.InvalidCommitOffsetSize] = "The committed offset is invalid.",
            [ErrorCode.TopicAuthorizationFailed] = "Not authorized to access the topic.",
            [ErrorCode.GroupAuthorizationFailed] = "Not authorized to access the group.",
            [ErrorCode.ClusterAuthorizationFailed] = "Not authorized for this cluster operation.",
            [ErrorCode.InvalidTimestamp] = "The timestamp of a record is outside the accepted range.",
            [ErrorCode.UnsupportedSaslMechanism] = "The SASL mechanism is not supported.",
            [ErrorCode.IllegalSaslState] = "The request is not valid in the current SASL state.",
            [ErrorCode.UnsupportedVersion] = "The version of this request is not supported.",
            [ErrorCode.TopicAlreadyExists] = "A topic with this name already exists.",
            [ErrorCode.InvalidPartitions] = "The number of partitions is invalid.",
            [ErrorCode.InvalidReplicationFactor] = "The replication factor is invalid.",
            [ErrorCode.InvalidReplicaAssignment] = "The replica assignment is invalid.",
            [ErrorCode.InvalidConfig] = "A configuration value is invalid.",
            [ErrorCode.NotController] = "This is not the active controller.",
            [ErrorCode.InvalidRequest] = "The request is malformed or inconsistent.",
            [ErrorCode.UnsupportedForMessageFormat] = "The message format of the topic does not support this request.",
            [ErrorCode.PolicyViolation] = "The request violates a policy of the cluster.",
            [ErrorCode.OutOfOrderSequenceNumber] = "The broker received a batch with a sequence number out of order (a gap after the last one it appended).",
            [ErrorCode.DuplicateSequenceNumber] = "The broker received a duplicate sequence number.",
            [ErrorCode.InvalidProducerEpoch] = "The producer's epoch is older than the current one: another producer with the same id has taken over.",
            [ErrorCode.InvalidTxnState] = "The producer attempted a transactional operation in an invalid state.",
            [ErrorCode.InvalidProducerIdMapping] = "The producer id is not mapped to this transactional id.",
            [ErrorCode.InvalidTransactionTimeout] = "The transaction timeout is larger than the maximum allowed.",
            [ErrorCode.ConcurrentTransactions] = "Another transaction is in progress for this transactional id.",
            [ErrorCode.TransactionCoordinatorFenced] = "The transaction coordinator is no longer current.",
            [ErrorCode.TransactionalIdAuthorizationFailed] = "Not authorized for the transactional id.",
            [ErrorCode.SecurityDisabled] = "Security features are disabled.",
            [ErrorCode.OperationNotAttempted] = "The operation was not attempted because another in the same request failed.",
            [ErrorCode.KafkaStorageError] = "A disk error occurred while accessing the replica's log.",
            [ErrorCode.LogDirNotFound] = "The log directory is not found in the silo's configuration.",
            [ErrorCode.SaslAuthenticationFailed] = "SASL authentication failed.",
            [ErrorCode.UnknownProducerId] = "The producer id is not known to the partition (its state may have been removed by retention).",
            [ErrorCode.ReassignmentInProgress] = "A partition reassignment is in progress.",
            [ErrorCode.DelegationTokenAuthDisabled] = "Delegation token authentication is disabled.",
            [ErrorCode.DelegationTokenNotFound] = "The delegation token is not found.",
            [ErrorCode.DelegationTokenOwnerMismatch] = "The principal does not own the delegation token.",
            [ErrorCode.DelegationTokenRequestNotAllowed] = "Delegation token requests are not allowed on this channel.",
            [ErrorCode.DelegationTokenAuthorizationFailed] = "Not authorized for the delegation token.",
            [ErrorCode.DelegationTokenExpired] = "The delegation token has expired.",
            [ErrorCode.InvalidPrincipalType] = "The principal type is not supported.",
            [ErrorCode.NonEmptyGroup] = "The group has active members.",
            [ErrorCode.GroupIdNotFound] = "The group does not exist.",
            [ErrorCode.FetchSessionIdNotFound] = "The fetch session is not found.",
            [ErrorCode.InvalidFetchSessionEpoch] = "The fetch session epoch is invalid.",
            [ErrorCode.ListenerNotFound] = "There is no listener of this name on the leader.",
            [ErrorCode.TopicDeletionDisabled] = "Topic deletion is disabled.",
            [ErrorCode.FencedLeaderEpoch] = "The leader epoch in the request is older than the replica's current one.",
            [ErrorCode.UnknownLeaderEpoch] = "The leader epoch in the request is newer than the replica's current one.",
            [ErrorCode.UnsupportedCompressionType] = "The compression type is not supported by the requester.",
            [ErrorCode.StaleBrokerEpoch] = "The silo's epoch is no longer current.",
            [ErrorCode.OffsetNotAvailable] = "The leader's high watermark has not caught up with a recent election; retry.",
            [ErrorCode.MemberIdRequired] = "The group member needs a member id to join.",
            [ErrorCode.PreferredLeaderNotAvailable] = "The preferred leader is not available.",
            [ErrorCode.GroupMaxSizeReached] = "The group has reached its largest allowed size.",
            [ErrorCode.FencedInstanceId] = "Another member with the same group.instance.id has joined.",
            [ErrorCode.EligibleLeadersNotAvailable] = "No eligible leader is available for the partition.",
            [ErrorCode.ElectionNotNeeded] = "The leader election is not needed.",
            [ErrorCode.NoReassignmentInProgress] = "No partition reassignment is in progress.",
            [ErrorCode.GroupSubscribedToTopic] = "The group is subscribed to the topic: its offsets cannot be deleted.",
            [ErrorCode.InvalidRecord] = "A record failed validation on the broker.",
            [ErrorCode.UnstableOffsetCommit] = "There are unstable offsets for the partition that must be cleared first.",
            [ErrorCode.ThrottlingQuotaExceeded] = "The throttling quota has been exceeded.",
            [ErrorCode.ProducerFenced] = "A newer producer with the same transactional id has fenced this one.",
            [ErrorCode.ResourceNotFound] = "The resource does not exist.",
            [ErrorCode.DuplicateResource] = "The resource is given more than once.",
            [ErrorCode.UnacceptableCredential] = "The credential is not acceptable.",
            [ErrorCode.InconsistentVoterSet] = "The voter set is inconsistent.",
            [ErrorCode.InvalidUpdateVersion] = "The update version is invalid.",
            [ErrorCode.FeatureUpdateFailed] = "The feature update failed.",
            [ErrorCode.PrincipalDeserializationFailure] = "The principal could not be deserialized.",
            [ErrorCode.SnapshotNotFound] = "The snapshot is not found.",
            [ErrorCode.PositionOutOfRange] = "The position is outside the snapshot.",
            [ErrorCode.UnknownTopicId] = "The topic id is not known.",
            [ErrorCode.DuplicateBrokerRegistration] = "The silo registration is a duplicate.",
            [ErrorCode.BrokerIdNotRegistered] = "The silo is not registered.",
            [ErrorCode.InconsistentTopicId] = "The topic id does not match the topic's id on the replica.",
            [ErrorCode.InconsistentClusterId] = "The cluster id does not match.",
            [ErrorCode.TransactionalIdNotFound] = "The transactional id is not found.",
            [ErrorCode.FetchSessionTopicIdError] = "The fetch session met a topic id error.",
            [ErrorCode.IneligibleReplica] = "The new ISR contains at least one ineligible replica.",
            [ErrorCode.NewLeaderElected] = "A new leader was elected while the request was in flight.",
            [ErrorCode.OffsetMovedToTieredStorage] = "The requested offset has moved to tiered storage.",
            [ErrorCode.FencedMemberEpoch] = "The member epoch is fenced by the group coordinator: the member must rejoin with epoch 0.",
            [ErrorCode.UnreleasedInstanceId] = "The group.instance.id is still used by another member.",
            [ErrorCode.UnsupportedAssignor] = "The assignor is not supported by the group.",
            [ErrorCode.StaleMemberEpoch] = "The member epoch is stale: the member must retry with its current epoch.",
        };

        var table = new Dictionary<ErrorCode, ErrorCodeInfo>();
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            table[code] = new ErrorCodeInfo(
                code,
                ToKafkaName(code.ToString()),
                retriable.Contains(code),
                messages.TryGetValue(code, out var m) ? m : code.ToString());
        }

        return table.ToFrozenDictionary();
    }
}
