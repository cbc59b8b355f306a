using Actors.Log.Records;

namespace Actors.Client;

/// <summary>The producer's settings, by Kafka's names and with Kafka's defaults.</summary>
internal sealed class ProducerSettings
{
    public ProducerSettings(ClientConfig c)
    {
        ClientId = c.Get("client.id", "actors-producer");
        BatchSize = c.Int("batch.size", 16_384, min: 1);
        LingerMs = c.Int("linger.ms", c.Int("queue.buffering.max.ms", 5));
        BufferMemory = c.Long("buffer.memory", 32L * 1024 * 1024, min: 1);
        MaxBlockMs = c.Int("max.block.ms", 60_000);
        Compression = RecordCodec.Parse(c);
        var acks = c.OneOf("acks", "all", "all", "-1", "0", "1");
        Acks = acks is "all" or "-1" ? (short)-1 : short.Parse(acks, System.Globalization.CultureInfo.InvariantCulture);
        MaxInFlight = c.Int("max.in.flight.requests.per.connection", c.Int("max.in.flight", 5), min: 1);
        var idempotenceSet = c.Get("enable.idempotence") is not null;
        Idempotent = c.Bool("enable.idempotence", Acks == -1 && MaxInFlight <= ProducerStateLimit);
        if (idempotenceSet && Idempotent && Acks != -1)
        {
            throw new ArgumentException($"enable.idempotence=true needs acks=all; acks is {acks}. Set acks=all or enable.idempotence=false.", nameof(c));
        }

        if (idempotenceSet && Idempotent && MaxInFlight > ProducerStateLimit)
        {
            throw new ArgumentException(
                $"enable.idempotence=true allows at most {ProducerStateLimit} batches in flight per partition (the partition remembers a producer's last {ProducerStateLimit} to spot duplicates); max.in.flight.requests.per.connection is {MaxInFlight}. Lower it to {ProducerStateLimit} or less, or set enable.idempotence=false.",
                nameof(c));
        }

        RetryBackoffMs = c.Int("retry.backoff.ms", 100);
        Retries = c.Int("retries", int.MaxValue);
        DeliveryTimeoutMs = c.Int("delivery.timeout.ms", c.Int("message.timeout.ms", 120_000), min: 1);
        RequestTimeoutMs = c.Int("request.timeout.ms", 30_000, min: 1);
        if (DeliveryTimeoutMs < LingerMs + RequestTimeoutMs && c.Get("delivery.timeout.ms") is not null && c.Get("request.timeout.ms") is null)
        {
            RequestTimeoutMs = Math.Max(1, DeliveryTimeoutMs - LingerMs);
        }

        MaxRequestSize = c.Int("max.request.size", c.Int("message.max.bytes", 1_048_576), min: 1);
        AllowAutoCreate = c.Bool("allow.auto.create.topics", true);
        MetadataMaxAgeMs = c.Int("metadata.max.age.ms", 300_000, min: 1);
    }

    /// <summary>The most batches the idempotent producer may have in flight per partition (Kafka's limit).</summary>
    public const int ProducerStateLimit = 5;

    public string ClientId { get; }

    /// <summary>max.in.flight.requests.per.connection: batches sent and not yet answered, per partition.</summary>
    public int MaxInFlight { get; }

    public int BatchSize { get; }

    public int LingerMs { get; }

    public long BufferMemory { get; }

    public int MaxBlockMs { get; }

    public CompressionType Compression { get; }

    public short Acks { get; }

    public bool Idempotent { get; }

    public int RetryBackoffMs { get; }

    public int Retries { get; }

    public int DeliveryTimeoutMs { get; }

    public int RequestTimeoutMs { get; }

    public int MaxRequestSize { get; }

    public bool AllowAutoCreate { get; }

    public int MetadataMaxAgeMs { get; }

    /// <summary>Test hook: given a batch's attempt number, true makes the client drop the broker's answer after the
    /// write (as when an ack is lost on the way back), so the batch is sent again.</summary>
    internal Func<int, bool>? DropAnswer { get; set; }

    /// <summary>Test hook: every produce call goes through it (to delay one, or see its answer).</summary>
    internal ProduceTransport? Transport { get; set; }
}
