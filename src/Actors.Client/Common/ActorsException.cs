using Actors.Broker;
using Confluent.Kafka;

namespace Actors.Client;

/// <summary>
/// The one error the Actors client raises: a <see cref="KafkaException"/> whose <see cref="KafkaException.Error"/> carries
/// Kafka's code (the broker's own code for broker errors, a librdkafka local code such as <c>Local_QueueFull</c> for
/// client-side failures), with <see cref="IsRetriable"/> and a message that says what to do.
/// </summary>
public sealed class ActorsException : KafkaException
{
    public ActorsException(BrokerErrorCode code, string message, Exception? inner = null)
        : base(new Error((ErrorCode)(int)code, message), inner)
    {
        BrokerCode = code;
        IsRetriable = code.IsRetriable();
    }

    public ActorsException(ErrorCode localCode, string message, bool retriable = false, Exception? inner = null)
        : base(new Error(localCode, message), inner)
    {
        BrokerCode = (int)localCode >= 0 ? (BrokerErrorCode)(short)(int)localCode : BrokerErrorCode.UnknownServerError;
        IsRetriable = retriable;
    }

    /// <summary>The broker's error code (UNKNOWN_SERVER_ERROR for client-side errors, whose code is in <see cref="KafkaException.Error"/>).</summary>
    public BrokerErrorCode BrokerCode { get; }

    /// <summary>True when the same call can succeed if made again later.</summary>
    public bool IsRetriable { get; }

    /// <summary>The exception for a broker answer, with the broker's message and the advice for its code.</summary>
    internal static ActorsException From(BrokerErrorCode code, string? brokerMessage, string context)
    {
        var advice = code switch
        {
            BrokerErrorCode.UnknownTopicOrPartition => "Create the topic first (IAdminClient.CreateTopicsAsync) or check its name and partition.",
            BrokerErrorCode.MessageTooLarge or BrokerErrorCode.RecordListTooLarge => "Send smaller records, or raise the topic's max.message.bytes.",
            BrokerErrorCode.NotEnoughReplicas or BrokerErrorCode.NotEnoughReplicasAfterAppend => "Fewer replicas are in sync than the topic's min.insync.replicas: wait for silos to return, or lower acks.",
            BrokerErrorCode.RequestTimedOut => "The broker did not answer within request.timeout.ms; raise it or delivery.timeout.ms if the cluster is slow.",
            BrokerErrorCode.TopicAlreadyExists => "Use the existing topic or choose another name.",
            BrokerErrorCode.InvalidConfig => "Fix the named config value.",
            BrokerErrorCode.NonEmptyGroup => "Stop the group's consumers first.",
            BrokerErrorCode.GroupIdNotFound => "Check the group id.",
            BrokerErrorCode.OffsetOutOfRange => "The offset is outside the retained log; seek to the beginning or end, or set auto.offset.reset.",
            _ when code.IsRetriable() => "The error is retriable: try again.",
            _ => code.DefaultMessage(),
        };
        var detail = string.IsNullOrEmpty(brokerMessage) ? code.DefaultMessage() : brokerMessage;
        return new ActorsException(code, $"{context}: [{code.KafkaName()}] {detail} {advice}");
    }

    /// <summary>Wraps an exception thrown by a grain call.</summary>
    internal static ActorsException From(Exception e, string context) => e switch
    {
        ActorsException a => a,
        BrokerException b => From(b.Code, b.Message, context),
        TimeoutException => new ActorsException(BrokerErrorCode.RequestTimedOut, $"{context}: the grain call timed out ({e.Message}). Retry, or raise the Orleans client's response timeout.", e),
        _ => new ActorsException(ErrorCode.Local_Transport, $"{context}: the cluster could not be reached ({e.GetType().Name}: {e.Message}). Check that the silos run and the client is connected.", retriable: true, e),
    };
}
