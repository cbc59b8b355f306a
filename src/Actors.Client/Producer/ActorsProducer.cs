using System.Collections.Concurrent;
using Actors.Broker.Partitioning;
using Actors.Log.Records;
using Confluent.Kafka;
using TimestampType = Confluent.Kafka.TimestampType;
using TopicDescription = Actors.Broker.TopicDescription;

namespace Actors.Client;

/// <summary>
/// A Kafka producer over the broker's grains: Confluent.Kafka's <see cref="IProducer{TKey,TValue}"/> with Kafka's
/// partitioning (murmur2 of the key, sticky for null keys), batching (batch.size, linger.ms), buffer.memory with
/// max.block.ms, compression.type, acks, the idempotent producer and retries within delivery.timeout.ms.
/// </summary>
/// <remarks>Thread-safe. Delivery handlers and continuations run on the thread pool as batches complete.</remarks>
public sealed class ActorsProducer<TKey, TValue> : IProducer<TKey, TValue>
{
    private static int instances;
    private readonly ProducerSettings settings;
    private readonly ClusterMetadata metadata;
    private readonly ProducerIdentity? identity;
    private readonly BufferMemory buffer;
    private readonly ISerializer<TKey>? keySerializer;
    private readonly ISerializer<TValue>? valueSerializer;
    private readonly IAsyncSerializer<TKey>? asyncKeySerializer;
    private readonly IAsyncSerializer<TValue>? asyncValueSerializer;
    private readonly ConcurrentDictionary<(string Topic, int Partition), PartitionSender> senders = new();
    private readonly ConcurrentDictionary<string, TopicSenders> topics = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();

    // Records enter the partition queues one at a time, in the order their calls got here (SemaphoreSlim serves
    // waiters first come, first served), so records produced one after another keep their order even while a call
    // waits for metadata or for room in buffer.memory.
    private readonly SemaphoreSlim admission = new(1, 1);
    private int disposed;

    // The completion of the last delivery handler given to Produce (most applications pass the same one every time).
    private Delivery? lastDelivery;

    // Produce calls under way (serializing, or waiting for metadata or buffer.memory): Flush waits for them too.
    private int entering;

