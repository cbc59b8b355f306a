using System.Buffers;
using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using BrokerJoinGroupRequest = Actors.Broker.JoinGroupRequest;
using BrokerLeaveGroupRequest = Actors.Broker.LeaveGroupRequest;
using BrokerSyncGroupRequest = Actors.Broker.SyncGroupRequest;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with client-side assignment: the
/// members' protocol metadata and the leader's assignments are relayed unchanged. Also DescribeGroups, ListGroups and
/// OffsetDelete, which answer for groups of either protocol alike.
/// </summary>
internal sealed partial class GroupApis
{
    /// <summary>JoinGroup v4+ makes a new member learn its id first (MEMBER_ID_REQUIRED), then join with it.</summary>
    private const short FirstVersionRequiringMemberId = 4;

    public async Task<byte[]?> JoinGroupAsync(KafkaRequest request)
    {
        var asked = request.Read<JoinGroupRequestData>();
        JoinGroupResponse? answer = null;
        var error = !await MayReadGroupAsync(request, asked.GroupId).ConfigureAwait(false) ? ErrorCode.GroupAuthorizationFailed : await GroupErrorAsync(async () =>
        {
            answer = await broker.Group(asked.GroupId).JoinGroupAsync(new BrokerJoinGroupRequest
            {
                MemberId = asked.MemberId,
                GroupInstanceId = asked.GroupInstanceId,
                ProtocolType = asked.ProtocolType,
                Protocols = asked.Protocols.Select(p => new JoinGroupProtocol { Name = p.Name, Metadata = p.Metadata }).ToArray(),
                SessionTimeoutMs = asked.SessionTimeoutMs,
                // Before v1 the rebalance timeout is the session timeout.
                RebalanceTimeoutMs = request.Version >= 1 ? asked.RebalanceTimeoutMs : asked.SessionTimeoutMs,
                RequireKnownMemberId = request.Version >= FirstVersionRequiringMemberId,
                ClientId = request.Header.ClientId,
                ClientHost = request.ClientHost,
                Reason = asked.Reason,
            }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        var response = new JoinGroupResponseData { ErrorCode = (short)error, GenerationId = -1, Leader = string.Empty, MemberId = asked.MemberId };
        if (answer is not null)
        {
            response.GenerationId = answer.GenerationId;
            response.ProtocolType = answer.ProtocolType;
            // Before v7 the protocol name may not be null.
            response.ProtocolName = answer.ProtocolName ?? (request.Version >= 7 ? null : string.Empty);
            response.Leader = answer.LeaderId;
            response.SkipAssignment = answer.SkipAssignment;
            response.MemberId = answer.MemberId;
            response.Members = answer.Members.Select(m => new JoinGroupResponseData.JoinGroupResponseMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                Metadata = m.Metadata,
            }).ToList();
        }

        return request.Respond(response);
    }

    public async Task<byte[]?> SyncGroupAsync(KafkaRequest request)
    {
        var asked = request.Read<SyncGroupRequestData>();
        SyncGroupResponse? answer = null;
        var error = !await MayReadGroupAsync(request, asked.GroupId).ConfigureAwait(false) ? ErrorCode.GroupAuthorizationFailed : await GroupErrorAsync(async () =>
        {
            answer = await broker.Group(asked.GroupId).SyncGroupAsync(new BrokerSyncGroupRequest
            {
                MemberId = asked.MemberId,
                GenerationId = asked.GenerationId,
                GroupInstanceId = asked.GroupInstanceId,
                ProtocolType = asked.ProtocolType,
                ProtocolName = asked.ProtocolName,
                Assignments = asked.Assignments.Select(a => new SyncGroupAssignment { MemberId = a.MemberId, Assignment = a.Assignment }).ToArray(),
            }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        var response = new SyncGroupResponseData { ErrorCode = (short)error };
        if (answer is not null)
        {
            response.ProtocolType = answer.ProtocolType;
            response.ProtocolName = answer.ProtocolName;
            response.Assignment = answer.Assignment;
        }

        return request.Respond(response);
    }

    public async Task<byte[]?> HeartbeatAsync(KafkaRequest request)
    {
        var asked = request.Read<HeartbeatRequestData>();
        var error = !await MayReadGroupAsync(request, asked.GroupId).ConfigureAwait(false) ? ErrorCode.GroupAuthorizationFailed : await GroupErrorAsync(async () =>
        {
            var answer = await broker.Group(asked.GroupId).ClassicHeartbeatAsync(new ClassicHeartbeatRequest
            {
                MemberId = asked.MemberId,
                GenerationId = asked.GenerationId,
                GroupInstanceId = asked.GroupInstanceId,
            }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        return request.Respond(new HeartbeatResponseData { ErrorCode = (short)error });
    }

    public async Task<byte[]?> LeaveGroupAsync(KafkaRequest request)
    {
        var asked = request.Read<LeaveGroupRequestData>();
        // Before v3 one member leaves, named at the top level.
        var members = request.Version >= 3
            ? asked.Members.Select(m => new LeaveGroupMember { MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, Reason = m.Reason }).ToArray()
            : [new LeaveGroupMember { MemberId = asked.MemberId }];
        LeaveGroupResponse? answer = null;
        var error = !await MayReadGroupAsync(request, asked.GroupId).ConfigureAwait(false) ? ErrorCode.GroupAuthorizationFailed : await GroupErrorAsync(async () =>
        {
            answer = await broker.Group(asked.GroupId).LeaveGroupAsync(new BrokerLeaveGroupRequest { Members = members }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        var response = new LeaveGroupResponseData { ErrorCode = (short)error };
        if (answer is not null && request.Version >= 3)
        {
            response.Members = answer.Members.Select(m => new LeaveGroupResponseData.MemberResponse
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                ErrorCode = (short)m.Error,
            }).ToList();
        }
        else if (answer is not null && error == ErrorCode.None && answer.Members.FirstOrDefault() is { } only)
        {
            response.ErrorCode = (short)only.Error;
        }

        return request.Respond(response);
    }

    public async Task<byte[]?> DescribeGroupsAsync(KafkaRequest request)
    {
        var asked = request.Read<DescribeGroupsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var groups = await Task.WhenAll(asked.Groups.Select(async id =>
        {
            if (!access.AllowsGroup(AclOperation.Describe, id))
            {
                return new DescribeGroupsResponseData.DescribedGroup
                {
                    GroupId = id, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed, GroupState = string.Empty, ProtocolType = string.Empty,
                    ProtocolData = string.Empty, AuthorizedOperations = int.MinValue,
                };
            }

            ConsumerGroupDescription? description = null;
            var error = await GroupErrorAsync(async () =>
            {
                description = await broker.Group(id).DescribeAsync().ConfigureAwait(false);
                return ErrorCode.None;
            }).ConfigureAwait(false);
            if (error == ErrorCode.GroupIdNotFound)
            {
                // Kafka describes a group it does not know as Dead, with no error.
                return new DescribeGroupsResponseData.DescribedGroup
                {
                    GroupId = id, GroupState = "Dead", ProtocolType = string.Empty, ProtocolData = string.Empty, AuthorizedOperations = int.MinValue,
                };
            }

            if (description is null)
            {
                return new DescribeGroupsResponseData.DescribedGroup
                {
                    GroupId = id, ErrorCode = (short)error, GroupState = string.Empty, ProtocolType = string.Empty,
                    ProtocolData = string.Empty, AuthorizedOperations = int.MinValue,
                };
            }

            var classic = description.GroupType == KafkaGroupStates.ClassicType;
            return new DescribeGroupsResponseData.DescribedGroup
            {
                GroupId = id,
                GroupState = description.KafkaState,
                ProtocolType = description.ProtocolType,
                ProtocolData = description.Protocol,
                AuthorizedOperations = int.MinValue,
                Members = description.Members.Select(m => new DescribeGroupsResponseData.DescribedGroupMember
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.InstanceId,
                    ClientId = m.ClientId ?? string.Empty,
                    ClientHost = m.ClientHost ?? string.Empty,
                    // A consumer-protocol member's subscription and assignment, written as a classic consumer's.
                    MemberMetadata = classic ? m.Metadata : Subscription(m.SubscribedTopics),
                    MemberAssignment = classic ? m.Assignment : Assignment(m.Assigned),
                }).ToList(),
            };
        })).ConfigureAwait(false);
        return request.Respond(new DescribeGroupsResponseData { Groups = [.. groups] });
    }

    public async Task<byte[]?> ListGroupsAsync(KafkaRequest request)
    {
        var asked = request.Read<ListGroupsRequestData>();
        // DESCRIBE on the cluster lists every group; otherwise the groups the principal may DESCRIBE, as Kafka.
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var all = access.AllowsCluster(AclOperation.Describe, logDenied: false);
        string[] ids = [];
        var error = await GroupErrorAsync(async () =>
        {
            ids = await broker.Grains.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync().ConfigureAwait(false);
            return ErrorCode.None;
        }).ConfigureAwait(false);
        ids = all ? ids : ids.Where(id => access.AllowsGroup(AclOperation.Describe, id, logDenied: false)).ToArray();
        var listings = await Task.WhenAll(ids.Select(id => broker.Group(id).GetListingAsync())).ConfigureAwait(false);
        var states = asked.StatesFilter.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var types = asked.TypesFilter.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var response = new ListGroupsResponseData
        {
            ErrorCode = (short)error,
            Groups = listings
                .Where(l => l.Exists && (states.Count == 0 || states.Contains(l.State)) && (types.Count == 0 || types.Contains(l.GroupType)))
                .OrderBy(l => l.GroupId, StringComparer.Ordinal)
                .Select(l => new ListGroupsResponseData.ListedGroup
                {
                    GroupId = l.GroupId,
                    ProtocolType = l.ProtocolType,
                    GroupState = l.State,
                    GroupType = l.GroupType,
                }).ToList(),
        };
        return request.Respond(response);
    }

    public async Task<byte[]?> OffsetDeleteAsync(KafkaRequest request)
    {
        var asked = request.Read<OffsetDeleteRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var groupAllowed = access.AllowsGroup(AclOperation.Delete, asked.GroupId);
        var readable = asked.Topics.Select(t => t.Name).Distinct(StringComparer.Ordinal)
            .Where(t => groupAllowed && access.AllowsTopic(AclOperation.Read, t)).ToHashSet(StringComparer.Ordinal);
        var partitions = asked.Topics.Where(t => readable.Contains(t.Name))
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.PartitionIndex))).ToArray();
        ErrorCode[] errors = [];
        var error = !groupAllowed ? ErrorCode.GroupAuthorizationFailed : await GroupErrorAsync(async () =>
        {
            errors = partitions.Length == 0 ? [] : await broker.Group(asked.GroupId).DeleteOffsetsAsync(partitions).ConfigureAwait(false);
            return ErrorCode.None;
        }).ConfigureAwait(false);
        var index = 0;
        var response = new OffsetDeleteResponseData
        {
            ErrorCode = (short)error,
            Topics = error != ErrorCode.None ? [] : asked.Topics.Select(t => new OffsetDeleteResponseData.OffsetDeleteResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetDeleteResponseData.OffsetDeleteResponsePartition
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = (short)(!readable.Contains(t.Name) ? ErrorCode.TopicAuthorizationFailed
                        : index < errors.Length ? errors[index++] : ErrorCode.None),
                }).ToList(),
            }).ToList(),
        };
        return request.Respond(response);
    }

    /// <summary>Whether the request may READ <paramref name="groupId"/> (join, sync, heartbeat, leave).</summary>
    private async Task<bool> MayReadGroupAsync(KafkaRequest request, string groupId)
    {
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        return access.AllowsGroup(AclOperation.Read, groupId);
    }

    /// <summary>A consumer's subscription as a classic consumer sends it (ConsumerProtocolSubscription v0).</summary>
    private static byte[] Subscription(string[] topics) =>
        Encode(new ConsumerProtocolSubscription { Topics = [.. topics] });

    /// <summary>A consumer's assignment as a classic leader writes it (ConsumerProtocolAssignment v0).</summary>
    private static byte[] Assignment(TopicPartition[] partitions) =>
        Encode(new ConsumerProtocolAssignment
        {
            AssignedPartitions = partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                .Select(g => new ConsumerProtocolAssignment.TopicPartition { Topic = g.Key, Partitions = g.Select(p => p.Partition).Order().ToList() })
                .ToList(),
        });

    /// <summary>A consumer protocol data type: its version (int16, here 0) then its body.</summary>
    private static byte[] Encode<T>(T data)
        where T : IKafkaMessage<T>
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(0);
        data.Write(ref writer, 0);
        return buffer.WrittenSpan.ToArray();
    }
}
