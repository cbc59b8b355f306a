using System.Text;
using Confluent.Kafka;
using Orleans.Runtime;
using Orleans.Serialization;

namespace Actors.Streams;

/// <summary>
/// How a stream event is stored as a record: the key is the stream's key (so a stream's events share a partition and
/// keep their order), the value is the event in Orleans' serialization, and headers carry the stream namespace, a
/// marker that the value is Orleans-serialized, and the producer's request context. A record without the marker (one
/// written by a Kafka client, say) is delivered as its value's bytes (<c>byte[]</c>).
/// </summary>
internal sealed class EventRecords(Serializer serializer)
{
    public const string NamespaceHeader = "orleans.stream.namespace";
    public const string CodecHeader = "orleans.codec";
    public const string ContextHeader = "orleans.request.context";
    private static readonly byte[] OrleansCodec = "orleans"u8.ToArray();

    public Message<byte[], byte[]> ToMessage(StreamId streamId, object? @event, Dictionary<string, object>? requestContext)
    {
        var headers = new Headers
        {
            { NamespaceHeader, streamId.Namespace.ToArray() },
            { CodecHeader, OrleansCodec },
        };
        if (requestContext is { Count: > 0 })
        {
            headers.Add(ContextHeader, serializer.SerializeToArray(requestContext));
        }

        return new Message<byte[], byte[]>
        {
            Key = streamId.Key.ToArray(),
            Value = serializer.SerializeToArray(@event),
            Headers = headers,
        };
    }

    /// <summary>The event of a record (the namespace of a record with no namespace header is <paramref name="fallbackNamespace"/>).</summary>
    public ActorsBatchContainer ToContainer(long offset, byte[]? key, byte[]? value, IEnumerable<(string Key, byte[]? Value)> headers, string fallbackNamespace)
    {
        byte[]? ns = null;
        byte[]? context = null;
        var orleans = false;
        foreach (var (k, v) in headers)
        {
            switch (k)
            {
                case NamespaceHeader:
                    ns = v;
                    break;
                case CodecHeader:
                    orleans = v is not null && v.AsSpan().SequenceEqual(OrleansCodec);
                    break;
                case ContextHeader:
                    context = v;
                    break;
            }
        }

        var streamId = StreamId.Create(ns ?? Encoding.UTF8.GetBytes(fallbackNamespace), key ?? []);
        var @event = orleans && value is not null ? serializer.Deserialize<object?>(value) : value;
        var requestContext = context is null ? null : serializer.Deserialize<Dictionary<string, object>>(context);
        return new ActorsBatchContainer(streamId, new ActorsStreamSequenceToken(offset), @event, requestContext);
    }
}
