namespace Actors.Broker;

/// <summary>
/// An error of the broker that a client can see, carrying one code of the <see cref="ErrorCode"/>
/// table. The message starts with the Kafka name in brackets ("[NOT_ENOUGH_REPLICAS] ..."), so the
/// code survives any transport that keeps only an exception's type and message.
/// Serializable across grain calls: the code travels as a field of its own, and the message keeps the prefix too.
/// </summary>
[GenerateSerializer]
[Alias("actors.broker-exception")]
public class BrokerException : Exception
{
    public BrokerException()
        : this(ErrorCode.UnknownServerError, null)
    {
    }

    /// <summary>Rebuilds the exception from a message written by this class; the code is read from its prefix.</summary>
    public BrokerException(string message)
        : base(message)
    {
        Code = ParseCode(message);
    }

    public BrokerException(string message, Exception inner)
        : base(message, inner)
    {
        Code = ParseCode(message);
    }

    public BrokerException(ErrorCode code, string? message)
        : base(Format(code, message))
    {
        Code = code;
    }

    public BrokerException(ErrorCode code, string? message, Exception inner)
        : base(Format(code, message), inner)
    {
        Code = code;
    }

    /// <summary>The error code.</summary>
    [Id(0)]
    public ErrorCode Code { get; private set; }

    /// <summary>True when sending the same request again later can succeed.</summary>
    public bool IsRetriable => Code.IsRetriable();

    private static string Format(ErrorCode code, string? message) =>
        $"[{code.KafkaName()}] {(string.IsNullOrEmpty(message) ? code.DefaultMessage() : message)}";

    private static ErrorCode ParseCode(string? message)
    {
        if (message is null || message.Length < 3 || message[0] != '[')
        {
            return ErrorCode.UnknownServerError;
        }

        var end = message.IndexOf(']', StringComparison.Ordinal);
        return end > 1 && ErrorCodes.TryParseKafkaName(message[1..end], out var code)
            ? code
            : ErrorCode.UnknownServerError;
    }
}
