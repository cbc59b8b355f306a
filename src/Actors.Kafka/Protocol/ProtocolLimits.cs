namespace Actors.Kafka.Protocol;

/// <summary>
/// The most elements the codecs accept in each array of a message. Every count is also bounded by the
/// bytes left in the frame (each element takes at least one byte), and a frame by the listener's
/// <c>socket.request.max.bytes</c>; these maxima stop a count that fits the frame but no sane peer sends.
/// </summary>
public static class ProtocolLimits
{
    /// <summary>API entries in an ApiVersions response (API keys are int16; Kafka defines under 100).</summary>
    public const int ApiKeysMax = 1024;

    /// <summary>Feature entries in an ApiVersions response.</summary>
    public const int FeaturesMax = 1024;

    /// <summary>Brokers in a Metadata response.</summary>
    public const int BrokersMax = 65_536;

    /// <summary>Topics in a Metadata request or response.</summary>
    public const int TopicsMax = 1_000_000;

    /// <summary>Partitions of one topic in a Metadata response.</summary>
    public const int PartitionsMax = 1_000_000;

    /// <summary>Broker ids in one replica, ISR or offline-replica list.</summary>
    public const int ReplicasMax = 65_536;

    /// <summary>Elements in any one array of the generated messages (each is also bounded by the bytes left).</summary>
    public const int ArrayElementsMax = 1_000_000;
}
