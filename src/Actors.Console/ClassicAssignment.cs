using System.Buffers.Binary;
using System.Text;
using Actors.Broker;

namespace Actors.WebConsole;

/// <summary>Reads the partitions out of a classic consumer's assignment (Kafka's ConsumerProtocolAssignment: int16
/// version, then an array of topic name and partition ids, then user data), as its group leader relayed it.</summary>
internal static class ClassicAssignment
{
    /// <summary>The partitions, or none when the bytes are empty or not that layout (another protocol type).</summary>
    public static TopicPartition[] TryDecode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var span = bytes.AsSpan();
        var result = new List<TopicPartition>();
        try
        {
            if (span.Length < 6 || BinaryPrimitives.ReadInt16BigEndian(span) < 0)
            {
                return [];
            }

            var at = 2;
            var topics = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
            at += 4;
            if (topics < 0 || topics > 100_000)
            {
                return [];
            }

            for (var t = 0; t < topics; t++)
            {
                var nameLength = BinaryPrimitives.ReadInt16BigEndian(span[at..]);
                at += 2;
                if (nameLength < 0)
                {
                    return [];
                }

                var name = Encoding.UTF8.GetString(span.Slice(at, nameLength));
                at += nameLength;
                var count = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
                at += 4;
                if (count < 0 || count > (span.Length - at) / 4)
                {
                    return [];
                }

                for (var i = 0; i < count; i++)
                {
                    result.Add(new TopicPartition(name, BinaryPrimitives.ReadInt32BigEndian(span[at..])));
                    at += 4;
                }
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return [];
        }

        return [.. result];
    }
}
