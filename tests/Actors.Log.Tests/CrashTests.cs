using System.Diagnostics;
using System.Globalization;

namespace Actors.Log.Tests;

/// <summary>Kills a real writer process with SIGKILL at random points and checks that every batch it had
/// acknowledged as flushed is there, in order and intact, after recovery.</summary>
public class CrashTests
{
    private const int Rounds = 20;

    [Fact]
    public async Task Sigkilled_writer_loses_no_flushed_batch_over_many_rounds()
    {
        const int seed = 9001;
        Console.WriteLine($"crash test seed {seed}");
        var random = new Random(seed);
        using var dir = new TempDir();
        string writer = Path.Combine(AppContext.BaseDirectory, "CrashWriter.dll");
        Assert.True(File.Exists(writer), $"the crash writer was not built next to the tests: {writer}");
        long acknowledged = 0;
        long totalTruncated = 0;
        for (int round = 0; round < Rounds; round++)
        {
            int killAfterFlushes = random.Next(1, 12);
            var start = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(writer);
            start.ArgumentList.Add(dir.Partition);
            start.ArgumentList.Add((seed + round).ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(round.ToString(CultureInfo.InvariantCulture));
            using var child = Process.Start(start)!;
            Task<string> stderr = child.StandardError.ReadToEndAsync();
            int flushes = 0;
            while (flushes < killAfterFlushes)
            {
                string? line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (line is null)
                {
                    Assert.Fail($"round {round}: the writer exited (code {(child.HasExited ? child.ExitCode : -1)}) after {flushes} of {killAfterFlushes} flushes; stderr: {await stderr}");
                }

                string[] parts = line.Split(' ');
                long offset = long.Parse(parts[1], CultureInfo.InvariantCulture);
                if (parts[0] == "open")
                {
                    Assert.True(offset >= acknowledged, $"round {round}: the writer reopened at {offset}, below the acknowledged {acknowledged}");
                }
                else
                {
                    acknowledged = Math.Max(acknowledged, offset);
                    flushes++;
                }
            }

            // The writer keeps appending without pause, so the kill lands at an arbitrary point of an append or flush.
            child.Kill();
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            using var log = PartitionLog.Open(dir.Partition, CrashContent.Config, TimeProvider.System);
            Assert.False(log.LastRecovery.CleanShutdown);
            totalTruncated += log.LastRecovery.BytesTruncated;
            Assert.True(log.LogEndOffset >= acknowledged, $"round {round}: the log ends at {log.LogEndOffset}, below the acknowledged {acknowledged}");
            var records = Batches.ReadAll(log);
            Assert.Equal(log.LogEndOffset, records.Count);
            for (int i = 0; i < records.Count; i++)
            {
                (long offset, long timestamp, string key, byte[] value) = records[i];
                Assert.Equal(i, offset);
                Assert.Equal(i, timestamp);
                Assert.Equal("k" + i.ToString(CultureInfo.InvariantCulture), key);
                Assert.True(CrashContent.Value(i).AsSpan().SequenceEqual(value), $"round {round}: the value at offset {i} differs");
            }

            // Remove the clean-shutdown marker the check left, so the next writer also starts from a crash.
            log.Dispose();
            File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
        }

        Console.WriteLine($"{Rounds} rounds, {acknowledged} offsets acknowledged, {totalTruncated} torn bytes cut in total");
    }

    private static string DotnetHost()
    {
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
