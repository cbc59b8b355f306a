using System.Buffers;
using System.Buffers.Binary;
using Actors.Kafka.Diagnostics;
using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using BrokerFetchRequest = Actors.Broker.FetchRequest;
using BrokerFetchResponse = Actors.Broker.FetchResponse;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// Fetch (versions 4-12) for consumers: the stored record batches of each partition this silo leads, served
/// unchanged.
/// </summary>
/// <remarks>
/// <para>Long poll: a first pass asks every partition at once without waiting. The answer goes out when it holds
/// min_bytes, when max_wait_ms is 0 or when a partition failed; otherwise every partition that can still grow is
/// asked again at once, each waiting for more than it had, and the answer goes out when the bytes reach min_bytes or
/// the wait ends (a partition still waiting is answered with its first-pass result).</para>
/// <para>Size: partitions are filled in request order, each up to partition_max_bytes and the response up to
/// max_bytes (at most <see cref="MaxResponseBytes"/>, Kafka's broker fetch.max.bytes), cut at batch boundaries; the
/// first batch of the first partition with data is returned whole even above both limits, so a consumer always makes
/// progress. A partition that does not fit is answered with no records and its high watermark.</para>
/// <para>No transactions exist, so the last stable offset is the high watermark at both isolation levels, and
/// aborted_transactions is empty for read_committed and null for read_uncommitted (as Kafka).</para>
/// <para>Fetch sessions (KIP-227): none are created; every answer has session_id 0, which tells the client to send
/// full fetches. A request for an incremental fetch (session_epoch other than 0 and -1) names a session we never
/// created: FETCH_SESSION_ID_NOT_FOUND, as Kafka answers for a session it does not know.</para>
/// </remarks>
internal sealed class FetchApi(KafkaBroker broker, RecordRouting routing)
{
    /// <summary>Kafka's broker fetch.max.bytes default (55 MiB): the most one response carries.</summary>
    public const int MaxResponseBytes = 57_671_680;

    /// <summary>The longest a fetch waits for data, whatever max_wait_ms says.</summary>
    public const int MaxWaitCapMs = 30_000;

    /// <summary>Kafka's isolation levels.</summary>
    private const sbyte ReadCommitted = 1;

    /// <summary>Bytes before a batch's length field counts (base offset and the length itself).</summary>
    private const int LogOverhead = 12;

