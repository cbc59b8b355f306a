using System.Text;
using Actors.Log.Records;
using Actors.Testing;

namespace Actors.Log.Tests;

/// <summary>Random sequences of appends, truncations, reopens (clean and after a crash) and retention against a
/// simple in-memory model of what the log must hold.</summary>
public class LogModelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_operations_agree_with_a_model(int seed)
    {
        Console.WriteLine($"model test seed {seed}");
        var random = new Random(seed);
        using var dir = new TempDirectory("log");
        var time = new ManualClock();
        var config = new LogConfig { SegmentBytes = 3000, AllowTinySegments = true, IndexIntervalBytes = 200, RetentionBytes = 12_000, RetentionMs = -1 };
        var model = new List<(long Base, long Last, string[] Values)>();
        long logStart = 0;
        var log = PartitionLog.Open(dir.Partition, config, time);
        try
        {
            for (int step = 0; step < 250; step++)
            {
                int op = random.Next(100);
                string what;
                if (op < 60)
                {
                    int count = random.Next(1, 8);
                    var builder = new RecordBatchBuilder();
                    long first = log.LogEndOffset;
                    var values = new string[count];
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = $"s{step}-r{i}-" + new string('x', random.Next(0, 200));
                        builder.Add(time.NowMs, null, Encoding.UTF8.GetBytes(values[i]));
                    }

                    LogAppendInfo info = log.AppendAsLeader(builder.Build(), 1 + (step / 50));
                    Assert.Equal(first, info.FirstOffset);
                    model.Add((first, first + count - 1, values));
                    what = $"append {count}";
                }
                else if (op < 72)
                {
                    long end = log.LogEndOffset;
                    long target = random.NextInt64(logStart, end + 1);
                    log.TruncateTo(target);
                    model.RemoveAll(b => b.Last >= target);
                    what = $"truncate {target}";
                }
                else if (op < 84)
                {
                    bool clean = random.Next(2) == 0;
                    if (clean)
                    {
                        log.Dispose();
                    }
                    else
                    {
                        log.FlushAsync().GetAwaiter().GetResult();
                        log.Dispose();
                        File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
                    }

                    log = PartitionLog.Open(dir.Partition, config, time);
                    Assert.Equal(0, log.LastRecovery.BytesTruncated);
                    what = clean ? "reopen" : "reopen after crash";
                }
                else
                {
                    log.DeleteExpiredSegments();
                    Assert.True(log.LogStartOffset >= logStart, $"step {step}: log start went back");
                    logStart = log.LogStartOffset;
                    Assert.True(log.SizeInBytes <= config.RetentionBytes + config.SegmentBytes + 2000, $"step {step}: {log.SizeInBytes} bytes after retention");
                    model.RemoveAll(b => b.Last < logStart);
                    Assert.True(model.Count == 0 || model[0].Base >= logStart, $"step {step}: log start {logStart} is inside a batch");
                    what = "retention";
                }

                // An emptied model says nothing about the end offset (a full truncation restarts the log at its target).
                long expectedEnd = model.Count == 0 ? log.LogEndOffset : model[^1].Last + 1;
                Assert.True(expectedEnd == log.LogEndOffset, $"step {step} ({what}): log end {log.LogEndOffset}, model {expectedEnd}");
                logStart = log.LogStartOffset;
            }

            var stored = Batches.ReadAll(log, log.LogStartOffset);
            var expected = model.SelectMany(b => b.Values.Select((v, i) => (Offset: b.Base + i, Value: v))).ToList();
            Assert.Equal(expected.Select(e => e.Offset), stored.Select(r => r.Offset));
            Assert.Equal(expected.Select(e => e.Value), stored.Select(r => Encoding.UTF8.GetString(r.Value)));
        }
        finally
        {
            log.Dispose();
        }
    }
}
