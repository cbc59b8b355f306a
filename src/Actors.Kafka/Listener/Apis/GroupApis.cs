using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using BrokerCommit = Actors.Broker.OffsetCommitRequest;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// The group APIs: offsets (OffsetCommit, OffsetFetch), Kafka's consumer protocol of KIP-848
/// (ConsumerGroupHeartbeat, ConsumerGroupDescribe) and group administration (DeleteGroups). Every group lives in its
/// consumer-group grain, reached from any silo, so this broker coordinates every group.
/// </summary>
internal sealed partial class GroupApis(KafkaBroker broker)
{
    public async Task<byte[]?> OffsetCommitAsync(KafkaRequest request)
    {
        var asked = request.Read<OffsetCommitRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var groupAllowed = access.AllowsGroup(AclOperation.Read, asked.GroupId);
        var readable = asked.Topics.Select(t => t.Name).Distinct(StringComparer.Ordinal)
            .Where(t => groupAllowed && access.AllowsTopic(AclOperation.Read, t)).ToHashSet(StringComparer.Ordinal);
        var offsets = asked.Topics.Where(t => readable.Contains(t.Name)).SelectMany(t => t.Partitions.Select(p => new TopicPartitionOffset(
            new TopicPartition(t.Name, p.PartitionIndex), p.CommittedOffset, p.CommittedLeaderEpoch, p.CommittedMetadata))).ToArray();
        var error = !groupAllowed ? ErrorCode.GroupAuthorizationFailed : offsets.Length == 0 && asked.Topics.Count > 0 ? ErrorCode.None : await GroupErrorAsync(async () =>
        {
            var answer = await broker.Group(asked.GroupId).CommitOffsetsAsync(new BrokerCommit
            {
                MemberId = asked.MemberId,
                MemberEpoch = asked.GenerationIdOrMemberEpoch,
                GroupInstanceId = asked.GroupInstanceId,
                Offsets = offsets,
            }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        var response = new OffsetCommitResponseData
        {
            Topics = asked.Topics.Select(t => new OffsetCommitResponseData.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponseData.OffsetCommitResponsePartition
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = (short)(error == ErrorCode.None && !readable.Contains(t.Name) ? ErrorCode.TopicAuthorizationFailed : error),
                }).ToList(),
            }).ToList(),
        };
        return request.Respond(response);
    }

    public async Task<byte[]?> OffsetFetchAsync(KafkaRequest request)
    {
        var asked = request.Read<OffsetFetchRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var response = new OffsetFetchResponseData();
        if (request.Version >= 8)
        {
            foreach (var group in asked.Groups)
            {
                var topics = group.Topics?.Select(t => (t.Name, t.PartitionIndexes)).ToList();
                var (error, offsets, refused) = await CommittedAsync(access, group.GroupId, topics).ConfigureAwait(false);
                response.Groups.Add(new OffsetFetchResponseData.OffsetFetchResponseGroup
                {
                    GroupId = group.GroupId,
                    ErrorCode = (short)error,
                    Topics = offsets.GroupBy(o => o.TopicPartition.Topic, StringComparer.Ordinal).Select(g =>
                        new OffsetFetchResponseData.OffsetFetchResponseTopics
                        {
                            Name = g.Key,
                            Partitions = g.Select(o => new OffsetFetchResponseData.OffsetFetchResponsePartitions
                            {
                                PartitionIndex = o.TopicPartition.Partition,
                                CommittedOffset = o.Offset,
                                CommittedLeaderEpoch = o.LeaderEpoch,
                                Metadata = o.Metadata ?? string.Empty,
                                ErrorCode = (short)(refused.Contains(g.Key) ? ErrorCode.TopicAuthorizationFailed : ErrorCode.None),
                            }).ToList(),
                        }).ToList(),
                });
            }
        }
        else
        {
            var topics = asked.Topics?.Select(t => (t.Name, t.PartitionIndexes)).ToList();
            var (error, offsets, refused) = await CommittedAsync(access, asked.GroupId, topics).ConfigureAwait(false);
            response.ErrorCode = (short)error;
            response.Topics = offsets.GroupBy(o => o.TopicPartition.Topic, StringComparer.Ordinal).Select(g =>
                new OffsetFetchResponseData.OffsetFetchResponseTopic
                {
                    Name = g.Key,
                    Partitions = g.Select(o => new OffsetFetchResponseData.OffsetFetchResponsePartition
                    {
                        PartitionIndex = o.TopicPartition.Partition,
                        CommittedOffset = o.Offset,
                        CommittedLeaderEpoch = o.LeaderEpoch,
                        Metadata = o.Metadata ?? string.Empty,
                        // Before v2 the group's error is told per partition.
                        ErrorCode = refused.Contains(g.Key) ? (short)ErrorCode.TopicAuthorizationFailed : request.Version < 2 ? (short)error : (short)0,
                    }).ToList(),
                }).ToList();
        }

        return request.Respond(response);
    }