    public async Task<byte[]?> FetchAsync(KafkaRequest request)
    {
        var asked = request.Read<FetchRequestData>();
        if (asked.SessionEpoch is not (0 or -1))
        {
            return request.Respond(new FetchResponseData { ErrorCode = (short)ErrorCode.FetchSessionIdNotFound, SessionId = 0 });
        }

        var started = broker.Time.GetTimestamp();
        var maxWait = TimeSpan.FromMilliseconds(Math.Clamp(asked.MaxWaitMs, 0, MaxWaitCapMs));
        var maxBytes = Math.Clamp(asked.MaxBytes, 1, MaxResponseBytes);
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        // Without an authorizer every topic may be read (no set is built on this hot path).
        var readable = access.Enabled
            ? asked.Topics.Select(t => t.Topic).Distinct(StringComparer.Ordinal).Where(t => access.AllowsTopic(AclOperation.Read, t)).ToHashSet(StringComparer.Ordinal)
            : null;
        var snapshot = await routing.SnapshotAsync(asked.Topics.Select(t => t.Topic).Where(t => readable?.Contains(t) ?? true)).ConfigureAwait(false);

        var slots = new List<Slot>();
        var response = new FetchResponseData { SessionId = 0 };
        foreach (var topic in asked.Topics)
        {
            var answer = new FetchResponseData.FetchableTopicResponse { Topic = topic.Topic, TopicId = topic.TopicId };
            response.Responses.Add(answer);
            foreach (var partition in topic.Partitions)
            {
                var slot = new Slot(topic.Topic, partition, new FetchResponseData.PartitionData { PartitionIndex = partition.Partition });
                answer.Partitions.Add(slot.Answer);
                slots.Add(slot);
                var error = readable?.Contains(topic.Topic) ?? true ? routing.Check(snapshot, topic.Topic, partition.Partition) : ErrorCode.TopicAuthorizationFailed;
                if (error != ErrorCode.None)
                {
                    slot.Result = new BrokerFetchResponse { Error = error };
                }
            }
        }

        // First pass: everything at once, no waiting.
        var live = slots.Where(s => s.Result is null).ToList();
        await Task.WhenAll(live.Select(s => FetchOneAsync(s, maxBytes, TimeSpan.Zero, 0))).ConfigureAwait(false);

        var needed = Math.Max(0, asked.MinBytes);
        if (maxWait > TimeSpan.Zero && Available(slots) < needed && slots.All(s => s.Result!.Error == ErrorCode.None))
        {
            await LongPollAsync(slots, maxBytes, needed, started, maxWait).ConfigureAwait(false);
        }

        var records = Fill(slots, maxBytes, asked.IsolationLevel);
        // Room for the records and, per partition, its fields: the answer is written once, with no growing buffer.
        var frame = request.Respond(response, sizeHint: (int)Math.Min(int.MaxValue / 2, records + 256 + (64L * slots.Count)));
        foreach (var slot in slots)
        {
            // The records are in the frame now: a read buffer the partition handed over goes back to the pool (the
            // answers of calls that came late, or were replaced during the long poll, are left to the collector).
            if (slot.Result?.TakeRentedRecords() is { } rented)
            {
                slot.Answer.Records = ReadOnlyMemory<byte>.Empty;
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return frame;
    }

    /// <summary>Asks again every partition that can grow, each for more than it has; returns once the results reach
    /// <paramref name="needed"/> bytes or the wait ends. Results that arrive later are dropped.</summary>
    private async Task LongPollAsync(List<Slot> slots, int maxBytes, int needed, long started, TimeSpan maxWait)
    {
        var waiting = new Dictionary<Task, Slot>();
        void Ask(Slot slot)
        {
            var remaining = maxWait - broker.Time.GetElapsedTime(started);
            var had = slot.Result!.Records.Length;
            if (remaining > TimeSpan.Zero && had < PartitionLimit(slot, maxBytes))
            {
                waiting[FetchOneAsync(slot, maxBytes, remaining, had + 1)] = slot;
            }
        }

        foreach (var slot in slots)
        {
            Ask(slot);
        }

        using var deadline = new CancellationTokenSource();
        var timeout = Task.Delay(maxWait - broker.Time.GetElapsedTime(started) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero,
            broker.Time, deadline.Token);
        try
        {
            while (waiting.Count > 0)
            {
                var done = await Task.WhenAny(waiting.Keys.Append(timeout)).ConfigureAwait(false);
                if (done == timeout)
                {
                    return;
                }

                var slot = waiting[done];
                waiting.Remove(done);
                if (Available(slots) >= needed)
                {
                    return;
                }

                if (((Task<ErrorCode>)done).Result == ErrorCode.None)
                {
                    Ask(slot);
                }
            }
        }
        finally
        {
            await deadline.CancelAsync().ConfigureAwait(false);
            // Calls still waiting write into their slots' pending results, which are no longer read.
            foreach (var slot in waiting.Values)
            {
                slot.Detach();
            }
        }
    }

    /// <summary>One call to the partition's grain; its answer becomes the slot's result unless it failed after a
    /// usable first pass, or the slot was detached. Returns the answer's error (a failed partition is not asked again).</summary>
    private async Task<ErrorCode> FetchOneAsync(Slot slot, int maxBytes, TimeSpan wait, int minBytes)
    {
        var generation = slot.Generation;
        BrokerFetchResponse answer;
        try
        {
            answer = await broker.Partition(slot.Topic, slot.Asked.Partition).FetchAsync(new BrokerFetchRequest
            {
                FetchOffset = slot.Asked.FetchOffset,
                CurrentLeaderEpoch = slot.Asked.CurrentLeaderEpoch,
                MaxBytes = PartitionLimit(slot, maxBytes),
                MinBytes = minBytes,
                MaxWaitMs = (int)Math.Ceiling(wait.TotalMilliseconds),
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            answer = new BrokerFetchResponse { Error = routing.Failed(e, slot.Topic, slot.Asked.Partition, "Fetch") };
        }

        routing.Observe(answer.Error);
        lock (slot)
        {
            if (slot.Generation == generation && (slot.Result is null || answer.Error == ErrorCode.None))
            {
                slot.Result = answer;
            }
        }

        return answer.Error;
    }

    private static int PartitionLimit(Slot slot, int maxBytes) => Math.Clamp(slot.Asked.PartitionMaxBytes, 1, maxBytes);

    private static long Available(List<Slot> slots)
    {
        long total = 0;
        foreach (var slot in slots)
        {
            lock (slot)
            {
                total += slot.Result?.Records.Length ?? 0;
            }
        }

        return total;
    }

    /// <summary>Writes every slot's result into its answer in request order, within the byte limits; returns the bytes
    /// of records the answer carries.</summary>
    private static long Fill(List<Slot> slots, int maxBytes, sbyte isolationLevel)
    {
        long budget = maxBytes;
        long carried = 0;
        var first = true;
        foreach (var slot in slots)
        {
            BrokerFetchResponse result;
            lock (slot)
            {
                slot.Detach();
                result = slot.Result!;
            }

            var answer = slot.Answer;
            answer.ErrorCode = (short)result.Error;
            answer.PreferredReadReplica = -1;
            if (result.Error is not (ErrorCode.None or ErrorCode.OffsetOutOfRange))
            {
                answer.HighWatermark = -1;
                answer.LastStableOffset = -1;
                answer.LogStartOffset = -1;
                answer.AbortedTransactions = null;
                continue;
            }

            answer.HighWatermark = result.HighWatermark;
            answer.LastStableOffset = result.LastStableOffset >= 0 ? result.LastStableOffset : result.HighWatermark;
            answer.LogStartOffset = result.LogStartOffset;
            answer.AbortedTransactions = isolationLevel == ReadCommitted ? [] : null;
            var limit = (int)Math.Min(PartitionLimit(slot, maxBytes), budget);
            var records = Trim(result.Records, limit, first);
            answer.Records = records;
            KafkaMetrics.Fetched(slot.Topic, records.Span);
            budget -= records.Length;
            carried += records.Length;
            first &= records.IsEmpty;
        }

        return carried;
    }

    /// <summary>The longest run of whole batches at the start of <paramref name="records"/> within
    /// <paramref name="limit"/> bytes; with <paramref name="atLeastOneBatch"/>, the first batch even when larger.</summary>
    internal static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> records, int limit, bool atLeastOneBatch)
    {
        var span = records.Span;
        var end = 0;
        while (span.Length - end >= LogOverhead)
        {
            var size = (long)BinaryPrimitives.ReadInt32BigEndian(span[(end + 8)..]) + LogOverhead;
            if (size > span.Length - end || (end + size > limit && !(atLeastOneBatch && end == 0)))
            {
                break;
            }

            end += (int)size;
        }

        return records[..end];
    }

    /// <summary>One asked partition: the request, its answer and the latest result from its grain.</summary>
    private sealed class Slot(string topic, FetchRequestData.FetchPartition asked, FetchResponseData.PartitionData answer)
    {
        public string Topic { get; } = topic;

        public FetchRequestData.FetchPartition Asked { get; } = asked;

        public FetchResponseData.PartitionData Answer { get; } = answer;

        /// <summary>The latest usable grain answer; guarded by the slot's lock once calls run.</summary>
        public BrokerFetchResponse? Result { get; set; }

        /// <summary>Bumped when the answer is being written, so late calls leave <see cref="Result"/> alone.</summary>
        public int Generation { get; private set; }

        public void Detach()
        {
            lock (this)
            {
                Generation++;
            }
        }
    }
}
