using Orleans.Streams;

namespace Actors.Streams;

/// <summary>
/// A position in an Actors-backed stream: the offset of the event's record in its partition. One stream lives in one
/// partition, so offsets order its events; a subscriber that resumes with a token receives the events from that offset
/// on, read from the log when the agent's cache no longer holds them.
/// </summary>
[GenerateSerializer]
[Alias("Actors.Streams.ActorsStreamSequenceToken")]
public sealed class ActorsStreamSequenceToken : StreamSequenceToken
{
    /// <summary>The token of the event stored at <paramref name="offset"/> (a subscriber resuming with it receives that
    /// event and the stream's later ones).</summary>
    public ActorsStreamSequenceToken(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        SequenceNumber = offset;
    }

    /// <summary>The record's offset in its partition.</summary>
    public long Offset => SequenceNumber;

    [Id(0)]
    public override long SequenceNumber { get; protected set; }

    /// <summary>Always 0: each record holds one event.</summary>
    [Id(1)]
    public override int EventIndex { get; protected set; }

    public override bool Equals(StreamSequenceToken? other) =>
        other is not null && other.SequenceNumber == SequenceNumber && other.EventIndex == EventIndex;

    public override bool Equals(object? obj) => obj is StreamSequenceToken t && Equals(t);

    public override int GetHashCode() => HashCode.Combine(SequenceNumber, EventIndex);

    public override int CompareTo(StreamSequenceToken? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = SequenceNumber.CompareTo(other.SequenceNumber);
        return c != 0 ? c : EventIndex.CompareTo(other.EventIndex);
    }

    public override string ToString() => $"offset {SequenceNumber}";
}
