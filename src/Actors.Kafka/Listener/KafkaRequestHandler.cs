using System.Collections.Frozen;
using System.Diagnostics;
using Actors.Kafka.Diagnostics;
using Actors.Kafka.Listener.Apis;

namespace Actors.Kafka.Listener;

/// <summary>
/// Answers one request frame (without its size prefix) with one response frame (with it), or with nothing where
/// Kafka sends nothing (a Produce with acks=0). Each API is served by its handler in <see cref="Apis"/>; the table of
/// handlers and <see cref="ApiKeys.All"/> name the same APIs (a test checks it).
/// </summary>
/// <remarks>
/// Bad input raises <see cref="KafkaProtocolException"/>: an API we do not serve, a version we do not serve, a
/// malformed header or body. The connection is then closed, as Kafka does; only an ApiVersions request of an unknown
/// version is answered (UNSUPPORTED_VERSION, as version 0). Errors of the broker (a partition not led here, a group
/// rebalancing) are answered with their Kafka error codes. Stateless apart from the broker's caches; thread-safe.
/// </remarks>
public sealed class KafkaRequestHandler
{
    private readonly FrozenDictionary<ApiKey, Func<KafkaRequest, Task<byte[]?>>> handlers;

    public KafkaRequestHandler(KafkaBroker broker)
    {
        ArgumentNullException.ThrowIfNull(broker);
        Broker = broker;
        handlers = KafkaApiHandlers.Create(broker).ToFrozenDictionary();
    }

    /// <summary>What the handlers share.</summary>
    public KafkaBroker Broker { get; }

    /// <summary>The APIs that have a handler.</summary>
    public IEnumerable<ApiKey> Served => handlers.Keys;

    /// <summary>Reads the header of <paramref name="frame"/>; an API we do not serve fails here, before any work.</summary>
    public static RequestHeader ReadHeader(ReadOnlySpan<byte> frame, out int headerBytes)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        headerBytes = reader.Consumed;
        return header;
    }

    /// <summary>The response frame (size prefix included) to <paramref name="frame"/>, or null when Kafka sends none.</summary>
    public Task<byte[]?> HandleAsync(ReadOnlyMemory<byte> frame, string? clientHost = null, Security.ConnectionSession? session = null,
        ProduceTurn? produceTurn = null)
    {
        var header = ReadHeader(frame.Span, out var headerBytes);
        var api = ApiKeys.Get(header.ApiKey);
        if (!handlers.TryGetValue(api.Key, out var handle))
        {
            throw new KafkaProtocolException($"API key {header.ApiKey} is not served", 0);
        }

        var started = Stopwatch.GetTimestamp();
        var answer = handle(new KafkaRequest(header, api, frame[headerBytes..], headerBytes) { ClientHost = clientHost, Session = session, ProduceTurn = produceTurn });
        if (answer.IsCompleted)
        {
            KafkaMetrics.Answered(api.Key, started);
            return answer;
        }

        return TimedAsync(answer, api.Key, started);
    }

    private static async Task<byte[]?> TimedAsync(Task<byte[]?> answer, ApiKey api, long started)
    {
        try
        {
            return await answer.ConfigureAwait(false);
        }
        finally
        {
            KafkaMetrics.Answered(api, started);
        }
    }
}
