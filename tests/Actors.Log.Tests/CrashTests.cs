using System.Diagnostics;
using System.Globalization;
using Actors.Log.Records;
using Xunit.Abstractions;
using Actors.Testing;

namespace Actors.Log.Tests;

/// <summary>Kills a real writer process with SIGKILL at random points and checks that every batch it had
/// acknowledged as flushed is there, in order and intact, after recovery.</summary>
public class CrashTests
{
    private const int Rounds = 20;

    private readonly ITestOutputHelper _output;

    public CrashTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Sigkilled_writer_loses_no_flushed_batch_over_many_rounds()
    {
        // A fresh seed each run varies the kill moments over time; it is printed and named in every failure, and
        // ACTORS_CRASH_SEED replays its choices (the exact kill points also depend on the scheduler).
        string? fixedSeed = Environment.GetEnvironmentVariable("ACTORS_CRASH_SEED");
        int seed = fixedSeed is null ? Random.Shared.Next(1, int.MaxValue / 2) : int.Parse(fixedSeed, CultureInfo.InvariantCulture);
        _output.WriteLine($"crash test seed {seed} (set ACTORS_CRASH_SEED={seed} to replay its choices)");
        var random = new Random(seed);
        using var dir = new TempDirectory("log");
        string writer = Path.Combine(AppContext.BaseDirectory, "CrashWriter.dll");
        Assert.True(File.Exists(writer), $"the crash writer was not built next to the tests: {writer}");
        long acknowledged = 0;
        long totalTruncated = 0;
        int roundsCut = 0;
        for (int round = 0; round < Rounds; round++)
        {
            // The kill moment: after a random number of flush acknowledgements, a random number of further appends
            // that are in the page cache but not flushed, then a random spin of up to 1.5 ms, so it falls anywhere
            // in an append or a flush, not only right after an acknowledgement.
            int killAfterFlushes = random.Next(1, 12);
            int thenAppends = random.Next(0, 4);
            var thenSpin = TimeSpan.FromTicks(random.Next(0, 1500) * TimeSpan.TicksPerMicrosecond);
            string where = $"seed {seed}, round {round} (kill after {killAfterFlushes} flushes, {thenAppends} appends, {thenSpin.TotalMicroseconds} µs)";
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
            int appendsAfter = 0;
            using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using CancellationTokenRegistration killOnDeadline = watchdog.Token.Register(child.Kill);
            while (flushes < killAfterFlushes || appendsAfter < thenAppends)
            {
                // Read on this thread, not through async continuations: a late continuation lets the writer run far past the
                // planned kill point (hundreds of appends were seen), so the kill must follow the line it waits for closely.
                string? line = child.StandardOutput.ReadLine();
                if (line is null)
                {
                    string why = watchdog.IsCancellationRequested ? "made no progress for 60 s and was killed" : $"exited (code {(child.HasExited ? child.ExitCode : -1)})";
                    Assert.Fail($"{where}: the writer {why} after {flushes} flushes and {appendsAfter} appends; stderr: {await stderr}");
                }

                switch (Progress(line, where, ref acknowledged))
                {
                    case "flushed":
                        flushes++;
                        break;
                    case "appended" when flushes >= killAfterFlushes:
                        appendsAfter++;
                        break;
                }
            }

            // A random delay before the kill is the thing under test here (where the kill lands), not a wait for a
            // condition; it spins because a timer cannot wait a few microseconds.
            var spin = Stopwatch.StartNew();
            while (spin.Elapsed < thenSpin)
            {
                Thread.SpinWait(20);
            }

            child.Kill();
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            // Flushes acknowledged in lines the writer printed before it died count too.
            string rest = await child.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            foreach (string line in rest.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Progress(line, where, ref acknowledged);
            }

            using var log = PartitionLog.Open(dir.Partition, CrashContent.Config, TimeProvider.System);
            Assert.False(log.LastRecovery.CleanShutdown);
            totalTruncated += log.LastRecovery.BytesTruncated;
            roundsCut += log.LastRecovery.BytesTruncated > 0 ? 1 : 0;
            Assert.True(log.LogEndOffset >= acknowledged, $"{where}: the log ends at {log.LogEndOffset}, below the acknowledged {acknowledged}");
            VerifyWholeLog(log, where);
            _output.WriteLine($"{where}: acknowledged {acknowledged}, recovered to {log.LogEndOffset}, cut {log.LastRecovery.BytesTruncated} bytes");

            // Remove the clean-shutdown marker the check left, so the next writer also starts from a crash.
            log.Dispose();
            File.Delete(Path.Combine(dir.Partition, PartitionLog.CleanShutdownFileName));
        }

        // Not asserted: a torn tail needs the kill to land inside a write system call, which is too rare to rely on.
        _output.WriteLine($"{Rounds} rounds, {acknowledged} offsets acknowledged, recovery cut a torn tail in {roundsCut} rounds ({totalTruncated} bytes in total)");
    }

    /// <summary>Reads every record from offset 0 to the log end and checks that the offsets run without a gap and
    /// that each timestamp, key and value is the one the writer derived from the offset. Allocates nothing per
    /// record, so checking the whole log every round stays fast as it grows.</summary>
    private static void VerifyWholeLog(PartitionLog log, string where)
    {
        long end = log.LogEndOffset;
        long next = 0;
        while (next < end)
        {
            using LogReadResult read = log.Read(next, 1 << 20, long.MaxValue);
            if (read.Status != LogReadStatus.Ok || read.Length == 0)
            {
                Assert.Fail($"{where}: a read at {next} below the log end {end} returned {read.Status} with {read.Length} bytes");
            }

            var reader = new RecordBatchReader(read.Records.Span);
            while (reader.TryReadNext(out RecordBatch batch))
            {
                if (batch.Validate() != RecordBatchError.None)
                {
                    Assert.Fail($"{where}: the batch at offset {batch.BaseOffset} is invalid: {batch.Validate()}");
                }

                foreach (Record r in batch)
                {
                    if (r.Offset != next || r.Timestamp != next)
                    {
                        Assert.Fail($"{where}: expected offset {next}, found a record with offset {r.Offset} and timestamp {r.Timestamp}");
                    }

                    if (!CrashContent.IsKey(next, r.Key) || !CrashContent.IsValue(next, r.Value))
                    {
                        Assert.Fail($"{where}: the key or value at offset {next} differs");
                    }

                    next++;
                }
            }

            if (!reader.Remaining.IsEmpty)
            {
                Assert.Fail($"{where}: a read at {read.FirstBatchOffset} returned a partial batch");
            }
        }

        Assert.True(next == end, $"{where}: the records end at {next}, the log at {end}");
    }

    /// <summary>Parses one progress line of the writer ("open", "appended" or "flushed" and the log end offset),
    /// raising <paramref name="acknowledged"/> for a flush; returns the kind.</summary>
    private static string Progress(string line, string where, ref long acknowledged)
    {
        string[] parts = line.Split(' ');
        long offset = -1;
        if (parts.Length != 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            Assert.Fail($"{where}: unexpected writer output '{line}'");
        }

        switch (parts[0])
        {
            case "open":
                Assert.True(offset >= acknowledged, $"{where}: the writer reopened at {offset}, below the acknowledged {acknowledged}");
                break;
            case "flushed":
                acknowledged = Math.Max(acknowledged, offset);
                break;
            case "appended":
                break;
            default:
                Assert.Fail($"{where}: unexpected writer output '{line}'");
                break;
        }

        return parts[0];
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
