using System.Text;
using Actors.Log.Records;

namespace Actors.Testing;

/// <summary>Record batches of UTF-8 text values, as the broker tests, process tests and benchmarks write and read them.</summary>
internal static class TextRecords
{
    /// <summary>One batch of <paramref name="values"/> (idempotent when <paramref name="producerId"/> is set), stamped now.</summary>
    public static byte[] Batch(IEnumerable<string> values, long producerId = -1, short producerEpoch = -1, int baseSequence = -1, long timestamp = -1)
    {
        timestamp = timestamp < 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : timestamp;
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = producerEpoch, BaseSequence = baseSequence };
        foreach (var value in values)
        {
            builder.Add(timestamp, null, Encoding.UTF8.GetBytes(value));
        }

        return builder.Build();
    }

    /// <summary>Every record in <paramref name="records"/> at or after <paramref name="fromOffset"/>, with its offset
    /// (a fetch may start with a batch that begins before the offset asked for).</summary>
    public static List<(long Offset, string Value)> Read(ReadOnlySpan<byte> records, long fromOffset = 0)
    {
        var list = new List<(long, string)>();
        var reader = new RecordBatchReader(records);
        while (reader.TryReadNext(out var batch))
        {
            foreach (var record in batch)
            {
                if (record.Offset >= fromOffset)
                {
                    list.Add((record.Offset, Encoding.UTF8.GetString(record.Value)));
                }
            }
        }

        return list;
    }
}
