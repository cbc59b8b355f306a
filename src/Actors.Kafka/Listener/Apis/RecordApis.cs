using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using BrokerInitProducerIdRequest = Actors.Broker.InitProducerIdRequest;
using BrokerListOffsetsRequest = Actors.Broker.ListOffsetsRequest;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// The record APIs besides Produce and Fetch: ListOffsets (versions 1-7), OffsetForLeaderEpoch (2-4) and
/// InitProducerId (0-4). Partition requests are routed as <see cref="RecordRouting"/> says and asked of every partition
/// at once.
/// </summary>
/// <remarks>
/// InitProducerId serves idempotent producers only. A request naming a transactional id is answered
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka's answer when a transactional id may not be used on the cluster; not
/// retriable, so the client fails at once naming transactions) and an empty transactional id INVALID_REQUEST (as
/// Kafka's transaction coordinator answers). A producer-id grain that cannot be reached is answered
/// COORDINATOR_LOAD_IN_PROGRESS, Kafka's retriable answer while it has no producer-id block to hand out.
/// </remarks>
internal sealed class RecordApis(KafkaBroker broker, RecordRouting routing)
{
    public async Task<byte[]?> ListOffsetsAsync(KafkaRequest request)
    {
        var asked = request.Read<ListOffsetsRequestData>();
        var described = await DescribableAsync(request, asked.Topics.Select(t => t.Name)).ConfigureAwait(false);
        var snapshot = await routing.SnapshotAsync(described).ConfigureAwait(false);
        var response = new ListOffsetsResponseData();
        var calls = new List<Task>();
        foreach (var topic in asked.Topics)
        {
            var answer = new ListOffsetsResponseData.ListOffsetsTopicResponse { Name = topic.Name };
            response.Topics.Add(answer);
            foreach (var partition in topic.Partitions)
            {
                var result = new ListOffsetsResponseData.ListOffsetsPartitionResponse { PartitionIndex = partition.PartitionIndex };
                answer.Partitions.Add(result);
                var error = described.Contains(topic.Name) ? routing.Check(snapshot, topic.Name, partition.PartitionIndex) : ErrorCode.TopicAuthorizationFailed;
                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    continue;
                }

                calls.Add(ListOneAsync(topic.Name, partition, result));
            }
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
        return request.Respond(response);
    }

    public async Task<byte[]?> OffsetForLeaderEpochAsync(KafkaRequest request)
    {
        var asked = request.Read<OffsetForLeaderEpochRequestData>();
        var described = await DescribableAsync(request, asked.Topics.Select(t => t.Topic)).ConfigureAwait(false);
        var snapshot = await routing.SnapshotAsync(described).ConfigureAwait(false);
        var response = new OffsetForLeaderEpochResponseData();
        var calls = new List<Task>();
        foreach (var topic in asked.Topics)
        {
            var answer = new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult { Topic = topic.Topic };
            response.Topics.Add(answer);
            foreach (var partition in topic.Partitions)
            {
                var result = new OffsetForLeaderEpochResponseData.EpochEndOffset { Partition = partition.Partition };
                answer.Partitions.Add(result);
                var error = described.Contains(topic.Topic) ? routing.Check(snapshot, topic.Topic, partition.Partition) : ErrorCode.TopicAuthorizationFailed;
                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    continue;
                }

                calls.Add(EpochEndOneAsync(topic.Topic, partition, result));
            }
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
        return request.Respond(response);
    }

    public async Task<byte[]?> InitProducerIdAsync(KafkaRequest request)
    {
        var asked = request.Read<InitProducerIdRequestData>();
        var response = new InitProducerIdResponseData { ProducerId = -1, ProducerEpoch = -1 };
        if (asked.TransactionalId is not null)
        {
            response.ErrorCode = (short)(asked.TransactionalId.Length == 0 ? ErrorCode.InvalidRequest : ErrorCode.TransactionalIdAuthorizationFailed);
            return request.Respond(response);
        }

        // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or, as since Kafka 3.0, WRITE on some topic.
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        if (!access.AllowsCluster(AclOperation.IdempotentWrite, logDenied: false) && !access.AllowsAny(AclOperation.Write, AclResourceType.Topic))
        {
            access.Refused(AclOperation.IdempotentWrite, AclResourceType.Cluster, Acls.ClusterResourceName);
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return request.Respond(response);
        }

        try
        {
            var answer = await broker.Grains.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds)
                .InitProducerIdAsync(new BrokerInitProducerIdRequest { ProducerId = asked.ProducerId, ProducerEpoch = asked.ProducerEpoch })
                .ConfigureAwait(false);
            response.ErrorCode = (short)answer.Error;
            if (answer.Error == ErrorCode.None)
            {
                response.ProducerId = answer.ProducerId;
                response.ProducerEpoch = answer.ProducerEpoch;
            }
        }
        catch (Exception e) when (e is not KafkaProtocolException)
        {
            response.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
        }

        return request.Respond(response);
    }

    /// <summary>The topics of <paramref name="topics"/> the request may DESCRIBE.</summary>
    private async Task<HashSet<string>> DescribableAsync(KafkaRequest request, IEnumerable<string> topics)
    {
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        return topics.Distinct(StringComparer.Ordinal).Where(t => access.AllowsTopic(AclOperation.Describe, t)).ToHashSet(StringComparer.Ordinal);
    }

    private async Task ListOneAsync(string topic, ListOffsetsRequestData.ListOffsetsPartition partition,
        ListOffsetsResponseData.ListOffsetsPartitionResponse result)
    {
        try
        {
            var answer = await broker.Partition(topic, partition.PartitionIndex).ListOffsetsAsync(new BrokerListOffsetsRequest
            {
                Timestamp = partition.Timestamp,
                CurrentLeaderEpoch = partition.CurrentLeaderEpoch,
            }).ConfigureAwait(false);
            routing.Observe(answer.Error);
            result.ErrorCode = (short)answer.Error;
            if (answer.Error == ErrorCode.None)
            {
                result.Timestamp = answer.Timestamp;
                result.Offset = answer.Offset;
                result.LeaderEpoch = answer.LeaderEpoch;
            }
        }
        catch (Exception e)
        {
            result.ErrorCode = (short)routing.Failed(e, topic, partition.PartitionIndex, "ListOffsets");
        }
    }

    private async Task EpochEndOneAsync(string topic, OffsetForLeaderEpochRequestData.OffsetForLeaderPartition partition,
        OffsetForLeaderEpochResponseData.EpochEndOffset result)
    {
        try
        {
            var answer = await broker.Partition(topic, partition.Partition)
                .OffsetForLeaderEpochAsync(partition.CurrentLeaderEpoch, partition.LeaderEpoch).ConfigureAwait(false);
            routing.Observe(answer.Error);
            result.ErrorCode = (short)answer.Error;
            if (answer.Error == ErrorCode.None)
            {
                result.LeaderEpoch = answer.EndOffset.LeaderEpoch;
                result.EndOffset = answer.EndOffset.EndOffset;
            }
        }
        catch (Exception e)
        {
            result.ErrorCode = (short)routing.Failed(e, topic, partition.Partition, "OffsetForLeaderEpoch");
        }
    }
}