    internal ActorsProducer(ActorsProducerBuilder<TKey, TValue> builder, IGrainFactory grains)
    {
        settings = new ProducerSettings(new ClientConfig(builder.Config));
        settings.DropAnswer = builder.DropAnswer;
        settings.Transport = builder.Transport;
        metadata = new ClusterMetadata(grains, settings.AllowAutoCreate, TimeSpan.FromMilliseconds(settings.MetadataMaxAgeMs));
        identity = settings.Idempotent ? new ProducerIdentity(metadata) : null;
        buffer = new BufferMemory(settings.BufferMemory);
        keySerializer = builder.KeySerializer;
        valueSerializer = builder.ValueSerializer;
        asyncKeySerializer = builder.AsyncKeySerializer;
        asyncValueSerializer = builder.AsyncValueSerializer;
        if (keySerializer is null && asyncKeySerializer is null)
        {
            keySerializer = Serdes.DefaultSerializer<TKey>() ?? throw new InvalidOperationException(
                $"No key serializer for {typeof(TKey).Name}: call SetKeySerializer on the builder (Confluent's serializers, Schema Registry ones included, work).");
        }

        if (valueSerializer is null && asyncValueSerializer is null)
        {
            valueSerializer = Serdes.DefaultSerializer<TValue>() ?? throw new InvalidOperationException(
                $"No value serializer for {typeof(TValue).Name}: call SetValueSerializer on the builder (Confluent's serializers, Schema Registry ones included, work).");
        }

        Name = $"{settings.ClientId}#producer-{Interlocked.Increment(ref instances)}";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Not available: there is no librdkafka handle. Build a second client from the same builder instead.</summary>
    public Handle Handle => throw Unsupported(nameof(Handle), "there is no librdkafka handle; build each client with its builder");

    /// <summary>Bytes of records waiting in buffer.memory now.</summary>
    public long BufferedBytes => buffer.Used;

    /// <inheritdoc/>
    public Task<DeliveryResult<TKey, TValue>> ProduceAsync(string topic, Message<TKey, TValue> message, CancellationToken cancellationToken = default) =>
        ProduceAsync(new TopicPartition(topic, Partition.Any), message, cancellationToken);

    /// <inheritdoc/>
    public async Task<DeliveryResult<TKey, TValue>> ProduceAsync(TopicPartition topicPartition, Message<TKey, TValue> message, CancellationToken cancellationToken = default)
    {
        var delivery = new Delivery(null, new TaskCompletionSource<DeliveryResult<TKey, TValue>>(TaskCreationOptions.RunContinuationsAsynchronously));
        await EnqueueAsync(topicPartition, message, delivery, cancellationToken).ConfigureAwait(false);
        return await delivery.Done!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Produce(string topic, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>>? deliveryHandler = null) =>
        Produce(new TopicPartition(topic, Partition.Any), message, deliveryHandler);

    /// <inheritdoc/>
    public void Produce(TopicPartition topicPartition, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>>? deliveryHandler = null)
    {
        // One completion per delivery handler, shared by the records produced with it (the message travels with each
        // record); without a handler there is nothing to report.
        var delivery = Delivery.Silent;
        if (deliveryHandler is not null)
        {
            delivery = lastDelivery;
            if (delivery is null || !ReferenceEquals(delivery.Handler, deliveryHandler))
            {
                lastDelivery = delivery = new Delivery(deliveryHandler, null);
            }
        }

        if (keySerializer is not null && valueSerializer is not null)
        {
            // The usual case (synchronous serializers, room in buffer.memory, the topic's metadata cached) runs with
            // no state machine, task or closure: serialize, reserve and append on the caller's thread.
            Interlocked.Increment(ref entering);
            try
            {
                var record = Prepare(topicPartition, message);
                if (TryEnterNow(topicPartition, message, record, delivery))
                {
                    return;
                }

                EnterAsync(topicPartition, message, record, delivery, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                return;
            }
            finally
            {
                Interlocked.Decrement(ref entering);
            }
        }

        var entered = EnqueueAsync(topicPartition, message, delivery, CancellationToken.None);
        if (!entered.IsCompletedSuccessfully)
        {
            entered.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Delivery handlers run as batches complete, so there is nothing to serve: returns 0 at once.</summary>
    public int Poll(TimeSpan timeout) => 0;

    /// <inheritdoc/>
    public int Flush(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            FlushAsync(cts.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Fall through: the count says what is left.
        }

        return senders.Values.Sum(s => s.Pending);
    }

    /// <inheritdoc/>
    public void Flush(CancellationToken cancellationToken = default) => FlushAsync(cancellationToken).GetAwaiter().GetResult();

    /// <summary>Sends every buffered record now and waits until each is acknowledged or failed.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var all = senders.Values.ToArray();
        foreach (var s in all)
        {
            s.BeginFlush();
        }

        try
        {
            var pause = 1;
            while (Volatile.Read(ref entering) > 0 || senders.Values.Any(s => s.Pending > 0))
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause = Math.Min(pause * 2, 20);
                foreach (var s in senders.Values)
                {
                    s.BeginFlush();
                }
            }
        }
        finally
        {
            foreach (var s in senders.Values)
            {
                s.EndFlush();
            }
        }
    }

    public int AddBrokers(string brokers) => throw Unsupported(nameof(AddBrokers), "the client reaches the cluster through its Orleans IClusterClient; configure the Orleans client's gateways");

    public void SetSaslCredentials(string username, string password) => throw Unsupported(nameof(SetSaslCredentials), "the client reaches the cluster through Orleans, which authenticates on its own connection");

    public void InitTransactions(TimeSpan timeout) => throw Unsupported(nameof(InitTransactions), TransactionsAdvice);

    public void BeginTransaction() => throw Unsupported(nameof(BeginTransaction), TransactionsAdvice);

    public void CommitTransaction(TimeSpan timeout) => throw Unsupported(nameof(CommitTransaction), TransactionsAdvice);

    public void CommitTransaction() => throw Unsupported(nameof(CommitTransaction), TransactionsAdvice);

    public void AbortTransaction(TimeSpan timeout) => throw Unsupported(nameof(AbortTransaction), TransactionsAdvice);

    public void AbortTransaction() => throw Unsupported(nameof(AbortTransaction), TransactionsAdvice);

    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) =>
        throw Unsupported(nameof(SendOffsetsToTransaction), TransactionsAdvice);

    /// <summary>Stops the senders: records not yet acknowledged fail with Local_Destroy. Call Flush first to wait for them.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stopping.Cancel();
        foreach (var s in senders.Values)
        {
            s.Wake();
        }

        try
        {
            Task.WaitAll(senders.Values.Select(s => s.Completion).ToArray(), TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Loops end on their own; nothing to report at dispose.
        }

        foreach (var s in senders.Values)
        {
            s.Dispose();
        }

        identity?.Dispose();
        admission.Dispose();
        stopping.Dispose();
    }

    private const string TransactionsAdvice = "the Actors client does not run Kafka transactions yet; the idempotent producer (enable.idempotence, on by default) gives exactly-once writes per partition";

    internal static NotSupportedException Unsupported(string member, string advice) =>
        new($"{member} is not supported by the Actors client: {advice}. See docs/client.md.");

    private async ValueTask EnqueueAsync(TopicPartition target, Message<TKey, TValue> message, Delivery delivery, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref entering);
        try
        {
            ArgumentNullException.ThrowIfNull(target);
            ArgumentNullException.ThrowIfNull(message);
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            var topic = target.Topic;
            var keyBytes = await SerializeAsync(keySerializer, asyncKeySerializer, message.Key, new SerializationContext(MessageComponentType.Key, topic, message.Headers)).ConfigureAwait(false);
            var valueBytes = await SerializeAsync(valueSerializer, asyncValueSerializer, message.Value, new SerializationContext(MessageComponentType.Value, topic, message.Headers)).ConfigureAwait(false);
            var record = Measure(topic, message, keyBytes, valueBytes);
            await EnterAsync(target, message, record, delivery, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref entering);
        }
    }

    /// <summary>A record serialized and measured, not yet admitted.</summary>
    private readonly record struct Prepared(byte[]? Key, byte[]? Value, RecordHeader[]? Headers, int Size);

    /// <summary>Serializes with the synchronous serializers and checks the size.</summary>
    private Prepared Prepare(TopicPartition target, Message<TKey, TValue> message)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        var topic = target.Topic;
        var keyBytes = Serialize(keySerializer!, message.Key, new SerializationContext(MessageComponentType.Key, topic, message.Headers));
        var valueBytes = Serialize(valueSerializer!, message.Value, new SerializationContext(MessageComponentType.Value, topic, message.Headers));
        return Measure(topic, message, keyBytes, valueBytes);
    }

