using System.Text;
using Actors.Log.Records;
using Actors.Testing;

namespace Actors.Log.Tests;

/// <summary>The log tests' partition folder inside a test's temporary directory.</summary>
internal static class LogTestDirectories
{
    extension(TempDirectory directory)
    {
        /// <summary>"&lt;temp&gt;/topic-0": where a test's partition log lives.</summary>
        public string Partition => directory.File("topic-0");
    }
}

internal static class Batches
{
    /// <summary>A batch of <paramref name="count"/> records with values "v{first+i}" (sized to <paramref name="valueBytes"/> if given).</summary>
    public static byte[] Make(int count, long timestamp, int valueBytes = 0, string prefix = "v", long baseOffset = 0, int epoch = -1)
    {
        var builder = new RecordBatchBuilder { BaseOffset = baseOffset, PartitionLeaderEpoch = epoch };
        for (int i = 0; i < count; i++)
        {
            byte[] value = Encoding.UTF8.GetBytes($"{prefix}{i}");
            if (valueBytes > value.Length)
            {
                Array.Resize(ref value, valueBytes);
            }

            builder.Add(timestamp + i, Encoding.UTF8.GetBytes($"k{i}"), value);
        }

        return builder.Build();
    }

    /// <summary>Every record stored from <paramref name="from"/> on, read through <see cref="PartitionLog.Read"/>.</summary>
    public static List<(long Offset, long Timestamp, string Key, byte[] Value)> ReadAll(PartitionLog log, long from = 0)
    {
        var result = new List<(long, long, string, byte[])>();
        long next = from;
        while (next < log.LogEndOffset)
        {
            using LogReadResult read = log.Read(next, 64 * 1024, long.MaxValue);
            Assert.Equal(LogReadStatus.Ok, read.Status);
            Assert.True(read.Length > 0, $"read at {next} returned nothing below the log end {log.LogEndOffset}");
            var reader = new RecordBatchReader(read.Records.Span);
            while (reader.TryReadNext(out RecordBatch batch))
            {
                Assert.Equal(RecordBatchError.None, batch.Validate());
                foreach (Record r in batch)
                {
                    if (r.Offset >= next)
                    {
                        result.Add((r.Offset, r.Timestamp, Encoding.UTF8.GetString(r.Key), r.Value.ToArray()));
                    }
                }
            }

            Assert.True(reader.Remaining.IsEmpty, "a read returned a partial batch");
            next = read.NextOffset;
        }

        return result;
    }
}