    /// <summary>The committed offsets of the asked partitions (every committed one when <paramref name="topics"/> is
    /// null), -1 where none; a group that does not exist has none.</summary>
    /// <remarks>Needs DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) and on each topic: a topic named without
    /// it is answered TOPIC_AUTHORIZATION_FAILED (it is in Refused), and one the principal may not see is left out of
    /// "every committed offset".</remarks>
    private async Task<(ErrorCode Error, TopicPartitionOffset[] Offsets, IReadOnlySet<string> Refused)> CommittedAsync(
        RequestAccess access, string groupId, List<(string Name, List<int> Partitions)>? topics)
    {
        var partitions = topics?.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p))).ToArray();
        if (!access.AllowsGroup(AclOperation.Describe, groupId))
        {
            return (ErrorCode.GroupAuthorizationFailed, partitions?.Select(p => new TopicPartitionOffset(p, -1, -1, null)).ToArray() ?? [], NoTopics);
        }

        var described = new Dictionary<string, bool>(StringComparer.Ordinal);
        bool Visible(string topic, bool named) =>
            described.TryGetValue(topic, out var allowed) ? allowed : described[topic] = access.AllowsTopic(AclOperation.Describe, topic, logDenied: named);
        var asked = partitions?.Where(p => Visible(p.Topic, named: true)).ToArray();
        TopicPartitionOffset[] offsets = [];
        var error = asked is { Length: 0 } ? ErrorCode.None : await GroupErrorAsync(async () =>
        {
            offsets = await broker.Group(groupId).FetchOffsetsAsync(asked).ConfigureAwait(false);
            return ErrorCode.None;
        }).ConfigureAwait(false);
        if (error != ErrorCode.None && partitions is not null)
        {
            offsets = partitions.Select(p => new TopicPartitionOffset(p, -1, -1, null)).ToArray();
        }
        else if (partitions is null)
        {
            offsets = offsets.Where(o => Visible(o.TopicPartition.Topic, named: false)).ToArray();
        }
        else if (asked!.Length < partitions.Length)
        {
            var found = offsets.ToDictionary(o => o.TopicPartition);
            offsets = partitions.Select(p => found.TryGetValue(p, out var o) ? o : new TopicPartitionOffset(p, -1, -1, null)).ToArray();
        }

        return (error, offsets, described.Where(kv => !kv.Value).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal));
    }

    private static readonly IReadOnlySet<string> NoTopics = new HashSet<string>();

    public async Task<byte[]?> ConsumerGroupHeartbeatAsync(KafkaRequest request)
    {
        var asked = request.Read<ConsumerGroupHeartbeatRequestData>();
        var response = new ConsumerGroupHeartbeatResponseData();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        if (!access.AllowsGroup(AclOperation.Read, asked.GroupId))
        {
            response.ErrorCode = (short)ErrorCode.GroupAuthorizationFailed;
            response.ErrorMessage = $"{access.Principal} may not READ group {asked.GroupId}.";
            return request.Respond(response);
        }

        if (asked.SubscribedTopicNames?.FirstOrDefault(t => !access.AllowsTopic(AclOperation.Describe, t)) is { } hidden)
        {
            response.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
            response.ErrorMessage = $"{access.Principal} may not DESCRIBE topic {hidden}.";
            return request.Respond(response);
        }
        var cluster = await broker.Cluster.GetAsync().ConfigureAwait(false);
        if (asked.TopicPartitions is not null && asked.TopicPartitions.Any(t => cluster.TopicById(t.TopicId) is null))
        {
            // A topic created since the snapshot: look again before calling it unknown.
            cluster = await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
        }

        var subscribed = asked.SubscribedTopicNames?.ToArray();
        if (!string.IsNullOrEmpty(asked.SubscribedTopicRegex))
        {
            // A regular-expression subscription (v1) is resolved here against today's topics, on every heartbeat, so a
            // new matching topic joins the subscription at the member's next heartbeat.
            if (!TryMatchTopics(asked.SubscribedTopicRegex, cluster, out var matched))
            {
                response.ErrorCode = (short)ErrorCode.InvalidRequest;
                response.ErrorMessage = $"'{asked.SubscribedTopicRegex}' is not a regular expression this broker can use";
                return request.Respond(response);
            }

            subscribed = [.. subscribed ?? [], .. matched];
        }

        GroupHeartbeatResponse? answer = null;
        var error = await GroupErrorAsync(async () =>
        {
            answer = await broker.Group(asked.GroupId).HeartbeatAsync(new GroupHeartbeatRequest
            {
                MemberId = asked.MemberId,
                MemberEpoch = asked.MemberEpoch,
                InstanceId = asked.InstanceId,
                RebalanceTimeoutMs = Math.Max(0, asked.RebalanceTimeoutMs),
                SubscribedTopicNames = subscribed,
                ServerAssignor = asked.ServerAssignor,
                OwnedPartitions = asked.TopicPartitions?
                    .SelectMany(t => cluster.TopicById(t.TopicId) is { } topic
                        ? t.Partitions.Select(p => new TopicPartition(topic.Name, p))
                        : [])
                    .ToArray(),
                ClientId = request.Header.ClientId,
                ClientHost = request.ClientHost,
            }).ConfigureAwait(false);
            return answer.Error;
        }).ConfigureAwait(false);
        response.ErrorCode = (short)error;
        if (answer is not null)
        {
            response.ErrorMessage = answer.ErrorMessage;
            response.MemberId = answer.MemberId;
            response.MemberEpoch = answer.MemberEpoch;
            response.HeartbeatIntervalMs = answer.HeartbeatIntervalMs;
            if (error == ErrorCode.None)
            {
                if (answer.Assignment.Any(tp => cluster.Topic(tp.Topic) is null))
                {
                    // A topic created since the snapshot: look again rather than leave its partitions out of the
                    // assignment (the member would get them only a heartbeat later).
                    cluster = await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
                }

                response.Assignment = new ConsumerGroupHeartbeatResponseData.AssignmentItem
                {
                    TopicPartitions = ByTopicId(cluster, answer.Assignment)
                        .Select(t => new ConsumerGroupHeartbeatResponseData.TopicPartitions { TopicId = t.TopicId, Partitions = t.Partitions })
                        .ToList(),
                };
            }
        }

        return request.Respond(response);
    }

    public async Task<byte[]?> ConsumerGroupDescribeAsync(KafkaRequest request)
    {
        var asked = request.Read<ConsumerGroupDescribeRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var cluster = await broker.Cluster.GetAsync().ConfigureAwait(false);
        var groups = await Task.WhenAll(asked.GroupIds.Select(async id =>
        {
            if (!access.AllowsGroup(AclOperation.Describe, id))
            {
                return new ConsumerGroupDescribeResponseData.DescribedGroup
                {
                    GroupId = id,
                    ErrorCode = (short)ErrorCode.GroupAuthorizationFailed,
                    GroupState = "Dead",
                    AuthorizedOperations = int.MinValue,
                };
            }

            ConsumerGroupDescription? description = null;
            var error = await GroupErrorAsync(async () =>
            {
                description = await broker.Group(id).DescribeAsync().ConfigureAwait(false);
                return ErrorCode.None;
            }).ConfigureAwait(false);
            if (description is null || description.GroupType == KafkaGroupStates.ClassicType)
            {
                // Kafka's coordinator describes only groups of the consumer protocol here: a classic group is
                // GROUP_ID_NOT_FOUND, and the admin client then falls back to DescribeGroups for it.
                return new ConsumerGroupDescribeResponseData.DescribedGroup
                {
                    GroupId = id,
                    ErrorCode = (short)(description is null ? error : ErrorCode.GroupIdNotFound),
                    ErrorMessage = description is null ? null : $"Group {id} is not a consumer group.",
                    GroupState = "Dead",
                    AuthorizedOperations = int.MinValue,
                };
            }

            return new ConsumerGroupDescribeResponseData.DescribedGroup
            {
                GroupId = id,
                GroupState = description.State.ToKafkaString(),
                GroupEpoch = description.GroupEpoch,
                AssignmentEpoch = description.GroupEpoch,
                AssignorName = description.Assignor,
                AuthorizedOperations = int.MinValue,
                Members = description.Members.Select(m => new ConsumerGroupDescribeResponseData.Member
                {
                    MemberId = m.MemberId,
                    InstanceId = m.InstanceId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId ?? string.Empty,
                    ClientHost = m.ClientHost ?? string.Empty,
                    SubscribedTopicNames = [.. m.SubscribedTopics],
                    Assignment = DescribedAssignment(cluster, m.Assigned),
                    TargetAssignment = DescribedAssignment(cluster, m.Target),
                }).ToList(),
            };
        })).ConfigureAwait(false);
        return request.Respond(new ConsumerGroupDescribeResponseData { Groups = [.. groups] });
    }

    public async Task<byte[]?> DeleteGroupsAsync(KafkaRequest request)
    {
        var asked = request.Read<DeleteGroupsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var results = await Task.WhenAll(asked.GroupsNames.Distinct(StringComparer.Ordinal).Select(async id =>
        {
            if (!access.AllowsGroup(AclOperation.Delete, id))
            {
                return new DeleteGroupsResponseData.DeletableGroupResult { GroupId = id, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
            }

            var error = await GroupErrorAsync(async () =>
            {
                await broker.Group(id).DeleteAsync().ConfigureAwait(false);
                return ErrorCode.None;
            }).ConfigureAwait(false);
            return new DeleteGroupsResponseData.DeletableGroupResult { GroupId = id, ErrorCode = (short)error };
        })).ConfigureAwait(false);
        return request.Respond(new DeleteGroupsResponseData { Results = [.. results] });
    }

    /// <summary>The topics whose whole name matches <paramref name="pattern"/> (as Kafka matches subscriptions); false
    /// when the pattern is not a valid expression.</summary>
    private static bool TryMatchTopics(string pattern, ClusterSnapshot cluster, out string[] topics)
    {
        try
        {
            var regex = new System.Text.RegularExpressions.Regex($"^(?:{pattern})$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            topics = cluster.Topics.Select(t => t.Name).Where(name => regex.IsMatch(name)).Order(StringComparer.Ordinal).ToArray();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            topics = [];
            return false;
        }
    }

    private static ConsumerGroupDescribeResponseData.Assignment DescribedAssignment(ClusterSnapshot cluster, IEnumerable<TopicPartition> partitions) =>
        new()
        {
            TopicPartitions = ByTopicId(cluster, partitions).Select(t => new ConsumerGroupDescribeResponseData.TopicPartitions
            {
                TopicId = t.TopicId,
                TopicName = t.Name,
                Partitions = t.Partitions,
            }).ToList(),
        };

    private static IEnumerable<(Guid TopicId, string Name, List<int> Partitions)> ByTopicId(ClusterSnapshot cluster, IEnumerable<TopicPartition> partitions) =>
        partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
            .Select(g => (cluster.Topic(g.Key)?.TopicId ?? Guid.Empty, g.Key, g.Select(p => p.Partition).Order().ToList()))
            .Where(t => t.Item1 != Guid.Empty);

    /// <summary>Runs a call into a group grain and gives its error code: a <see cref="BrokerException"/> carries one; a
    /// grain that cannot be reached now is COORDINATOR_NOT_AVAILABLE, which clients retry.</summary>
    private async Task<ErrorCode> GroupErrorAsync(Func<Task<ErrorCode>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (BrokerException e)
        {
            return e.Code;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or OperationCanceledException)
        {
            LogGroupCallFailed(broker.Logger, e.Message);
            return ErrorCode.CoordinatorNotAvailable;
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 7201, Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "A consumer group call failed; the client is told the coordinator is not available: {Problem}")]
    private static partial void LogGroupCallFailed(Microsoft.Extensions.Logging.ILogger logger, string problem);
}
