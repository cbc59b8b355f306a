namespace Actors.Kafka.Protocol.Messages;

/// <summary>A Kafka message (a request or response body, or a data type such as a consumer's subscription) that reads
/// and writes itself in any of its versions. The generated messages implement it.</summary>
/// <typeparam name="TSelf">The message type.</typeparam>
public interface IKafkaMessage<TSelf>
    where TSelf : IKafkaMessage<TSelf>
{
    /// <summary>Reads the message as <paramref name="version"/> writes it; malformed input raises
    /// <see cref="KafkaProtocolException"/>.</summary>
    static abstract TSelf Read(ref KafkaReader reader, short version);

    /// <summary>Writes the message as <paramref name="version"/>; fields that version does not have are left out.</summary>
    void Write(ref KafkaWriter writer, short version);
}
