using System.Collections.Concurrent;
using Actors.Broker;
using Actors.Log.Records;
using Orleans.Runtime;

namespace Actors.Client;

/// <summary>What the sender tells for each record once its batch is written or has failed. One completion may serve
/// many records (the producer shares one per delivery handler); <c>state</c> is the record's own (its message).</summary>
internal abstract class RecordCompletion
{
    public abstract void Complete(string topic, int partition, object? state, long offset, long timestamp, Exception? error);
}

/// <summary>One produce call as the sender's transport hook sees it (tests delay or drop calls through it).</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Number">The batch's place in the partition's order (0 for the first batch this sender sent).</param>
/// <param name="Attempt">0 for the first send of the batch, then 1, 2, … for each resend.</param>
/// <param name="BaseSequence">The idempotent producer's first sequence in the batch, or −1 without idempotence.</param>
/// <param name="Records">Records in the batch.</param>
internal readonly record struct SendAttempt(string Topic, int Partition, long Number, int Attempt, int BaseSequence, int Records);

/// <summary>The transport hook: given the attempt and the call to the partition grain, returns the answer to use.</summary>
internal delegate Task<ProduceResponse> ProduceTransport(SendAttempt attempt, Func<Task<ProduceResponse>> send);

/// <summary>
/// One partition's accumulator and sender: records gather in an open batch until it reaches batch.size or is
/// linger.ms old (or a flush asks), then the batch is sent, with up to max.in.flight.requests.per.connection
/// batches in flight. Delivery reports are given in the order the records were produced.
/// </summary>
/// <remarks>
/// <para>With the idempotent producer, batches carry consecutive sequence numbers and the partition appends a batch
/// only when it follows the last one appended, so several in flight keep their order even though Orleans does not
/// promise the order of concurrent calls to one grain: a batch that arrives before the one it follows is answered
/// OUT_OF_ORDER_SEQUENCE_NUMBER; the sender then waits for the outcome of every earlier batch and sends it again
/// (same bytes). A resend of a batch already written is answered with its original offsets (the partition
/// remembers the producer's last five batches, so at most five are in flight). When an earlier batch fails for
/// good it leaves a gap: the producer takes a new id (<see cref="ProducerIdentity"/>), and the later batches that
/// the partition refused are given new sequence numbers under it and sent again, in order, once every batch of the
/// old id has its outcome. The partition takes any sequence from a producer id it does not know yet, so the first
/// batch under a new id (and the first after a long pause, in case the partition expired the producer's state)
/// goes alone, and the rest follow once it is acknowledged.</para>
/// <para>Without idempotence each batch is retried on its own, so with more than one in flight a retried batch can
/// land after a later one, as in Kafka; set max.in.flight.requests.per.connection=1 to keep order then.</para>
/// <para>Thread-safe: appends take the lock; one loop task decides what to send and completes batches; each call to
/// the partition runs as its own task and hands its outcome back to the loop.</para>
/// </remarks>
internal sealed class PartitionSender : IDisposable
{
    /// <summary>After this long with no acknowledgement, the next batch goes alone before others follow it (the
    /// partition might have expired this producer's state under a short producer.id.expiration.ms).</summary>
    private static readonly TimeSpan PipelineIdle = TimeSpan.FromSeconds(60);

    /// <summary>Frees the wake-up signal once the loop has ended.</summary>
    public void Dispose()
    {
        if (loop.IsCompleted)
        {
            signal.Dispose();
        }
    }

    private readonly Lock gate = new();
    private readonly Queue<Batch> ready = new();
    private readonly SemaphoreSlim signal = new(0);
    private readonly ConcurrentQueue<Outcome> outcomes = new();
    private readonly string topic;
    private readonly int partition;
    private readonly ProducerSettings settings;
    private readonly ClusterMetadata metadata;
    private readonly ProducerIdentity? identity;
    private readonly BufferMemory buffer;
    private readonly CancellationToken stopping;
    private readonly Task loop;