    private Prepared Measure(string topic, Message<TKey, TValue> message, byte[]? keyBytes, byte[]? valueBytes)
    {
        RecordHeader[]? headers = null;
        if (message.Headers is { Count: > 0 } given)
        {
            headers = new RecordHeader[given.Count];
            for (var i = 0; i < headers.Length; i++)
            {
                headers[i] = new RecordHeader(given[i].Key, given[i].GetValueBytes());
            }
        }
        else if (message.Headers is not null)
        {
            headers = [];
        }

        var size = PartitionSender.Estimate(keyBytes, valueBytes, headers);
        if (size > settings.MaxRequestSize || size > settings.BufferMemory)
        {
            throw new ActorsException(BrokerErrorCode.MessageTooLarge,
                $"A record of about {size} bytes for topic '{topic}' is larger than max.request.size ({settings.MaxRequestSize}) or buffer.memory ({settings.BufferMemory}); send a smaller record or raise those settings.");
        }

        return new Prepared(keyBytes, valueBytes, headers, size);
    }

    /// <summary>Admits the record at once when nobody waits before it, buffer.memory has room and the topic's
    /// metadata is cached; false (nothing taken) otherwise.</summary>
    private bool TryEnterNow(TopicPartition target, Message<TKey, TValue> message, in Prepared record, Delivery delivery)
    {
        if (!admission.Wait(0))
        {
            return false;
        }

        try
        {
            if (!metadata.TryCached(target.Topic, out var description) || !buffer.TryReserve(record.Size))
            {
                return false;
            }

            try
            {
                Place(target, message, record, description, delivery);
            }
            catch
            {
                buffer.Release(record.Size);
                throw;
            }

            return true;
        }
        finally
        {
            admission.Release();
        }
    }

    private async ValueTask EnterAsync(TopicPartition target, Message<TKey, TValue> message, Prepared record, Delivery delivery, CancellationToken cancellationToken)
    {
        var maxBlock = TimeSpan.FromMilliseconds(settings.MaxBlockMs);
        await admission.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await buffer.ReserveAsync(record.Size, maxBlock, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            admission.Release();
            throw;
        }

        try
        {
            var description = await metadata.TopicAsync(target.Topic).ConfigureAwait(false);
            Place(target, message, record, description, delivery);
        }
        catch
        {
            buffer.Release(record.Size);
            throw;
        }
        finally
        {
            admission.Release();
        }
    }

    /// <summary>Picks the partition and appends the record to its sender (under the admission semaphore, with the
    /// record's bytes reserved in buffer.memory).</summary>
    private void Place(TopicPartition target, Message<TKey, TValue> message, in Prepared record, TopicDescription description, Delivery delivery)
    {
        var topic = target.Topic;
        var timestamp = message.Timestamp.Type == TimestampType.NotAvailable
            ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()
            : message.Timestamp.UnixTimestampMs;
        var count = description.Partitions.Length;
        var state = topics.TryGetValue(topic, out var known) ? known : topics.GetOrAdd(topic, static t => new TopicSenders());
        int partition;
        if (!target.Partition.IsSpecial)
        {
            partition = target.Partition.Value;
            if (partition < 0 || partition >= count)
            {
                throw new ActorsException(BrokerErrorCode.UnknownTopicOrPartition, $"Topic '{topic}' has {count} partitions; partition {partition} does not exist.");
            }
        }
        else if (record.Key is not null)
        {
            partition = Murmur2Partitioner.Partition(record.Key, count);
        }
        else
        {
            partition = StickyPartition(state, count);
        }

        var sender = state.Get(partition) ?? state.Add(partition, senders.GetOrAdd((topic, partition), k => new PartitionSender(k.Topic, k.Partition, settings, metadata, identity, buffer, stopping.Token)));
        sender.Append(timestamp, record.Key, record.Value, record.Headers, record.Size, delivery, message);
    }

