using Confluent.Kafka;

namespace Actors.Client;

/// <summary>Builds an <see cref="ActorsProducer{TKey,TValue}"/> like Confluent's ProducerBuilder, over an Orleans
/// <see cref="IClusterClient"/> (or a silo's <see cref="IGrainFactory"/>) instead of bootstrap servers.</summary>
public sealed class ActorsProducerBuilder<TKey, TValue>
{
    private readonly IGrainFactory grains;

    /// <param name="config">Kafka producer settings (a Confluent <see cref="ProducerConfig"/> or any name/value pairs).</param>
    /// <param name="grains">The Orleans client (or a silo's grain factory) of the Actors cluster.</param>
    public ActorsProducerBuilder(IEnumerable<KeyValuePair<string, string>> config, IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        Config = config?.ToList() ?? [];
        this.grains = grains;
    }

    internal List<KeyValuePair<string, string>> Config { get; }

    internal ISerializer<TKey>? KeySerializer { get; private set; }

    internal ISerializer<TValue>? ValueSerializer { get; private set; }

    internal IAsyncSerializer<TKey>? AsyncKeySerializer { get; private set; }

    internal IAsyncSerializer<TValue>? AsyncValueSerializer { get; private set; }

    internal Func<int, bool>? DropAnswer { get; set; }

    internal ProduceTransport? Transport { get; set; }

    public ActorsProducerBuilder<TKey, TValue> SetKeySerializer(ISerializer<TKey> serializer)
    {
        KeySerializer = serializer;
        return this;
    }

    public ActorsProducerBuilder<TKey, TValue> SetKeySerializer(IAsyncSerializer<TKey> serializer)
    {
        AsyncKeySerializer = serializer;
        return this;
    }

    public ActorsProducerBuilder<TKey, TValue> SetValueSerializer(ISerializer<TValue> serializer)
    {
        ValueSerializer = serializer;
        return this;
    }

    public ActorsProducerBuilder<TKey, TValue> SetValueSerializer(IAsyncSerializer<TValue> serializer)
    {
        AsyncValueSerializer = serializer;
        return this;
    }

    /// <exception cref="ArgumentException">A setting has a value Kafka would refuse; the message names it.</exception>
    public IProducer<TKey, TValue> Build() => new ActorsProducer<TKey, TValue>(this, grains);
}
