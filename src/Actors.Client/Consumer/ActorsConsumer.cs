using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Actors.Broker;
using Confluent.Kafka;
using Orleans.Runtime;
using TimestampType = Confluent.Kafka.TimestampType;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Client;

/// <summary>
/// A Kafka consumer over the broker's grains: Confluent.Kafka's <see cref="IConsumer{TKey,TValue}"/>. With
/// <see cref="Subscribe(IEnumerable{string})"/> it is a member of its group (group.id) through the consumer-group
/// grain's incremental protocol: the grain assigns partitions, a partition moving to another member is revoked here
/// first (the revoked handler runs and, with enable.auto.commit, the position is committed) before the group hands it
/// on. With <see cref="Assign(IEnumerable{TopicPartitionOffset})"/> it reads the partitions given. Each partition keeps
/// one fetch ahead of what Consume has returned, so a fast consumer does not wait a round trip per record.
/// </summary>
/// <remarks>As in Confluent.Kafka, one thread calls Consume (rebalance handlers run on it); the other members may be
/// called from any thread. Fetches and heartbeats run in the background under one lock.</remarks>
public sealed class ActorsConsumer<TKey, TValue> : IConsumer<TKey, TValue>
{
    private static int instances;
    private readonly Lock gate = new();
    private readonly ConsumerSettings settings;
    private readonly ClusterMetadata metadata;
    private readonly ActorsConsumerBuilder<TKey, TValue> builder;
    private readonly IDeserializer<TKey> keyDeserializer;
    private readonly IDeserializer<TValue> valueDeserializer;
    private readonly Dictionary<BrokerTopicPartition, PartitionFetch> assigned = [];

    // The assigned partitions as an array for Consume's round robin; rebuilt after the assignment changes.
    private PartitionFetch[]? order;
    private readonly SemaphoreSlim dataReady = new(0);
    private readonly CancellationTokenSource closing = new();
    private Membership? membership;
    private int roundRobin;
    private DateTime nextAutoCommit;
    private bool closed;

    internal ActorsConsumer(ActorsConsumerBuilder<TKey, TValue> builder, IGrainFactory grains)
    {
        this.builder = builder;
        settings = new ConsumerSettings(new ClientConfig(builder.Config));
        metadata = new ClusterMetadata(grains, settings.AllowAutoCreate, TimeSpan.FromMilliseconds(settings.MetadataMaxAgeMs));
        keyDeserializer = builder.KeyDeserializer ?? Serdes.DefaultDeserializer<TKey>() ?? throw new InvalidOperationException(
            $"No key deserializer for {typeof(TKey).Name}: call SetKeyDeserializer on the builder (Confluent's deserializers, Schema Registry ones through AsSyncOverAsync, work).");
        valueDeserializer = builder.ValueDeserializer ?? Serdes.DefaultDeserializer<TValue>() ?? throw new InvalidOperationException(
            $"No value deserializer for {typeof(TValue).Name}: call SetValueDeserializer on the builder (Confluent's deserializers, Schema Registry ones through AsSyncOverAsync, work).");
        Name = $"{settings.ClientId}#consumer-{Interlocked.Increment(ref instances)}";
        nextAutoCommit = DateTime.UtcNow.AddMilliseconds(settings.AutoCommitIntervalMs);
    }

    public string Name { get; }

    public Handle Handle => throw ActorsProducer<TKey, TValue>.Unsupported(nameof(Handle), "there is no librdkafka handle; build each client with its builder");

    public string MemberId
    {
        get
        {
            lock (gate)
            {
                return membership?.MemberId ?? string.Empty;
            }
        }
    }

    public List<TopicPartition> Assignment
    {
        get
        {
            lock (gate)
            {
                return assigned.Keys.Order().Select(ToConfluent).ToList();
            }
        }
    }

    public List<string> Subscription
    {
        get
        {
            lock (gate)
            {
                return membership?.Topics.ToList() ?? [];
            }
        }
    }

    public IConsumerGroupMetadata ConsumerGroupMetadata =>
        throw ActorsProducer<TKey, TValue>.Unsupported(nameof(ConsumerGroupMetadata), "it serves only SendOffsetsToTransaction, and the Actors client has no transactions yet");

    public ConsumeResult<TKey, TValue>? Consume(int millisecondsTimeout) => Consume(TimeSpan.FromMilliseconds(millisecondsTimeout));

    /// <summary>The next record, or null when none arrives within <paramref name="timeout"/>.</summary>
    public ConsumeResult<TKey, TValue>? Consume(TimeSpan timeout) =>
        TryConsumeReady() ?? ConsumeAsync(timeout, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>The next record, waiting until one arrives.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ConsumeResult<TKey, TValue> Consume(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return TryConsumeReady() ?? ConsumeAsync(Timeout.InfiniteTimeSpan, cancellationToken).GetAwaiter().GetResult()!;
    }

    /// <summary>A record already fetched, when Consume has nothing else to do first (no rebalance to apply, no
    /// position to look up, no auto-commit due): the common case, with no task or state machine. Null otherwise.</summary>
    private ConsumeResult<TKey, TValue>? TryConsumeReady()
    {
        ThrowIfClosed();
        if (membership is { Changed: true } || (settings.EnableAutoCommit && !string.IsNullOrEmpty(settings.GroupId) && DateTime.UtcNow >= nextAutoCommit))
        {
            return null;
        }

        lock (gate)
        {
            foreach (var f in assigned.Values)
            {
                if (f.Position < 0 && f.Error is null)
                {
                    return null;
                }
            }
        }

        return TakeNext();
    }

    /// <summary>Records as they arrive, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async IAsyncEnumerable<ConsumeResult<TKey, TValue>> ConsumeAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            ConsumeResult<TKey, TValue>? next;
            try
            {
                next = await ConsumeAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (next is not null)
            {
                yield return next;
            }
        }
    }

