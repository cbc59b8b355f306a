using Confluent.Kafka;

namespace Actors.Client;

/// <summary>Builds an <see cref="ActorsConsumer{TKey,TValue}"/> like Confluent's ConsumerBuilder, over an Orleans
/// <see cref="IClusterClient"/> (or a silo's <see cref="IGrainFactory"/>) instead of bootstrap servers.</summary>
public sealed class ActorsConsumerBuilder<TKey, TValue>
{
    private readonly IGrainFactory grains;

    /// <param name="config">Kafka consumer settings (a Confluent <see cref="ConsumerConfig"/> or any name/value pairs).</param>
    /// <param name="grains">The Orleans client (or a silo's grain factory) of the Actors cluster.</param>
    public ActorsConsumerBuilder(IEnumerable<KeyValuePair<string, string>> config, IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        Config = config?.ToList() ?? [];
        this.grains = grains;
    }

    internal List<KeyValuePair<string, string>> Config { get; }

    internal IDeserializer<TKey>? KeyDeserializer { get; private set; }

    internal IDeserializer<TValue>? ValueDeserializer { get; private set; }

    internal Func<IConsumer<TKey, TValue>, List<TopicPartition>, IEnumerable<TopicPartitionOffset>>? AssignedHandler { get; private set; }

    internal Func<IConsumer<TKey, TValue>, List<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>>? RevokedHandler { get; private set; }

    internal Func<IConsumer<TKey, TValue>, List<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>>? LostHandler { get; private set; }

    internal Action<IConsumer<TKey, TValue>, Error>? ErrorHandler { get; private set; }

    internal Action<IConsumer<TKey, TValue>, CommittedOffsets>? CommittedHandler { get; private set; }

    public ActorsConsumerBuilder<TKey, TValue> SetKeyDeserializer(IDeserializer<TKey> deserializer)
    {
        KeyDeserializer = deserializer;
        return this;
    }

    public ActorsConsumerBuilder<TKey, TValue> SetValueDeserializer(IDeserializer<TValue> deserializer)
    {
        ValueDeserializer = deserializer;
        return this;
    }

    /// <summary>Called from Consume with the partitions added to the assignment (incrementally); may return start offsets.</summary>
    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsAssignedHandler(Func<IConsumer<TKey, TValue>, List<TopicPartition>, IEnumerable<TopicPartitionOffset>> handler)
    {
        AssignedHandler = handler;
        return this;
    }

    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsAssignedHandler(Action<IConsumer<TKey, TValue>, List<TopicPartition>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        AssignedHandler = (c, p) =>
        {
            handler(c, p);
            return p.Select(tp => new TopicPartitionOffset(tp, Offset.Unset));
        };
        return this;
    }

    /// <summary>Called from Consume with the partitions leaving the assignment, before the group is told: commit here.
    /// With enable.auto.commit the stored offsets of the revoked partitions are committed right after it.</summary>
    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsRevokedHandler(Func<IConsumer<TKey, TValue>, List<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>> handler)
    {
        RevokedHandler = handler;
        return this;
    }

    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsRevokedHandler(Action<IConsumer<TKey, TValue>, List<TopicPartitionOffset>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        RevokedHandler = (c, p) =>
        {
            handler(c, p);
            return [];
        };
        return this;
    }

    /// <summary>Called from Consume when the group fenced this member (its partitions now belong to others: do not commit).</summary>
    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsLostHandler(Func<IConsumer<TKey, TValue>, List<TopicPartitionOffset>, IEnumerable<TopicPartitionOffset>> handler)
    {
        LostHandler = handler;
        return this;
    }

    public ActorsConsumerBuilder<TKey, TValue> SetPartitionsLostHandler(Action<IConsumer<TKey, TValue>, List<TopicPartitionOffset>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        LostHandler = (c, p) =>
        {
            handler(c, p);
            return [];
        };
        return this;
    }

    /// <summary>Errors the consumer recovers from on its own (a heartbeat or fetch that failed and is retried).</summary>
    public ActorsConsumerBuilder<TKey, TValue> SetErrorHandler(Action<IConsumer<TKey, TValue>, Error> handler)
    {
        ErrorHandler = handler;
        return this;
    }

    public ActorsConsumerBuilder<TKey, TValue> SetOffsetsCommittedHandler(Action<IConsumer<TKey, TValue>, CommittedOffsets> handler)
    {
        CommittedHandler = handler;
        return this;
    }

    /// <exception cref="ArgumentException">A setting has a value Kafka would refuse; the message names it.</exception>
    public IConsumer<TKey, TValue> Build() => new ActorsConsumer<TKey, TValue>(this, grains);
}
