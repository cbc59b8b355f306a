using Orleans.Runtime;
using Orleans.Streams;

namespace Actors.Streams;

/// <summary>One event of an Actors-backed stream, as read from its record: the stream, the event (deserialized) and
/// the request context it was produced with.</summary>
[GenerateSerializer]
[Alias("Actors.Streams.ActorsBatchContainer")]
internal sealed class ActorsBatchContainer : IBatchContainer
{
    public ActorsBatchContainer(StreamId streamId, ActorsStreamSequenceToken token, object? @event, Dictionary<string, object>? requestContext)
    {
        StreamId = streamId;
        Token = token;
        Event = @event;
        RequestContext = requestContext;
    }

    [Id(0)]
    public StreamId StreamId { get; }

    [Id(1)]
    public ActorsStreamSequenceToken Token { get; }

    [Id(2)]
    public object? Event { get; }

    [Id(3)]
    public Dictionary<string, object>? RequestContext { get; }

    public StreamSequenceToken SequenceToken => Token;

    public long Offset => Token.Offset;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        if (Event is T e)
        {
            yield return Tuple.Create<T, StreamSequenceToken>(e, Token);
        }
    }

    public bool ImportRequestContext()
    {
        if (RequestContext is not { Count: > 0 })
        {
            return false;
        }

        foreach (var (k, v) in RequestContext)
        {
            global::Orleans.Runtime.RequestContext.Set(k, v);
        }

        return true;
    }

    public override string ToString() => $"{StreamId} at offset {Offset}";
}
