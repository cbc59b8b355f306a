using Actors.Broker;
using Actors.Log.Records;
using Orleans.Runtime;

namespace Actors.Client;

/// <summary>What the sender reports for each record once its batch is written or has failed.</summary>
internal delegate void RecordCompletion(long offset, long timestamp, Exception? error);

/// <summary>
/// One partition's accumulator and sender: records gather in an open batch until it reaches batch.size or is
/// linger.ms old (or a flush asks), then the batch is sent, one at a time per partition, so the order of records
/// is the order they were produced. A batch that fails with a retriable error is sent again, unchanged (same
/// sequence numbers, so the broker drops a copy it already has), until delivery.timeout.ms from its first record.
/// </summary>
/// <remarks>Thread-safe: appends take the lock; one loop task sends.</remarks>
internal sealed class PartitionSender : IDisposable
{
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
    private readonly string topic;
    private readonly int partition;
    private readonly ProducerSettings settings;
    private readonly ClusterMetadata metadata;
    private readonly ProducerIdentity? identity;
    private readonly BufferMemory buffer;
    private readonly CancellationToken stopping;
    private readonly Task loop;
    private Batch? open;
    private bool flushing;
    private int sequence;
    private int sequenceGeneration;
    private int pending;

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
    public bool HasOpenBatch
    {
        get
        {
            lock (gate)
            {
                return open is not null;
            }
        }
    }

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
    public void Append(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers, int reserved, RecordCompletion done)
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
                ready.Enqueue(open);
                open = null;
                wake = true;
            }

            if (open is null)
            {
                open = new Batch(DateTime.UtcNow);
                wake = true;
            }

            open.Builder.Add(timestamp, key, value, headers);
            open.Completions.Add(done);
            open.Timestamps.Add(timestamp);
            open.Reserved += reserved;
            Interlocked.Increment(ref pending);
            if (open.Builder.SizeInBytes >= settings.BatchSize)
            {
                ready.Enqueue(open);
                open = null;
                wake = true;
            }
        }

        if (wake)
        {
            signal.Release();
        }
    }

    /// <summary>Sends the open batch without waiting for linger.ms (until <see cref="EndFlush"/>).</summary>
    public void BeginFlush()
    {
        lock (gate)
        {
            flushing = true;
        }

        signal.Release();
    }

    public void EndFlush()
    {
        lock (gate)
        {
            flushing = false;
        }
    }

    /// <summary>Wakes the loop so it sees the stop token.</summary>
    public void Wake() => signal.Release();

    private async Task RunAsync()
    {
        while (true)
        {
            Batch? next = null;
            var wait = Timeout.InfiniteTimeSpan;
            lock (gate)
            {
                if (ready.Count > 0)
                {
                    next = ready.Dequeue();
                }
                else if (open is not null)
                {
                    var age = DateTime.UtcNow - open.Created;
                    if (flushing || stopping.IsCancellationRequested || age >= TimeSpan.FromMilliseconds(settings.LingerMs))
                    {
                        next = open;
                        open = null;
                    }
                    else
                    {
                        wait = TimeSpan.FromMilliseconds(settings.LingerMs) - age;
                    }
                }
                else if (stopping.IsCancellationRequested)
                {
                    return;
                }
            }

            if (next is null)
            {
                try
                {
                    await signal.WaitAsync(wait, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: the open batch is failed below on the next round.
                }

                continue;
            }

            if (stopping.IsCancellationRequested)
            {
                Complete(next, -1, -1, new ActorsException(Confluent.Kafka.ErrorCode.Local_Destroy, "The producer was disposed before the record was sent; call Flush before Dispose to wait for delivery."));
                continue;
            }

            await SendAsync(next).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(Batch batch)
    {
        var deadline = batch.Created + TimeSpan.FromMilliseconds(settings.DeliveryTimeoutMs);
        var generation = 0;
        try
        {
            if (identity is not null)
            {
                var (id, epoch, gen) = await identity.GetAsync(stopping).ConfigureAwait(false);
                if (gen != sequenceGeneration)
                {
                    sequenceGeneration = gen;
                    sequence = 0;
                }

                generation = gen;
                batch.Builder.ProducerId = id;
                batch.Builder.ProducerEpoch = epoch;
                batch.Builder.BaseSequence = sequence;
                sequence = (int)(((long)sequence + batch.Builder.Count) % int.MaxValue);
            }

            var bytes = RecordCodec.Build(batch.Builder, settings.Compression);
            if (bytes.Length > settings.MaxRequestSize)
            {
                throw new ActorsException(BrokerErrorCode.MessageTooLarge,
                    $"A batch of {bytes.Length} bytes for {topic}-{partition} is larger than max.request.size ({settings.MaxRequestSize}); send smaller records or raise max.request.size.");
            }

            Exception? last = null;
            for (var attempt = 0; ; attempt++)
            {
                if (DateTime.UtcNow > deadline || attempt > settings.Retries)
                {
                    throw new ActorsException(BrokerErrorCode.RequestTimedOut,
                        $"Records for {topic}-{partition} were not acknowledged within delivery.timeout.ms ({settings.DeliveryTimeoutMs} ms) after {attempt} attempts; last error: {last?.Message ?? "none"}. Check the cluster, or raise delivery.timeout.ms.",
                        last);
                }

                if (attempt > 0)
                {
                    await Task.Delay(settings.RetryBackoffMs, stopping).ConfigureAwait(false);
                }

                ProduceResponse answer;
                try
                {
                    answer = await metadata.Partition(topic, partition).ProduceAsync(new ProduceRequest
                    {
                        Acks = settings.Acks,
                        TimeoutMs = settings.RequestTimeoutMs,
                        Records = bytes,
                        CurrentLeaderEpoch = metadata.LeaderEpoch(topic, partition),
                    }).ConfigureAwait(false);
                    if (settings.DropAnswer?.Invoke(attempt) == true)
                    {
                        throw new TimeoutException($"Test hook: the answer to attempt {attempt} was dropped.");
                    }
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or BrokerException { IsRetriable: true })
                {
                    last = e;
                    await RefreshAsync().ConfigureAwait(false);
                    continue;
                }
                catch (BrokerException e)
                {
                    throw ActorsException.From(e.Code, e.Message, $"Produce to {topic}-{partition}");
                }

                if (answer.Error is BrokerErrorCode.None or BrokerErrorCode.DuplicateSequenceNumber)
                {
                    Complete(batch, answer.BaseOffset, answer.LogAppendTimeMs, null);
                    return;
                }

                if (!answer.Error.IsRetriable())
                {
                    throw ActorsException.From(answer.Error, answer.ErrorMessage, $"Produce to {topic}-{partition}");
                }

                last = ActorsException.From(answer.Error, answer.ErrorMessage, $"Produce to {topic}-{partition}");
                if (answer.Error is BrokerErrorCode.NotLeaderOrFollower or BrokerErrorCode.LeaderNotAvailable or BrokerErrorCode.FencedLeaderEpoch or BrokerErrorCode.UnknownLeaderEpoch)
                {
                    await RefreshAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            if (identity is not null && generation != 0)
            {
                identity.Reset(generation);
            }

            Complete(batch, -1, -1, e is OperationCanceledException
                ? new ActorsException(Confluent.Kafka.ErrorCode.Local_Destroy, "The producer was disposed before the record was acknowledged.")
                : ActorsException.From(e, $"Produce to {topic}-{partition}"));
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
                batch.Completions[i](offset, timestamp, error);
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

    private sealed class Batch(DateTime created)
    {
        public DateTime Created { get; } = created;

        public RecordBatchBuilder Builder { get; } = new(1024);

        public List<RecordCompletion> Completions { get; } = [];

        public List<long> Timestamps { get; } = [];

        public long Reserved { get; set; }
    }
}
