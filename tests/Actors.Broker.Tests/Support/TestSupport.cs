using System.Text;
using Actors.Log.Records;
using Actors.Testing;

namespace Actors.Broker.Tests.Support;

internal static class Batches
{
    /// <summary>A batch of <paramref name="count"/> records "v{first}".."v{first+count-1}".</summary>
    public static byte[] Values(int first, int count, long producerId = -1, short producerEpoch = -1, int baseSequence = -1, long timestamp = -1)
    {
        // Current timestamps: segment.ms counts from a segment's first batch timestamp, so old ones would roll segments.
        timestamp = timestamp < 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : timestamp;
        var b = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = producerEpoch, BaseSequence = baseSequence };
        for (var i = 0; i < count; i++)
        {
            b.Add(timestamp + i, null, Encoding.UTF8.GetBytes($"v{first + i}"));
        }

        return b.Build();
    }

    /// <summary>Every record value in <paramref name="records"/> from <paramref name="fromOffset"/> on, with its offset.</summary>
    public static List<(long Offset, string Value)> Read(ReadOnlySpan<byte> records, long fromOffset = 0) => TextRecords.Read(records, fromOffset);
}