    /// <summary>The most bytes a new batch's buffer is sized for up front (a larger batch.size grows as it fills).</summary>
    private const int MaxPresize = 1 << 20;

    private Batch? open;
    private int lastCount = 16;
    private bool flushing;
    private int pending;

    // Owned by the loop.
    private readonly List<Batch> window = [];
    private long nextNumber;
    private int sequence;
    private int sequenceGeneration;
    private int ackedGeneration;
    private DateTime lastAck;
    private int gapGeneration;
    private long gapNumber = -1;

    public PartitionSender(string topic, int partition, ProducerSettings settings, ClusterMetadata metadata, ProducerIdentity? identity, BufferMemory buffer, CancellationToken stopping)
    {
        this.topic = topic;
        this.partition = partition;
        this.settings = settings;
        this.metadata = metadata;
        this.identity = identity;
        this.buffer = buffer;
        this.stopping = stopping;
        loop = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Records appended and not yet completed.</summary>
    public int Pending => Volatile.Read(ref pending);

    /// <summary>True while a batch is open for appends (the sticky partitioner stays on this partition until a new one opens).</summary>
    /// <remarks>Read without the lock: the partitioner only uses it as a hint.</remarks>
    public bool HasOpenBatch => Volatile.Read(ref open) is not null;

    public Task Completion => loop;

    /// <summary>The most a record can add to a batch beyond its key, value and headers (varint framing at their widest).</summary>
    public static int Estimate(byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers)
    {
        var size = 36 + (key?.Length ?? 0) + (value?.Length ?? 0);
        if (headers is not null)
        {
            foreach (var h in headers)
            {
                size += 10 + (h.Key.Length * 3) + (h.Value?.Length ?? 0);
            }
        }

        return size;
    }

    /// <summary>Adds a record whose <paramref name="reserved"/> bytes are already taken from buffer.memory.</summary>
    public void Append(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers, int reserved, RecordCompletion done, object? state)
    {
        var wake = false;
        lock (gate)
        {
            if (stopping.IsCancellationRequested)
            {
                throw new ActorsException(Confluent.Kafka.ErrorCode.Local_Destroy, "The producer is disposed; build a new one to produce.");
            }

            if (open is not null && open.Builder.Count > 0 && open.Builder.SizeInBytes + reserved > settings.BatchSize)
            {
                lastCount = open.Completions.Count;
                ready.Enqueue(open);
                open = null;
                wake = true;
            }

            if (open is null)
            {
                // Sized for a full batch and as many records as the last one held, so appends do not grow it.
                open = new Batch(DateTime.UtcNow, settings.DeliveryTimeoutMs, Math.Min(settings.BatchSize, MaxPresize) + 128, lastCount);
                wake = true;
            }

            open.Builder.Add(timestamp, key, value, headers);
            open.Completions.Add(new Waiting(done, state));
            open.Timestamps.Add(timestamp);
            open.Reserved += reserved;
            Interlocked.Increment(ref pending);
            if (open.Builder.SizeInBytes >= settings.BatchSize)
            {
                lastCount = open.Completions.Count;
                ready.Enqueue(open);
                open = null;
                wake = true;
            }
        }

        if (wake)
        {
            Wake();
        }
    }

    /// <summary>Sends the open batch without waiting for linger.ms (until <see cref="EndFlush"/>).</summary>
    public void BeginFlush()
    {
        lock (gate)
        {
            flushing = true;
        }

        Wake();
    }

    public void EndFlush()
    {
        lock (gate)
        {
            flushing = false;
        }
    }

    /// <summary>Wakes the loop (new batch, an answer, or the stop token).</summary>
    public void Wake()
    {
        try
        {
            signal.Release();
        }
        catch (ObjectDisposedException)
        {
            // The loop has ended; an answer that comes back after Dispose has nobody to tell.
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            var now = DateTime.UtcNow;
            while (outcomes.TryDequeue(out var outcome))
            {
                Apply(outcome, now);
            }

            if (stopping.IsCancellationRequested)
            {
                Stop();
                return;
            }

            var wait = Admit(now);
            Resolve(now);
            wait = Sooner(wait, await DispatchAsync(now).ConfigureAwait(false));

            // Completed batches free room in the window: go round again to admit and send the next ones.
            if (Deliver() || !outcomes.IsEmpty)
            {
                continue;
            }

            try
            {
                await signal.WaitAsync(wait, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: handled at the top of the next round.
            }
        }
    }

    /// <summary>Moves closed batches (and the open one once linger.ms has passed or a flush asks) into the window of
    /// batches being sent, up to max.in.flight.requests.per.connection. Returns how long until the open batch is due.</summary>
    private TimeSpan Admit(DateTime now)
    {
        lock (gate)
        {
            while (window.Count < settings.MaxInFlight)
            {
                if (ready.Count > 0)
                {
                    Take(ready.Dequeue());
                    continue;
                }

                if (open is null)
                {
                    break;
                }

                var age = now - open.Created;
                if (!flushing && age < TimeSpan.FromMilliseconds(settings.LingerMs))
                {
                    return TimeSpan.FromMilliseconds(settings.LingerMs) - age;
                }

                Take(open);
                open = null;
            }
        }

        return Timeout.InfiniteTimeSpan;

        void Take(Batch b)
        {
            b.Number = nextNumber++;
            window.Add(b);
        }
    }

    /// <summary>Decides on refused batches (OUT_OF_ORDER_SEQUENCE_NUMBER) whose earlier batches all have an outcome.</summary>
    private void Resolve(DateTime now)
    {
        var earlierOpen = false;
        foreach (var b in window)
        {
            if (b.State == BatchState.Refused && !earlierOpen)
            {
                if (now > b.Deadline)
                {
                    Fail(b, TimedOut(b));
                }
                else if (b.Generation == gapGeneration && b.Number > gapNumber)
                {
                    // An earlier batch of this producer id failed for good: the sequence has a gap, so this batch
                    // gets new sequence numbers under the producer's next id.
                    b.State = BatchState.Unsent;
                }
                else if (b.SentBehind)
                {
                    // It overtook an earlier batch, which is now written: send it again, now in order.
                    b.State = BatchState.Waiting;
                    b.RetryAt = now;
                }
                else
                {
                    Fail(b, b.Last!);
                }
            }

            if (b.State is not (BatchState.Written or BatchState.Failed))
            {
                earlierOpen = true;
            }
        }
    }

    /// <summary>Sends what may go now; returns how long until the next resend is due.</summary>
    private async ValueTask<TimeSpan> DispatchAsync(DateTime now)
    {
        var wait = Timeout.InfiniteTimeSpan;
        var holdNew = false;
        for (var i = 0; i < window.Count; i++)
        {
            var b = window[i];
            if (b.State == BatchState.Waiting)
            {
                if (now < b.RetryAt)
                {
                    wait = Sooner(wait, b.RetryAt - now);
                }
                else if (Expired(b, now) is { } expired)
                {
                    Fail(b, expired);
                }
                else
                {
                    Send(i);
                }

                continue;
            }

            if (b.State != BatchState.Unsent || holdNew)
            {
                continue;
            }

            if (Expired(b, now) is { } late)
            {
                Fail(b, late);
                continue;
            }

            if (identity is null)
            {
                if (Build(b))
                {
                    Send(i);
                }

                continue;
            }

            (long Id, short Epoch, int Generation) id;
            try
            {
                id = await identity.GetAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // No sequence was given out, so no gap: later batches may still go.
                Fail(b, e);
                continue;
            }

            if (!MaySequence(i, id.Generation, now))
            {
                // Batches are numbered in order, so none after this one may take a sequence before it.
                holdNew = true;
                continue;
            }

            if (id.Generation != sequenceGeneration)
            {
                sequenceGeneration = id.Generation;
                sequence = 0;
            }

            var before = sequence;
            b.Generation = id.Generation;
            b.Builder.ProducerId = id.Id;
            b.Builder.ProducerEpoch = id.Epoch;
            b.Builder.BaseSequence = sequence;
            sequence = (int)(((long)sequence + b.Builder.Count) % int.MaxValue);
            if (Build(b))
            {
                Send(i);
            }
            else
            {
                // Refused before sending: hand its sequence numbers to the next batch.
                sequence = before;
                b.Generation = 0;
            }
        }

        return wait;
    }

    private static TimeSpan Sooner(TimeSpan a, TimeSpan b) =>
        a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : (a < b ? a : b);

    /// <summary>Whether the batch at <paramref name="index"/> may take the next sequence of generation
    /// <paramref name="generation"/> now.</summary>
    private bool MaySequence(int index, int generation, DateTime now)
    {
        var pipelined = ackedGeneration == generation && now - lastAck < PipelineIdle;
        for (var j = 0; j < window.Count; j++)
        {
            var other = window[j];
            if (j == index)
            {
                continue;
            }

            // Refused batches after this one wait for it; counting them would wait forever.
            var outstanding = other.State is BatchState.Sending or BatchState.Waiting || (other.State == BatchState.Refused && j < index);
            if (!outstanding)
            {
                continue;
            }

            // Batches of an older producer id must all have their outcome before the new id's first batch goes, and
            // that first batch goes alone until the partition has acknowledged it.
            if (other.Generation != generation || !pipelined)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Encodes the batch (again after new sequence numbers); false, with the batch failed, when too large.</summary>
    private bool Build(Batch b)
    {
        var bytes = RecordCodec.Build(b.Builder, settings.Compression);
        if (bytes.Length > settings.MaxRequestSize)
        {
            b.Generation = 0;
            Fail(b, new ActorsException(BrokerErrorCode.MessageTooLarge,
                $"A batch of {bytes.Length} bytes for {topic}-{partition} is larger than max.request.size ({settings.MaxRequestSize}); send smaller records or raise max.request.size."));
            return false;
        }

        b.Bytes = bytes;
        return true;
    }

    private void Send(int index)
    {
        var b = window[index];
        var behind = false;
        for (var j = 0; j < index; j++)
        {
            behind |= window[j].State != BatchState.Written;
        }

        b.State = BatchState.Sending;
        b.SentBehind = behind;
        var attempt = b.Attempts++;
        _ = AttemptAsync(b, attempt, b.Bytes);
    }

    /// <summary>One call to the partition; its outcome goes back to the loop.</summary>
    private async Task AttemptAsync(Batch batch, int attempt, ReadOnlyMemory<byte> bytes)
    {
        Outcome outcome;
        try
        {
            var request = new ProduceRequest
            {
                Acks = settings.Acks,
                TimeoutMs = settings.RequestTimeoutMs,
                Records = bytes,
                CurrentLeaderEpoch = metadata.LeaderEpoch(topic, partition),
            };
            var grain = metadata.Partition(topic, partition);
            var answer = settings.Transport is { } transport
                ? await transport(new SendAttempt(topic, partition, batch.Number, attempt, identity is null ? -1 : batch.Builder.BaseSequence, batch.Builder.Count), () => grain.ProduceAsync(request)).ConfigureAwait(false)
                : await grain.ProduceAsync(request).ConfigureAwait(false);
            if (settings.DropAnswer?.Invoke(attempt) == true)
            {
                throw new TimeoutException($"Test hook: the answer to attempt {attempt} was dropped.");
            }

            if (answer.Error is BrokerErrorCode.None or BrokerErrorCode.DuplicateSequenceNumber)
            {
                outcome = new Outcome(batch, attempt, OutcomeKind.Written, null, answer.BaseOffset, answer.LogAppendTimeMs);
            }
            else
            {
                var error = ActorsException.From(answer.Error, answer.ErrorMessage, $"Produce to {topic}-{partition}");
                if (answer.Error == BrokerErrorCode.OutOfOrderSequenceNumber && identity is not null)
                {
                    outcome = new Outcome(batch, attempt, OutcomeKind.Refused, error);
                }
                else if (answer.Error.IsRetriable())
                {
                    if (answer.Error is BrokerErrorCode.NotLeaderOrFollower or BrokerErrorCode.LeaderNotAvailable or BrokerErrorCode.FencedLeaderEpoch or BrokerErrorCode.UnknownLeaderEpoch)
                    {
                        await RefreshAsync().ConfigureAwait(false);
                    }

                    outcome = new Outcome(batch, attempt, OutcomeKind.Retriable, error);
                }
                else
                {
                    outcome = new Outcome(batch, attempt, OutcomeKind.Failed, error);
                }
            }
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or BrokerException { IsRetriable: true })
        {
            await RefreshAsync().ConfigureAwait(false);
            outcome = new Outcome(batch, attempt, OutcomeKind.Retriable, e);
        }
        catch (Exception e)
        {
            outcome = new Outcome(batch, attempt, OutcomeKind.Failed, e is BrokerException b ? ActorsException.From(b.Code, b.Message, $"Produce to {topic}-{partition}") : e);
        }

        outcomes.Enqueue(outcome);
        Wake();
    }

    private void Apply(Outcome o, DateTime now)
    {
        var b = o.Batch;
        if (b.State != BatchState.Sending || o.Attempt != b.Attempts - 1)
        {
            return;
        }

        switch (o.Kind)
        {
            case OutcomeKind.Written:
                b.State = BatchState.Written;
                b.BaseOffset = o.BaseOffset;
                b.AppendTime = o.AppendTime;
                if (identity is not null)
                {
                    ackedGeneration = b.Generation;
                    lastAck = now;
                }

                break;
            case OutcomeKind.Refused:
                b.State = BatchState.Refused;
                b.Last = o.Error;
                break;
            case OutcomeKind.Retriable:
                b.Last = o.Error;
                b.Retries++;
                if (Expired(b, now) is { } expired)
                {
                    Fail(b, expired);
                }
                else
                {
                    b.State = BatchState.Waiting;
                    b.RetryAt = now + TimeSpan.FromMilliseconds(settings.RetryBackoffMs);
                }

                break;
            default:
                Fail(b, o.Error!);
                break;
        }
    }

    /// <summary>The delivery.timeout.ms (or retries) error for a batch that may not be sent again, or null.</summary>
    private ActorsException? Expired(Batch b, DateTime now) =>
        now > b.Deadline || b.Retries > settings.Retries ? TimedOut(b) : null;

    private ActorsException TimedOut(Batch b) =>
        new(BrokerErrorCode.RequestTimedOut,
            $"Records for {topic}-{partition} were not acknowledged within delivery.timeout.ms ({settings.DeliveryTimeoutMs} ms) after {b.Attempts} attempts; last error: {b.Last?.Message ?? "none"}. Check the cluster, or raise delivery.timeout.ms.",
            b.Last);

    /// <summary>Fails a batch for good; when it had sequence numbers, the producer id moves on (they leave a gap).</summary>
    private void Fail(Batch b, Exception error)
    {
        b.State = BatchState.Failed;
        b.Error = error;
        if (identity is not null && b.Generation != 0)
        {
            identity.Reset(b.Generation);
            if (b.Generation > gapGeneration || (b.Generation == gapGeneration && b.Number < gapNumber))
            {
                gapGeneration = b.Generation;
                gapNumber = b.Number;
            }
        }
    }

    /// <summary>Completes the batches at the head of the window that have their outcome, in order; true if any.</summary>
    private bool Deliver()
    {
        var any = false;
        while (window.Count > 0 && window[0].State is BatchState.Written or BatchState.Failed)
        {
            var b = window[0];
            window.RemoveAt(0);
            Complete(b, b.BaseOffset, b.AppendTime, b.Error is null ? null : ActorsException.From(b.Error, $"Produce to {topic}-{partition}"));
            any = true;
        }

        return any;
    }

    private void Stop()
    {
        foreach (var b in window)
        {
            if (b.State is not (BatchState.Written or BatchState.Failed))
            {
                b.State = BatchState.Failed;
                b.Error = new ActorsException(Confluent.Kafka.ErrorCode.Local_Destroy, "The producer was disposed before the record was acknowledged; call Flush before Dispose to wait for delivery.");
            }
        }

        _ = Deliver();
        List<Batch> unsent;
        lock (gate)
        {
            unsent = [.. ready];
            ready.Clear();
            if (open is not null)
            {
                unsent.Add(open);
                open = null;
            }
        }

        foreach (var b in unsent)
        {
            Complete(b, -1, -1, new ActorsException(Confluent.Kafka.ErrorCode.Local_Destroy, "The producer was disposed before the record was sent; call Flush before Dispose to wait for delivery."));
        }
    }

    private async Task RefreshAsync()
    {
        try
        {
            await metadata.TopicAsync(topic, fresh: true).ConfigureAwait(false);
        }
        catch (ActorsException)
        {
            // The next attempt tells.
        }
    }

    private void Complete(Batch batch, long baseOffset, long appendTime, Exception? error)
    {
        buffer.Release(batch.Reserved);
        for (var i = 0; i < batch.Completions.Count; i++)
        {
            var offset = error is null && baseOffset >= 0 ? baseOffset + i : -1;
            var timestamp = appendTime >= 0 ? appendTime : batch.Timestamps[i];
            try
            {
                var (done, state) = batch.Completions[i];
                done.Complete(topic, partition, state, offset, timestamp, error);
            }
            catch (Exception)
            {
                // A delivery handler's own failure is the application's; the sender carries on with the next record.
            }
            finally
            {
                Interlocked.Decrement(ref pending);
            }
        }
    }

    private enum BatchState
    {
        /// <summary>Not sent yet, or refused after a gap and waiting for new sequence numbers.</summary>
        Unsent,

        /// <summary>A call to the partition is out.</summary>
        Sending,

        /// <summary>To be sent again (same bytes) at <see cref="Batch.RetryAt"/>.</summary>
        Waiting,

        /// <summary>Answered OUT_OF_ORDER_SEQUENCE_NUMBER; waits for the outcome of every earlier batch.</summary>
        Refused,

        Written,

        Failed,
    }

    private enum OutcomeKind
    {
        Written,
        Refused,
        Retriable,
        Failed,
    }

    /// <summary>A record waiting for its batch's outcome: whom to tell, and the record's own state.</summary>
    private readonly record struct Waiting(RecordCompletion Done, object? State);

    private sealed record Outcome(Batch Batch, int Attempt, OutcomeKind Kind, Exception? Error, long BaseOffset = -1, long AppendTime = -1);

    private sealed class Batch(DateTime created, int deliveryTimeoutMs, int bytes, int records)
    {
        public DateTime Created { get; } = created;

        public DateTime Deadline { get; } = created + TimeSpan.FromMilliseconds(deliveryTimeoutMs);

        public BatchWriter Builder { get; } = new(bytes);

        public List<Waiting> Completions { get; } = new(records);

        public List<long> Timestamps { get; } = new(records);

        public long Reserved { get; set; }

        /// <summary>The batch's place in the partition's order.</summary>
        public long Number { get; set; }

        public BatchState State { get; set; }

        /// <summary>The producer-id generation its sequence numbers belong to (0 while it has none).</summary>
        public int Generation { get; set; }

        public ReadOnlyMemory<byte> Bytes { get; set; }

        public int Attempts { get; set; }

        /// <summary>Answers that were retriable errors (the retries setting bounds them; refusals for order do not count).</summary>
        public int Retries { get; set; }

        /// <summary>The last send went out while an earlier batch was not yet acknowledged.</summary>
        public bool SentBehind { get; set; }

        public DateTime RetryAt { get; set; }

        public Exception? Last { get; set; }

        public Exception? Error { get; set; }

        public long BaseOffset { get; set; } = -1;

        public long AppendTime { get; set; } = -1;


    }
}