    /// <summary>One topic's senders by partition and its sticky partition (read and written under the admission
    /// semaphore, so records placed one after another see each other's choice).</summary>
    private sealed class TopicSenders
    {
        private PartitionSender?[] byPartition = [];

        public int Sticky { get; set; } = -1;

        public PartitionSender? Get(int partition)
        {
            var all = byPartition;
            return partition < all.Length ? all[partition] : null;
        }

        public PartitionSender Add(int partition, PartitionSender sender)
        {
            if (partition >= byPartition.Length)
            {
                Array.Resize(ref byPartition, partition + 1);
            }

            byPartition[partition] = sender;
            return sender;
        }
    }

    /// <summary>Delivery of records: reports to a handler (Produce; one object per handler, shared by its records) or a
    /// task (ProduceAsync; one per call). The record's message comes with each completion.</summary>
    private sealed class Delivery(Action<DeliveryReport<TKey, TValue>>? handler, TaskCompletionSource<DeliveryResult<TKey, TValue>>? done) : RecordCompletion
    {
        private static readonly Error NoError = new(ErrorCode.NoError);

        /// <summary>The completion of records produced without a delivery handler.</summary>
        public static readonly Delivery Silent = new(null, null);

        public TaskCompletionSource<DeliveryResult<TKey, TValue>>? Done => done;

        public Action<DeliveryReport<TKey, TValue>>? Handler => handler;

        public override void Complete(string topic, int partition, object? state, long offset, long timestamp, Exception? error)
        {
            if (handler is null && done is null)
            {
                return;
            }

            var message = (Message<TKey, TValue>)state!;
            if (error is null && message.Timestamp.Type == TimestampType.NotAvailable)
            {
                message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
            }

            var where = new TopicPartitionOffset(topic, new Partition(partition), offset < 0 ? Offset.Unset : new Offset(offset));
            var status = error is null ? PersistenceStatus.Persisted : PersistenceStatus.NotPersisted;
            var failure = error is null ? null : ActorsException.From(error, $"Produce to {topic}-{partition}");
            if (done is not null)
            {
                var result = new DeliveryResult<TKey, TValue> { Message = message, TopicPartitionOffset = where, Status = status };
                if (failure is null)
                {
                    done.TrySetResult(result);
                }
                else
                {
                    done.TrySetException(new ProduceException<TKey, TValue>(failure.Error, result, failure));
                }

                return;
            }

            handler!(new DeliveryReport<TKey, TValue> { Message = message, TopicPartitionOffset = where, Status = status, Error = failure?.Error ?? NoError });
        }
    }

    private static int StickyPartition(TopicSenders state, int count)
    {
        // Kafka's sticky partitioner: stay on one partition while its batch is open; pick another when a new batch starts.
        var current = state.Sticky;
        if (current >= 0 && current < count && state.Get(current) is { HasOpenBatch: true })
        {
            return current;
        }

        var next = count == 1 ? 0 : Random.Shared.Next(count);
        if (count > 1 && next == current)
        {
            next = (next + 1) % count;
        }

        state.Sticky = next;
        return next;
    }

    private static byte[]? Serialize<T>(ISerializer<T> serializer, T data, SerializationContext context)
    {
        try
        {
            return serializer.Serialize(data, context);
        }
        catch (Exception e) when (e is not ActorsException)
        {
            var code = context.Component == MessageComponentType.Key ? ErrorCode.Local_KeySerialization : ErrorCode.Local_ValueSerialization;
            throw new ActorsException(code, $"The {context.Component.ToString().ToLowerInvariant()} serializer failed for topic '{context.Topic}': {e.Message}", inner: e);
        }
    }

    private static async ValueTask<byte[]?> SerializeAsync<T>(ISerializer<T>? sync, IAsyncSerializer<T>? async, T data, SerializationContext context)
    {
        try
        {
            return sync is not null ? sync.Serialize(data, context) : await async!.SerializeAsync(data, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ActorsException)
        {
            var code = context.Component == MessageComponentType.Key ? ErrorCode.Local_KeySerialization : ErrorCode.Local_ValueSerialization;
            throw new ActorsException(code, $"The {context.Component.ToString().ToLowerInvariant()} serializer failed for topic '{context.Topic}': {e.Message}", inner: e);
        }
    }
}
