using System.Text;
using Actors.Log.Records;

namespace Actors.Log.Tests;

/// <summary>A temporary directory deleted when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "actors-log-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Partition => System.IO.Path.Combine(Path, "topic-0");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now;

    public ManualTime(DateTimeOffset start) => _now = start;

    public ManualTime()
        : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public long NowMs => _now.ToUnixTimeMilliseconds();

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
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
