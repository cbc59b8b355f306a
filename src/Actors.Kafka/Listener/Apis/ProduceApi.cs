using System.Buffers.Binary;
using Actors.Kafka.Diagnostics;
using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using BrokerProduceRequest = Actors.Broker.ProduceRequest;
using BrokerProduceResponse = Actors.Broker.ProduceResponse;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// Produce (versions 3-9): each partition's record batch goes to its partition grain on this silo (all partitions in
/// parallel) and the grain's answer is mapped one to one. The client's bytes are passed through unchanged (the log
/// stores Kafka's record-batch format v2).
/// </summary>
/// <remarks>
/// <para>acks=0: Kafka sends no response at all, so the handler answers null; when a partition failed, Kafka closes
/// the connection instead (the client then refreshes its metadata), and so does this handler.</para>
/// <para>Transactions are not served (FindCoordinator answers COORDINATOR_NOT_AVAILABLE for transactional ids and
/// InitProducerId refuses them), so a produce naming a transactional id is refused per partition with
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: Kafka's answer when the transactional id may not be used on the cluster. It
/// is not retriable, so the client fails at once with an error that names transactions, where a "not supported" code
/// (UNSUPPORTED_VERSION, UNSUPPORTED_FOR_MESSAGE_FORMAT) would point at protocol versions or the log format.</para>
/// <para>Records are checked as Kafka's ProduceRequest.validateRecords does: empty or null records, a batch of a
/// magic other than 2, or more than one batch per partition are INVALID_RECORD; a torn or corrupt batch is refused by
/// the log with CORRUPT_MESSAGE.</para>
/// </remarks>
internal sealed class ProduceApi(KafkaBroker broker, RecordRouting routing)
{
    /// <summary>Bytes of a record batch up to and including its magic byte (base offset, length, leader epoch, magic).</summary>
    private const int MagicEnd = 17;

    /// <summary>Bytes before a batch's length field counts (base offset and the length itself).</summary>
    private const int LogOverhead = 12;

    public async Task<byte[]?> ProduceAsync(KafkaRequest request)
    {
        var response = new ProduceResponseData();
        var calls = new List<Task>();
        ProduceRequestData asked;
        try
        {
            asked = request.Read<ProduceRequestData>();
            var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
            // Without an authorizer every topic may be written (no set is built on this hot path).
            var writable = access.Enabled
                ? asked.TopicData.Select(t => t.Name).Distinct(StringComparer.Ordinal).Where(t => access.AllowsTopic(AclOperation.Write, t)).ToHashSet(StringComparer.Ordinal)
                : null;
            var snapshot = await routing.SnapshotAsync(asked.TopicData.Select(t => t.Name).Where(t => writable?.Contains(t) ?? true)).ConfigureAwait(false);
            if (request.ProduceTurn is { } turn)
            {
                // The partition calls of the connection's previous Produce request go first (see ProduceTurn): the
                // snapshot above may have waited for the controller while a later request found it cached.
                await turn.Previous.ConfigureAwait(false);
            }

            Issue(asked, writable, snapshot, response, calls);
        }
        finally
        {
            request.ProduceTurn?.MarkIssued();
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
        if (asked.Acks != 0)
        {
            return request.Respond(response);
        }

        var failed = response.Responses.SelectMany(t => t.PartitionResponses.Where(p => p.ErrorCode != 0).Select(p => (t.Name, p)))
            .FirstOrDefault();
        if (failed.p is not null)
        {
            throw new KafkaProtocolException(
                $"acks=0 produce to {failed.Name}-{failed.p.Index} failed with {(ErrorCode)failed.p.ErrorCode}; closing the connection as Kafka does so the client refreshes its metadata",
                -1,
                (ErrorCode)failed.p.ErrorCode);
        }

        return null;
    }

    /// <summary>Answers the partitions refused here and starts the partition call of every other one (each call is
    /// issued before this returns).</summary>
    private void Issue(ProduceRequestData asked, HashSet<string>? writable, ClusterSnapshot snapshot, ProduceResponseData response, List<Task> calls)
    {
        foreach (var topic in asked.TopicData)
        {
            var answer = new ProduceResponseData.TopicProduceResponse { Name = topic.Name };
            response.Responses.Add(answer);
            foreach (var partition in topic.PartitionData)
            {
                var result = new ProduceResponseData.PartitionProduceResponse { Index = partition.Index, BaseOffset = -1 };
                answer.PartitionResponses.Add(result);
                var error = asked.TransactionalId is not null ? ErrorCode.TransactionalIdAuthorizationFailed
                    : writable is not null && !writable.Contains(topic.Name) ? ErrorCode.TopicAuthorizationFailed
                    : routing.Check(snapshot, topic.Name, partition.Index);
                if (error == ErrorCode.None)
                {
                    (error, result.ErrorMessage) = CheckRecords(partition.Records.Span);
                }

                if (error != ErrorCode.None)
                {
                    result.ErrorCode = (short)error;
                    result.ErrorMessage ??= error == ErrorCode.TransactionalIdAuthorizationFailed
                        ? $"Transactions are not served by this cluster (transactional id '{asked.TransactionalId}')."
                        : null;
                    continue;
                }

                calls.Add(ProduceOneAsync(topic.Name, partition, asked, result));
            }
        }
    }

    private async Task ProduceOneAsync(string topic, ProduceRequestData.PartitionProduceData partition, ProduceRequestData asked,
        ProduceResponseData.PartitionProduceResponse result)
    {
        BrokerProduceResponse answer;
        try
        {
            answer = await broker.Partition(topic, partition.Index).ProduceAsync(new BrokerProduceRequest
            {
                Acks = asked.Acks,
                TimeoutMs = asked.TimeoutMs,
                Records = partition.Records,
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result.ErrorCode = (short)routing.Failed(e, topic, partition.Index, "Produce");
            result.ErrorMessage = e.Message;
            return;
        }

        routing.Observe(answer.Error);
        if (answer.Error == ErrorCode.None)
        {
            KafkaMetrics.Produced(topic, partition.Records.Span);
        }

        result.ErrorCode = (short)answer.Error;
        result.ErrorMessage = answer.ErrorMessage;
        result.BaseOffset = answer.Error == ErrorCode.None ? answer.BaseOffset : -1;
        result.LogAppendTimeMs = answer.LogAppendTimeMs;
        result.LogStartOffset = answer.LogStartOffset;
    }

    /// <summary>Kafka's ProduceRequest.validateRecords for versions 3+: exactly one batch of magic 2.</summary>
    internal static (ErrorCode Error, string? Message) CheckRecords(ReadOnlySpan<byte> records)
    {
        if (records.IsEmpty)
        {
            return (ErrorCode.InvalidRecord, "Produce requests of version 3 and later must carry one record batch per partition; this one has none.");
        }

        if (records.Length < MagicEnd)
        {
            return (ErrorCode.CorruptMessage, $"The record batch is truncated: {records.Length} bytes.");
        }

        if (records[MagicEnd - 1] != 2)
        {
            return (ErrorCode.InvalidRecord, $"Produce requests of version 3 and later take record batches of magic 2 only; got magic {records[MagicEnd - 1]}.");
        }

        var batchBytes = (long)BinaryPrimitives.ReadInt32BigEndian(records[8..]) + LogOverhead;
        if (batchBytes < records.Length)
        {
            return (ErrorCode.InvalidRecord, "Produce requests of version 3 and later take exactly one record batch per partition; this one has more.");
        }

        return (ErrorCode.None, null);
    }
}
