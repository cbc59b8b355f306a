using System.Text;
using Actors.Log.Records;

namespace Actors.Broker.Tests.Support;

/// <summary>A temporary directory deleted when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "actors-broker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name)
    {
        var p = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(p);
        return p;
    }

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
    public static List<(long Offset, string Value)> Read(ReadOnlySpan<byte> records, long fromOffset = 0)
    {
        var list = new List<(long, string)>();
        var reader = new RecordBatchReader(records);
        while (reader.TryReadNext(out var batch))
        {
            foreach (var r in batch)
            {
                if (r.Offset >= fromOffset)
                {
                    list.Add((r.Offset, Encoding.UTF8.GetString(r.Value)));
                }
            }
        }

        return list;
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until true or the deadline, then fails naming what was awaited and what was seen.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, Func<string> seen, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeoutMs} ms waiting for {what}; seen: {seen()}");
            }

            await Task.Delay(10);
        }
    }
}

/// <summary>A clock that moves only when told to (thread-safe); for the broker's keyed group clock.</summary>
internal sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