    /// <summary>The next record, or null after <paramref name="timeout"/> (infinite: wait for one).</summary>
    public async Task<ConsumeResult<TKey, TValue>?> ConsumeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            await ApplyRebalanceAsync().ConfigureAwait(false);
            await InitPositionsAsync().ConfigureAwait(false);
            if (settings.EnableAutoCommit && !string.IsNullOrEmpty(settings.GroupId) && DateTime.UtcNow >= nextAutoCommit)
            {
                nextAutoCommit = DateTime.UtcNow.AddMilliseconds(settings.AutoCommitIntervalMs);
                await CommitStoredAsync(null, quiet: true).ConfigureAwait(false);
            }

            var next = TakeNext();
            if (next is not null)
            {
                return next;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            // Wake for data, a rebalance or the next auto-commit; at most every 100 ms to look at both.
            var wait = left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100);
            await dataReady.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Subscribe(string topic) => Subscribe([topic]);

    /// <summary>Joins group.id with these topics (a name starting with '^' is a regular expression, matched against the
    /// cluster's topics at once and again every topic.metadata.refresh.interval.ms).</summary>
    public void Subscribe(IEnumerable<string> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ThrowIfClosed();
        if (string.IsNullOrEmpty(settings.GroupId))
        {
            throw new ActorsException(BrokerErrorCode.InvalidGroupId, "Subscribe needs group.id: set it in the consumer config, or use Assign to read partitions without a group.");
        }

        var list = topics.ToArray();
        if (list.Length == 0 || list.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Subscribe needs at least one topic name or pattern, none empty.", nameof(topics));
        }

        foreach (var t in list.Where(t => t.StartsWith('^')))
        {
            try
            {
                _ = new Regex(t, RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Subscribe: '{t}' starts with ^, so it is a regular expression, but it does not parse ({e.Message}). Fix the pattern, or drop the ^ to name a topic.", nameof(topics), e);
            }
        }

        lock (gate)
        {
            if (membership is null)
            {
                membership = new Membership(this, list);
                membership.Start();
            }
            else
            {
                membership.Resubscribe(list);
            }
        }
    }

    public void Unsubscribe()
    {
        Membership? leaving;
        lock (gate)
        {
            leaving = membership;
            membership = null;
        }

        if (leaving is not null)
        {
            RevokeAllAsync(leaving, commit: settings.EnableAutoCommit).GetAwaiter().GetResult();
            leaving.LeaveAsync().GetAwaiter().GetResult();
        }
    }

    public void Assign(TopicPartition partition) => Assign([new TopicPartitionOffset(partition, Offset.Unset)]);

    public void Assign(TopicPartitionOffset partition) => Assign([partition]);

    public void Assign(IEnumerable<TopicPartition> partitions) => Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset)));

    /// <summary>Reads exactly these partitions (replacing the assignment), from the offsets given (Unset or Stored: the
    /// committed offset, else auto.offset.reset; Beginning; End; or an offset).</summary>
    public void Assign(IEnumerable<TopicPartitionOffset> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        lock (gate)
        {
            foreach (var p in assigned.Values)
            {
                p.Version++;
            }

            assigned.Clear();
            order = null;
        }

        IncrementalAssign(partitions);
    }

    public void IncrementalAssign(IEnumerable<TopicPartition> partitions) => IncrementalAssign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset)));

    public void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ThrowIfClosed();
        lock (gate)
        {
            foreach (var p in partitions)
            {
                var tp = ToBroker(p.TopicPartition);
                if (!assigned.TryGetValue(tp, out var fetch))
                {
                    fetch = new PartitionFetch(tp);
                    assigned[tp] = fetch;
                    order = null;
                }

                fetch.Reset(p.Offset.Value);
            }
        }

        dataReady.Release();
    }

    public void IncrementalUnassign(IEnumerable<TopicPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        lock (gate)
        {
            foreach (var p in partitions)
            {
                if (assigned.Remove(ToBroker(p), out var fetch))
                {
                    order = null;
                    fetch.Version++;
                }
            }
        }
    }

    public void Unassign()
    {
        lock (gate)
        {
            foreach (var p in assigned.Values)
            {
                p.Version++;
            }

            assigned.Clear();
            order = null;
        }
    }

    public void StoreOffset(ConsumeResult<TKey, TValue> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        StoreOffset(new TopicPartitionOffset(result.TopicPartition, result.Offset + 1));
    }

    /// <summary>Stores the offset (the next one to read) that the next Commit() or auto-commit commits.</summary>
    public void StoreOffset(TopicPartitionOffset offset)
    {
        ArgumentNullException.ThrowIfNull(offset);
        lock (gate)
        {
            if (!assigned.TryGetValue(ToBroker(offset.TopicPartition), out var fetch))
            {
                throw new ActorsException(ErrorCode.Local_State, $"StoreOffset for {offset.TopicPartition}, which is not assigned to this consumer; store offsets of assigned partitions only.");
            }

            fetch.Stored = offset.Offset.Value;
        }
    }

    /// <summary>Commits the stored offsets of the assigned partitions; returns what was committed.</summary>
    public List<TopicPartitionOffset> Commit() => CommitStoredAsync(null, quiet: false).GetAwaiter().GetResult();

    public void Commit(IEnumerable<TopicPartitionOffset> offsets)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        CommitAsync(offsets.Select(o => new BrokerTopicPartitionOffset(ToBroker(o.TopicPartition), o.Offset.Value, -1, null)).ToArray()).GetAwaiter().GetResult();
    }

    public void Commit(ConsumeResult<TKey, TValue> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Commit([new TopicPartitionOffset(result.TopicPartition, result.Offset + 1)]);
    }

    public void Seek(TopicPartitionOffset tpo)
    {
        ArgumentNullException.ThrowIfNull(tpo);
        lock (gate)
        {
            if (!assigned.TryGetValue(ToBroker(tpo.TopicPartition), out var fetch))
            {
                throw new ActorsException(ErrorCode.Local_State, $"Seek on {tpo.TopicPartition}, which is not assigned to this consumer; Assign it first, or seek from the partitions-assigned handler.");
            }

            fetch.Reset(tpo.Offset.Value);
        }

        dataReady.Release();
    }

    public void Pause(IEnumerable<TopicPartition> partitions) => SetPaused(partitions, true);

    public void Resume(IEnumerable<TopicPartition> partitions) => SetPaused(partitions, false);

    public List<TopicPartitionOffset> Committed(TimeSpan timeout) => Committed(Assignment, timeout);

    /// <summary>The group's committed offsets (Offset.Unset where none).</summary>
    public List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var asked = partitions.Select(ToBroker).ToArray();
        var found = CommittedAsync(asked).WaitAsync(timeout).GetAwaiter().GetResult();
        return asked.Select(tp => new TopicPartitionOffset(ToConfluent(tp), found.TryGetValue(tp, out var o) && o >= 0 ? new Offset(o) : Offset.Unset)).ToList();
    }

    /// <summary>The offset Consume returns next for the partition, or Offset.Unset before it is known.</summary>
    public Offset Position(TopicPartition partition)
    {
        lock (gate)
        {
            return assigned.TryGetValue(ToBroker(partition), out var fetch) && fetch.Position >= 0 ? new Offset(fetch.Position) : Offset.Unset;
        }
    }

    public List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(timestampsToSearch);
        return Task.WhenAll(timestampsToSearch.Select(async t =>
        {
            var offset = await ListOffsetAsync(ToBroker(t.TopicPartition), t.Timestamp.UnixTimestampMs).ConfigureAwait(false);
            return new TopicPartitionOffset(t.TopicPartition, offset < 0 ? Offset.End : new Offset(offset));
        })).WaitAsync(timeout).GetAwaiter().GetResult().ToList();
    }

    /// <summary>The log start offset and high watermark seen by the last fetch (Offset.Unset before one).</summary>
    public WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition)
    {
        lock (gate)
        {
            return assigned.TryGetValue(ToBroker(topicPartition), out var f) && f.HighWatermark >= 0
                ? new WatermarkOffsets(new Offset(f.LogStartOffset), new Offset(f.HighWatermark))
                : new WatermarkOffsets(Offset.Unset, Offset.Unset);
        }
    }

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout)
    {
        var tp = ToBroker(topicPartition);
        var low = ListOffsetAsync(tp, ListOffsetsRequest.Earliest);
        var high = ListOffsetAsync(tp, ListOffsetsRequest.Latest);
        Task.WhenAll(low, high).WaitAsync(timeout).GetAwaiter().GetResult();
        return new WatermarkOffsets(new Offset(low.Result), new Offset(high.Result));
    }

    public int AddBrokers(string brokers) => throw ActorsProducer<TKey, TValue>.Unsupported(nameof(AddBrokers), "the client reaches the cluster through its Orleans IClusterClient; configure the Orleans client's gateways");

    public void SetSaslCredentials(string username, string password) => throw ActorsProducer<TKey, TValue>.Unsupported(nameof(SetSaslCredentials), "the client reaches the cluster through Orleans, which authenticates on its own connection");

    /// <summary>Leaves the group: the revoked handler runs, stored offsets are committed (enable.auto.commit), and the
    /// group hands the partitions to the other members at once.</summary>
    public void Close()
    {
        if (closed)
        {
            return;
        }

        Unsubscribe();
        if (settings.EnableAutoCommit && !string.IsNullOrEmpty(settings.GroupId))
        {
            // Assign mode: what was consumed is committed as the group's (which must have no active members).
            CommitStoredAsync(null, quiet: true).GetAwaiter().GetResult();
        }

        lock (gate)
        {
            closed = true;
            foreach (var p in assigned.Values)
            {
                p.Version++;
            }

            assigned.Clear();
            order = null;
        }

        closing.Cancel();
    }

    public void Dispose()
    {
        try
        {
            Close();
        }
        catch (KafkaException)
        {
            // Dispose does not throw; Close reports errors to callers that want them.
        }

        closing.Dispose();
        dataReady.Dispose();
    }

    // ---- Positions, fetches and records -------------------------------------------------------------------------

    private ConsumeResult<TKey, TValue>? TakeNext()
    {
        BrokerTopicPartition from = default!;
        FetchedRecord taken = default;
        var found = false;
        lock (gate)
        {
            var partitions = order ??= [.. assigned.Values];
            for (var i = 0; i < partitions.Length; i++)
            {
                var fetch = partitions[(roundRobin + i) % partitions.Length];
                if (fetch.Error is { } error)
                {
                    fetch.Error = null;
                    throw error;
                }

                if (fetch.Paused || fetch.Position < 0)
                {
                    continue;
                }

                while (fetch.Buffered.TryPeek(out var record) && record.Offset < fetch.Position)
                {
                    fetch.Buffered.Dequeue();
                }

                StartFetch(fetch);
                if (fetch.Buffered.TryDequeue(out var next))
                {
                    roundRobin = (roundRobin + i + 1) % partitions.Length;
                    fetch.Position = next.Offset + 1;
                    if (settings.EnableAutoOffsetStore)
                    {
                        fetch.Stored = next.Offset + 1;
                    }

                    StartFetch(fetch);
                    (from, taken, found) = (fetch.TopicPartition, next, true);
                    break;
                }
            }
        }

        // Deserialized outside the lock, so fetches that come back meanwhile are not held up.
        return found ? ToResult(from, taken) : null;
    }

    /// <summary>Keeps one fetch in flight per readable partition while fewer records wait than max.poll.records or
    /// than the last fetch brought (under the lock): the next fetch is under way while the application consumes the
    /// last one, and at most about two fetches' worth (max.partition.fetch.bytes each) are held per partition.</summary>
    private void StartFetch(PartitionFetch fetch)
    {
        if (closed || fetch.InFlight || fetch.Paused || fetch.Position < 0 || fetch.Buffered.Count >= Math.Max(settings.MaxPollRecords, fetch.LastFetchCount)
            || (fetch.RetryAt != default && DateTime.UtcNow < fetch.RetryAt))
        {
            return;
        }

        var from = fetch.Buffered.Count > 0 ? fetch.NextFetch : fetch.Position;
        fetch.InFlight = true;
        _ = FetchAsync(fetch, from, fetch.Version);
    }

    private async Task FetchAsync(PartitionFetch fetch, long from, int version)
    {
        FetchResponse? answer = null;
        Exception? failure = null;
        try
        {
            answer = await metadata.Partition(fetch.TopicPartition.Topic, fetch.TopicPartition.Partition).FetchAsync(new FetchRequest
            {
                FetchOffset = from,
                MaxBytes = settings.MaxPartitionFetchBytes,
                MinBytes = settings.FetchMinBytes,
                MaxWaitMs = settings.FetchMaxWaitMs,
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        // Records are decoded before taking the lock, so Consume keeps serving the ones already buffered meanwhile.
        List<FetchedRecord>? records = null;
        var next = from;
        if (failure is null && answer!.Error == BrokerErrorCode.None)
        {
            try
            {
                records = FetchedRecords.Read(answer.Records.Span, from, out next);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        lock (gate)
        {
            fetch.InFlight = false;
            if (fetch.Version != version || closed)
            {
                return;
            }

            if (failure is not null || answer!.Error != BrokerErrorCode.None)
            {
                var code = answer?.Error ?? (failure is BrokerException b ? b.Code : BrokerErrorCode.NotLeaderOrFollower);
                if (code == BrokerErrorCode.OffsetOutOfRange)
                {
                    fetch.Buffered.Clear();
                    fetch.Position = -1;
                    fetch.ResetTo = settings.AutoOffsetReset;
                }
                else if (code.IsRetriable() || failure is TimeoutException or OrleansException)
                {
                    fetch.RetryAt = DateTime.UtcNow.AddMilliseconds(settings.RetryBackoffMs);
                    Report(failure is null ? ActorsException.From(code, answer?.ErrorMessage, $"Fetch of {fetch.TopicPartition}") : ActorsException.From(failure, $"Fetch of {fetch.TopicPartition}"));
                }
                else
                {
                    fetch.Error = failure is null ? ActorsException.From(code, answer?.ErrorMessage, $"Fetch of {fetch.TopicPartition}") : ActorsException.From(failure, $"Fetch of {fetch.TopicPartition}");
                }
            }
            else
            {
                fetch.HighWatermark = answer.HighWatermark;
                fetch.LogStartOffset = answer.LogStartOffset;
                foreach (var r in records!)
                {
                    fetch.Buffered.Enqueue(r);
                }

                fetch.NextFetch = Math.Max(next, records.Count > 0 ? records[^1].Offset + 1 : from);
                fetch.LastFetchCount = records.Count;
            }
        }

        dataReady.Release();
    }

    /// <summary>Gives every assigned partition without a position one: the committed offset, else auto.offset.reset.</summary>
    private async Task InitPositionsAsync()
    {
        PartitionFetch[] unknown;
        lock (gate)
        {
            var any = false;
            foreach (var f in assigned.Values)
            {
                any |= f.Position < 0 && f.Error is null;
            }

            if (!any)
            {
                return;
            }

            unknown = assigned.Values.Where(f => f.Position < 0 && f.Error is null).ToArray();
        }

        if (unknown.Length == 0)
        {
            return;
        }

        var needCommitted = unknown.Where(f => f.ResetTo is null).Select(f => f.TopicPartition).ToArray();
        var committed = needCommitted.Length > 0 && !string.IsNullOrEmpty(settings.GroupId)
            ? await CommittedAsync(needCommitted).ConfigureAwait(false)
            : [];
        foreach (var fetch in unknown)
        {
            var version = fetch.Version;
            long position;
            ActorsException? error = null;
            if (fetch.ResetTo is null && committed.TryGetValue(fetch.TopicPartition, out var c) && c >= 0)
            {
                position = c;
            }
            else
            {
                var policy = fetch.ResetTo is "earliest" or "latest" or "error" ? fetch.ResetTo : settings.AutoOffsetReset;
                if (fetch.ResetTo is "beginning")
                {
                    policy = "earliest";
                }
                else if (fetch.ResetTo is "end")
                {
                    policy = "latest";
                }

                if (policy == "error")
                {
                    position = -1;
                    error = new ActorsException(ErrorCode.Local_AutoOffsetReset,
                        $"{fetch.TopicPartition} has no committed offset (or its offset is outside the log) and auto.offset.reset is error: Seek to an offset, or set auto.offset.reset to earliest or latest.");
                }
                else
                {
                    position = await ListOffsetAsync(fetch.TopicPartition, policy == "earliest" ? ListOffsetsRequest.Earliest : ListOffsetsRequest.Latest).ConfigureAwait(false);
                }
            }

            lock (gate)
            {
                if (fetch.Version == version && fetch.Position < 0)
                {
                    fetch.Position = position;
                    fetch.ResetTo = null;
                    fetch.Error = error;
                    if (error is null)
                    {
                        StartFetch(fetch);
                    }
                }
            }
        }
    }

    private async Task<long> ListOffsetAsync(BrokerTopicPartition tp, long timestamp)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(30_000);
        while (true)
        {
            ListOffsetsResponse answer;
            try
            {
                answer = await metadata.Partition(tp.Topic, tp.Partition).ListOffsetsAsync(new ListOffsetsRequest { Timestamp = timestamp }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(settings.RetryBackoffMs).ConfigureAwait(false);
                continue;
            }
            catch (Exception e)
            {
                throw ActorsException.From(e, $"ListOffsets of {tp}");
            }

            if (answer.Error == BrokerErrorCode.None)
            {
                return answer.Offset;
            }

            if (!answer.Error.IsRetriable() || DateTime.UtcNow >= deadline)
            {
                throw ActorsException.From(answer.Error, null, $"ListOffsets of {tp}");
            }

            await Task.Delay(settings.RetryBackoffMs).ConfigureAwait(false);
        }
    }

    private ConsumeResult<TKey, TValue> ToResult(BrokerTopicPartition tp, in FetchedRecord r)
    {
        var headers = new Headers();
        foreach (var (headerKey, headerValue) in r.Headers)
        {
            headers.Add(headerKey, headerValue);
        }

        var keyContext = new SerializationContext(MessageComponentType.Key, tp.Topic, headers);
        var valueContext = new SerializationContext(MessageComponentType.Value, tp.Topic, headers);
        TKey key;
        TValue value;
        try
        {
            key = keyDeserializer.Deserialize(r.Key, r.Key is null, keyContext);
        }
        catch (Exception e)
        {
            throw new ActorsException(ErrorCode.Local_KeyDeserialization, $"The key deserializer failed at {tp}@{r.Offset}: {e.Message}. Seek past the record or fix the deserializer.", inner: e);
        }

        try
        {
            value = valueDeserializer.Deserialize(r.Value, r.Value is null, valueContext);
        }
        catch (Exception e)
        {
            throw new ActorsException(ErrorCode.Local_ValueDeserialization, $"The value deserializer failed at {tp}@{r.Offset}: {e.Message}. Seek past the record or fix the deserializer.", inner: e);
        }

        return new ConsumeResult<TKey, TValue>
        {
            TopicPartitionOffset = new TopicPartitionOffset(tp.Topic, new Partition(tp.Partition), new Offset(r.Offset)),
            Message = new Message<TKey, TValue>
            {
                Key = key,
                Value = value,
                Headers = headers,
                Timestamp = new Timestamp(r.Timestamp, r.TimestampType == Actors.Log.Records.TimestampType.LogAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime),
            },
            LeaderEpoch = r.LeaderEpoch >= 0 ? r.LeaderEpoch : null,
        };
    }

    private void SetPaused(IEnumerable<TopicPartition> partitions, bool paused)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        lock (gate)
        {
            foreach (var p in partitions)
            {
                if (assigned.TryGetValue(ToBroker(p), out var fetch))
                {
                    fetch.Paused = paused;
                }
            }
        }

        dataReady.Release();
    }

    // ---- Commits -------------------------------------------------------------------------------------------------

    private async Task<Dictionary<BrokerTopicPartition, long>> CommittedAsync(BrokerTopicPartition[] partitions)
    {
        if (string.IsNullOrEmpty(settings.GroupId))
        {
            throw new ActorsException(BrokerErrorCode.InvalidGroupId, "Committed offsets belong to a group: set group.id.");
        }

        try
        {
            var offsets = await metadata.Group(settings.GroupId).FetchOffsetsAsync(partitions).ConfigureAwait(false);
            return offsets.ToDictionary(o => o.TopicPartition, o => o.Offset);
        }
        catch (Exception e)
        {
            throw ActorsException.From(e, $"Fetching committed offsets of group '{settings.GroupId}'");
        }
    }

    /// <summary>Commits the stored offsets of <paramref name="only"/> (all assigned when null) that changed since the
    /// last commit.</summary>
    private async Task<List<TopicPartitionOffset>> CommitStoredAsync(IReadOnlyCollection<BrokerTopicPartition>? only, bool quiet)
    {
        BrokerTopicPartitionOffset[] offsets;
        lock (gate)
        {
            offsets = assigned.Values
                .Where(f => (only is null || only.Contains(f.TopicPartition)) && f.Stored >= 0 && f.Stored != f.Committed)
                .Select(f => new BrokerTopicPartitionOffset(f.TopicPartition, f.Stored, -1, null))
                .ToArray();
        }

        if (offsets.Length == 0)
        {
            return [];
        }

        try
        {
            await CommitAsync(offsets).ConfigureAwait(false);
        }
        catch (ActorsException e) when (quiet)
        {
            Report(e);
            return [];
        }

        return offsets.Select(o => new TopicPartitionOffset(ToConfluent(o.TopicPartition), new Offset(o.Offset))).ToList();
    }

    private async Task CommitAsync(BrokerTopicPartitionOffset[] offsets)
    {
        if (string.IsNullOrEmpty(settings.GroupId))
        {
            throw new ActorsException(BrokerErrorCode.InvalidGroupId, "Commit needs group.id: set it in the consumer config.");
        }

        string memberId;
        int epoch;
        lock (gate)
        {
            memberId = membership?.MemberId ?? string.Empty;
            epoch = membership is { MemberId.Length: > 0 } m ? m.Epoch : -1;
        }

        OffsetCommitResponse answer;
        try
        {
            answer = await metadata.Group(settings.GroupId).CommitOffsetsAsync(new OffsetCommitRequest
            {
                MemberId = memberId,
                MemberEpoch = epoch,
                Offsets = offsets,
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw ActorsException.From(e, $"Commit to group '{settings.GroupId}'");
        }

        if (answer.Error != BrokerErrorCode.None)
        {
            throw ActorsException.From(answer.Error, answer.ErrorMessage, $"Commit to group '{settings.GroupId}'");
        }

        lock (gate)
        {
            foreach (var o in offsets)
            {
                if (assigned.TryGetValue(o.TopicPartition, out var f))
                {
                    f.Committed = o.Offset;
                }
            }
        }

        builder.CommittedHandler?.Invoke(this, new CommittedOffsets(
            offsets.Select(o => new TopicPartitionOffsetError(ToConfluent(o.TopicPartition), new Offset(o.Offset), new Error(ErrorCode.NoError))).ToList(),
            new Error(ErrorCode.NoError)));
    }

    // ---- Group membership ----------------------------------------------------------------------------------------

    /// <summary>Runs on the Consume thread: hands lost, revoked and added partitions to the handlers, commits on
    /// revoke, then tells the group what this member owns.</summary>
    private async Task ApplyRebalanceAsync()
    {
        var m = membership;
        if (m is null)
        {
            return;
        }

        BrokerTopicPartition[] target;
        BrokerTopicPartition[] lost;
        lock (gate)
        {
            if (!m.Changed)
            {
                return;
            }

            m.Changed = false;
            target = m.Target;
            lost = m.Lost ? assigned.Keys.ToArray() : [];
            m.Lost = false;
        }

        if (lost.Length > 0)
        {
            var list = lost.Select(tp => new TopicPartitionOffset(ToConfluent(tp), Position(ToConfluent(tp)))).ToList();
            (builder.LostHandler ?? builder.RevokedHandler)?.Invoke(this, list);
            Remove(lost);
        }

        BrokerTopicPartition[] revoked;
        BrokerTopicPartition[] added;
        lock (gate)
        {
            var set = target.ToHashSet();
            revoked = assigned.Keys.Where(tp => !set.Contains(tp)).Order().ToArray();
            added = target.Where(tp => !assigned.ContainsKey(tp)).Order().ToArray();
        }

        if (revoked.Length > 0)
        {
            var list = revoked.Select(tp => new TopicPartitionOffset(ToConfluent(tp), Position(ToConfluent(tp)))).ToList();
            builder.RevokedHandler?.Invoke(this, list);
            if (settings.EnableAutoCommit)
            {
                await CommitStoredAsync(revoked, quiet: true).ConfigureAwait(false);
            }

            Remove(revoked);
        }

        if (added.Length > 0)
        {
            var starts = added.Select(tp => new TopicPartitionOffset(ToConfluent(tp), Offset.Unset)).ToList();
            if (builder.AssignedHandler is { } handler)
            {
                starts = handler(this, added.Select(ToConfluent).ToList())?.ToList() ?? starts;
            }

            lock (gate)
            {
                foreach (var s in starts)
                {
                    var tp = ToBroker(s.TopicPartition);
                    if (!assigned.TryGetValue(tp, out var fetch))
                    {
                        fetch = new PartitionFetch(tp);
                        assigned[tp] = fetch;
                        order = null;
                        fetch.Reset(s.Offset.Value);
                    }
                }
            }
        }

        lock (gate)
        {
            m.Owned = assigned.Keys.ToArray();
        }

        m.HeartbeatNow();
    }

    private async Task RevokeAllAsync(Membership m, bool commit)
    {
        BrokerTopicPartition[] owned;
        lock (gate)
        {
            owned = assigned.Keys.Order().ToArray();
        }

        if (owned.Length == 0)
        {
            return;
        }

        builder.RevokedHandler?.Invoke(this, owned.Select(tp => new TopicPartitionOffset(ToConfluent(tp), Position(ToConfluent(tp)))).ToList());
        if (commit)
        {
            lock (gate)
            {
                membership = m;
            }

            try
            {
                await CommitStoredAsync(owned, quiet: true).ConfigureAwait(false);
            }
            finally
            {
                lock (gate)
                {
                    membership = null;
                }
            }
        }

        Remove(owned);
    }

    private void Remove(IEnumerable<BrokerTopicPartition> partitions)
    {
        lock (gate)
        {
            foreach (var tp in partitions)
            {
                if (assigned.Remove(tp, out var fetch))
                {
                    order = null;
                    fetch.Version++;
                }
            }
        }
    }

    private void Report(ActorsException e) => builder.ErrorHandler?.Invoke(this, e.Error);

    private void ThrowIfClosed()
    {
        if (closed)
        {
            throw new ObjectDisposedException(Name, "The consumer is closed; build a new one.");
        }
    }

    private static BrokerTopicPartition ToBroker(TopicPartition tp) => new(tp.Topic, tp.Partition.Value);

    private static TopicPartition ToConfluent(BrokerTopicPartition tp) => new(tp.Topic, new Partition(tp.Partition));

    /// <summary>One assigned partition: where Consume is, what is fetched ahead, what is stored and committed.</summary>
    private sealed class PartitionFetch(BrokerTopicPartition topicPartition)
    {
        public BrokerTopicPartition TopicPartition { get; } = topicPartition;

        /// <summary>The next offset Consume returns; -1 while unknown (committed offset or reset to look up).</summary>
        public long Position { get; set; } = -1;

        /// <summary>Where the fetch after the buffered records starts.</summary>
        public long NextFetch { get; set; }

        public Queue<FetchedRecord> Buffered { get; } = new();

        /// <summary>Records the last fetch brought: fetching ahead stops while at least this many wait.</summary>
        public int LastFetchCount { get; set; }

        public bool InFlight { get; set; }

        /// <summary>Bumped by a seek, reset or removal: answers to older fetches are dropped.</summary>
        public int Version { get; set; }

        public bool Paused { get; set; }

        public long Stored { get; set; } = -1;

        public long Committed { get; set; } = -1;

        public long HighWatermark { get; set; } = -1;

        public long LogStartOffset { get; set; } = -1;

        public DateTime RetryAt { get; set; }

        /// <summary>A reset to apply when the position is next looked up (auto.offset.reset after OFFSET_OUT_OF_RANGE,
        /// "beginning" or "end" after a seek to them); null: the committed offset first.</summary>
        public string? ResetTo { get; set; }

        public ActorsException? Error { get; set; }

        /// <summary>Moves to <paramref name="offset"/> (Kafka's special values: Beginning, End, Stored/Unset = committed).</summary>
        public void Reset(long offset)
        {
            Version++;
            Buffered.Clear();
            InFlight = false;
            Error = null;
            RetryAt = default;
            if (offset == Offset.Beginning.Value)
            {
                Position = -1;
                ResetTo = "beginning";
            }
            else if (offset == Offset.End.Value)
            {
                Position = -1;
                ResetTo = "end";
            }
            else if (offset < 0)
            {
                Position = -1;
                ResetTo = null;
            }
            else
            {
                Position = offset;
                ResetTo = null;
            }
        }
    }

    /// <summary>Membership in group.id: a heartbeat loop that joins, reports what this member owns and learns its
    /// target assignment; the Consume thread applies the changes (<see cref="ApplyRebalanceAsync"/>).</summary>
    private sealed class Membership(ActorsConsumer<TKey, TValue> consumer, string[] topics) : IDisposable
    {
        private readonly SemaphoreSlim wake = new(0);
        private readonly CancellationTokenSource stop = new();
        private bool subscriptionChanged = true;
        private Task? loop;
        private string[] resolved = [];
        private DateTime nextResolve = DateTime.MinValue;

        public string[] Topics { get; private set; } = topics;

        public string MemberId { get; private set; } = string.Empty;

        public int Epoch { get; private set; }

        public BrokerTopicPartition[] Target { get; private set; } = [];

        public BrokerTopicPartition[] Owned { get; set; } = [];

        public bool Changed { get; set; }

        public bool Lost { get; set; }

        private IConsumerGroupGrain Group => consumer.metadata.Group(consumer.settings.GroupId!);

        public void Start() => loop = Task.Run(RunAsync);

        public void Resubscribe(string[] newTopics)
        {
            Topics = newTopics;
            subscriptionChanged = true;
            nextResolve = DateTime.MinValue;
            HeartbeatNow();
        }

        public void HeartbeatNow() => wake.Release();

        public async Task LeaveAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }

            if (MemberId.Length > 0)
            {
                try
                {
                    await Group.HeartbeatAsync(new GroupHeartbeatRequest { MemberId = MemberId, MemberEpoch = -1 }).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or BrokerException)
                {
                    // The session timeout removes the member instead.
                }
            }

            Dispose();
        }

        public void Dispose()
        {
            stop.Dispose();
            wake.Dispose();
        }

        private async Task RunAsync()
        {
            var interval = 3_000;
            while (!stop.IsCancellationRequested)
            {
                GroupHeartbeatRequest request;
                lock (consumer.gate)
                {
                    request = new GroupHeartbeatRequest
                    {
                        MemberId = MemberId,
                        MemberEpoch = Epoch,
                        InstanceId = consumer.settings.GroupInstanceId,
                        RebalanceTimeoutMs = consumer.settings.MaxPollIntervalMs,
                        SessionTimeoutMs = consumer.settings.SessionTimeoutMs,
                        ServerAssignor = Epoch == 0 ? consumer.settings.Assignor : null,
                        OwnedPartitions = Owned,
                        ClientId = consumer.settings.ClientId,
                    };
                }

                var subscribed = await ResolveAsync().ConfigureAwait(false);
                if (Epoch == 0 || subscriptionChanged)
                {
                    request.SubscribedTopicNames = subscribed;
                    subscriptionChanged = false;
                }

                try
                {
                    var answer = await Group.HeartbeatAsync(request).ConfigureAwait(false);
                    lock (consumer.gate)
                    {
                        if (answer.Error is BrokerErrorCode.UnknownMemberId or BrokerErrorCode.FencedMemberEpoch)
                        {
                            // Fenced: what this member held is lost; join again with epoch 0.
                            Epoch = 0;
                            Owned = [];
                            Target = [];
                            Lost = true;
                            Changed = true;
                            subscriptionChanged = true;
                        }
                        else if (answer.Error != BrokerErrorCode.None)
                        {
                            consumer.Report(ActorsException.From(answer.Error, answer.ErrorMessage, $"Heartbeat to group '{consumer.settings.GroupId}'"));
                        }
                        else
                        {
                            MemberId = answer.MemberId;
                            Epoch = answer.MemberEpoch;
                            interval = Math.Max(10, answer.HeartbeatIntervalMs);
                            if (!SameSet(answer.Assignment, Target) || !SameSet(answer.Assignment, Owned))
                            {
                                Target = answer.Assignment;
                                Changed = true;
                            }
                        }
                    }

                    consumer.dataReady.Release();
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or BrokerException)
                {
                    consumer.Report(ActorsException.From(e, $"Heartbeat to group '{consumer.settings.GroupId}'"));
                    interval = consumer.settings.RetryBackoffMs;
                }

                try
                {
                    await wake.WaitAsync(interval, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>The subscribed topic names with the patterns' matches: patterns are matched again every
        /// topic.metadata.refresh.interval.ms (or at once after Subscribe), and the group hears of a change in the
        /// list only; when the topics cannot be listed, the last matches stay.</summary>
        private async Task<string[]> ResolveAsync()
        {
            var patterns = Topics.Where(t => t.StartsWith('^')).ToArray();
            var names = Topics.Where(t => !t.StartsWith('^'));
            if (patterns.Length == 0)
            {
                return Topics;
            }

            if (DateTime.UtcNow < nextResolve)
            {
                return resolved;
            }

            try
            {
                var all = await consumer.metadata.Controller.ListTopicsAsync().ConfigureAwait(false);
                var regexes = patterns.Select(t => new Regex(t, RegexOptions.None, TimeSpan.FromSeconds(1))).ToArray();
                var result = names.Concat(all.Where(t => regexes.Any(r => r.IsMatch(t)))).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                nextResolve = DateTime.UtcNow.AddMilliseconds(consumer.settings.TopicMetadataRefreshIntervalMs);
                if (!result.SequenceEqual(resolved, StringComparer.Ordinal))
                {
                    resolved = result;
                    subscriptionChanged = true;
                }

                return resolved;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                nextResolve = DateTime.UtcNow.AddMilliseconds(consumer.settings.RetryBackoffMs);
                return resolved.Length > 0 ? resolved : names.ToArray();
            }
        }

        private static bool SameSet(BrokerTopicPartition[] a, BrokerTopicPartition[] b) => a.Length == b.Length && a.ToHashSet().SetEquals(b);
    }
}
