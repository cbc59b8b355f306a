using System.Collections.Concurrent;
using Actors.Broker;
using Actors.Client;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using BrokerErrorCode = Actors.Broker.ErrorCode;

namespace Actors.Streams;

/// <summary>
/// The Orleans persistent stream provider's parts over Actors topics: the adapter writes events as records (through
/// the Actors producer, acks=all and idempotent by default), the receivers and caches read them back for the pulling
/// agents, and the mapper gives each partition its own queue.
/// </summary>
internal sealed class ActorsQueueAdapterFactory : IQueueAdapterFactory, IQueueAdapterCache
{
    private readonly string name;
    private readonly ActorsStreamOptions options;
    private readonly IGrainFactory grains;
    private readonly EventRecords records;
    private readonly ILoggerFactory loggers;
    private readonly ActorsStreamQueueMapper mapper;
    private readonly ConcurrentDictionary<string, Lazy<Task>> ensured = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<QueueId, ActorsQueueCache> caches = new();
    private ActorsQueueAdapter? adapter;

    public ActorsQueueAdapterFactory(string name, ActorsStreamOptions options, IGrainFactory grains, Serializer serializer, ILoggerFactory loggers)
    {
        options.Validate(name);
        this.name = name;
        this.options = options;
        this.grains = grains;
        this.loggers = loggers;
        records = new EventRecords(serializer);
        mapper = new ActorsStreamQueueMapper(name, options);
    }

    /// <summary>Made by Orleans for provider <paramref name="name"/> on a silo or a client.</summary>
    public static ActorsQueueAdapterFactory Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IOptionsMonitor<ActorsStreamOptions>>().Get(name),
        services.GetRequiredService<IGrainFactory>(),
        services.GetRequiredService<Serializer>(),
        services.GetRequiredService<ILoggerFactory>());

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IQueueAdapter> CreateAdapter() => CreateAdapter(CancellationToken.None);

    public Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken)
    {
        adapter ??= new ActorsQueueAdapter(this);
        return Task.FromResult<IQueueAdapter>(adapter);
    }

    public IQueueAdapterCache GetQueueAdapterCache() => this;

    public IStreamQueueMapper GetStreamQueueMapper() => mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => Task.FromResult<IStreamFailureHandler>(new NoOpStreamDeliveryFailureHandler());

    public IQueueCache CreateQueueCache(QueueId queueId)
    {
        var cache = new ActorsQueueCache(Log(queueId), options, loggers.CreateLogger<ActorsQueueCache>());
        caches[queueId] = cache;
        return cache;
    }

    private PartitionLog Log(QueueId queueId)
    {
        var (topic, partition) = ActorsStreamQueueMapper.PartitionOf(queueId);
        var ns = options.NamespaceTopics.Where(kv => kv.Value == topic).Select(kv => kv.Key).ToArray();
        return new PartitionLog(grains, topic, partition, options.Group(name), records, ns.Length == 1 ? ns[0] : topic);
    }

    /// <summary>Makes the topic when it does not exist; fails clearly when it exists with another partition count.</summary>
    private Task EnsureTopicAsync(string topic)
    {
        var lazy = ensured.GetOrAdd(topic, t => new Lazy<Task>(() => MakeTopicAsync(t)));
        var task = lazy.Value;
        if (task.IsFaulted)
        {
            ensured.TryRemove(KeyValuePair.Create(topic, lazy));
        }

        return task;
    }

    private async Task MakeTopicAsync(string topic)
    {
        var controller = grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
        TopicDescription found;
        try
        {
            found = await controller.CreateTopicAsync(new CreateTopicRequest { Name = topic, NumPartitions = options.Partitions, ReplicationFactor = options.ReplicationFactor }).ConfigureAwait(false);
        }
        catch (BrokerException e) when (e.Code == BrokerErrorCode.TopicAlreadyExists)
        {
            found = (await controller.DescribeTopicsAsync([topic]).ConfigureAwait(false)).First(t => t.Name == topic);
        }

        if (found.Partitions.Length != options.Partitions)
        {
            throw new ActorsException(BrokerErrorCode.InvalidPartitions,
                $"Actors stream provider '{name}': topic '{topic}' has {found.Partitions.Length} partitions but the provider's Partitions is {options.Partitions}; set Partitions to {found.Partitions.Length} (a stream's queue is its partition).");
        }
    }

    private sealed class ActorsQueueAdapter(ActorsQueueAdapterFactory factory) : IQueueAdapter
    {
        private readonly Lazy<IProducer<byte[], byte[]>> producer = new(() => factory.MakeProducer());

        public string Name => factory.name;

        public bool IsRewindable => true;

        public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

        public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
        {
            if (token is not null)
            {
                throw new NotSupportedException($"Actors stream provider '{factory.name}': events get their token (their offset) when written; produce them without a token.");
            }

            var (topic, partition) = factory.mapper.PartitionOf(streamId);
            await factory.EnsureTopicAsync(topic).ConfigureAwait(false);
            var target = new Confluent.Kafka.TopicPartition(topic, new Partition(partition));
            var sends = events.Select(e => producer.Value.ProduceAsync(target, factory.records.ToMessage(streamId, e, requestContext))).ToArray();
            await Task.WhenAll(sends).ConfigureAwait(false);
        }

        public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
        {
            var log = factory.Log(queueId);
            return new ActorsQueueReceiver(
                log,
                factory.options,
                () => factory.EnsureTopicAsync(log.Topic),
                () => factory.caches.TryGetValue(queueId, out var c) ? c : null,
                factory.loggers.CreateLogger<ActorsQueueReceiver>());
        }
    }

    private IProducer<byte[], byte[]> MakeProducer()
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["client.id"] = $"orleans-streams-{name}",
            ["linger.ms"] = "0",
        };
        foreach (var (k, v) in options.Producer)
        {
            config[k] = v;
        }

        return new ActorsProducerBuilder<byte[], byte[]>(config, grains).Build();
    }
}
