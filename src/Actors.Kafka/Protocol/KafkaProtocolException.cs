namespace Actors.Kafka.Protocol;

/// <summary>
/// The one exception the protocol layer raises for bytes it cannot accept: a truncated or malformed
/// field, a count or length beyond its bound, an oversized frame, an unsupported version. The message
/// says what was wrong and at which byte of the frame (or header, or body) it was found.
/// </summary>
/// <remarks>Raised only for bad input from the peer; a caller passing a value the chosen version cannot
/// carry gets an <see cref="ArgumentException"/> instead (that is a bug on our side).</remarks>
public sealed class KafkaProtocolException : Exception
{
    public KafkaProtocolException(string message, int position = -1, ErrorCode errorCode = ErrorCode.InvalidRequest)
        : base(position >= 0 ? $"{message} (at byte {position})" : message)
    {
        Position = position;
        ErrorCode = errorCode;
    }

    public KafkaProtocolException(string message, Exception innerException)
        : this(message, -1, innerException)
    {
    }

    public KafkaProtocolException(string message, int position, Exception innerException)
        : base(position >= 0 ? $"{message} (at byte {position})" : message, innerException)
    {
        Position = position;
        ErrorCode = ErrorCode.InvalidRequest;
    }

    public KafkaProtocolException()
        : this("The Kafka request was malformed.")
    {
    }

    public KafkaProtocolException(string message)
        : this(message, -1)
    {
    }

    /// <summary>The byte offset, from the start of the buffer being decoded, where the problem was found; -1 if none.</summary>
    public int Position { get; }

    /// <summary>The Kafka error code that describes the problem (usually <see cref="ErrorCode.InvalidRequest"/>).</summary>
    public ErrorCode ErrorCode { get; }
}
