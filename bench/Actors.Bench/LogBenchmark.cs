using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Actors.Log;
using Actors.Log.Records;

namespace Actors.Bench;

/// <summary>The storage engine against plain file I/O on the same disk, in one run:
/// append of 16 KiB batches (page cache, then with an fsync every 16 MiB), sequential read from offset 0, and
/// random reads. Options: <c>--size-mb N</c> (bytes appended per run, default 512), <c>--dir PATH</c>,
/// <c>--part all|append|flush|read</c>.</summary>
public sealed class LogBenchmark : IBenchmarkSuite
{
    private const int BatchTarget = 16 * 1024;
    private const int FlushEvery = 16 * 1024 * 1024;
    private const int ReadChunk = 1024 * 1024;

    public string Name => "log";

    public string Description => "partition log append/read throughput beside plain FileStream and positional writes and plain reads of the same bytes";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int sizeMb = 512;
        string part = "all";
        string root = Path.Combine(Path.GetTempPath(), "actors-bench-log-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--size-mb")
            {
                sizeMb = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--part")
            {
                part = args[i + 1];
            }
            else if (args[i] == "--dir")
            {
                root = args[i + 1];
            }
        }

        Directory.CreateDirectory(root);
        try
        {
            byte[] batch = MakeBatch();
            long batches = ((long)sizeMb * 1024 * 1024) / batch.Length;
            long bytes = batches * batch.Length;
            Console.WriteLine($"# {batches} batches of {batch.Length} bytes ({bytes / (1024 * 1024)} MiB) per run in {root}; hardware CRC-32C: {Crc32C.IsHardwareAccelerated}");

            // Page-cache appends: best of three alternating runs each, files removed between runs (the machine may be
            // shared, so the best run is the one least disturbed).
            // Two plain writers: a sequential FileStream (the comparison the figure is defined by) and bare positional
            // writes, the syscalls the log itself makes (a stricter limit: FileStream runs slower than them here).
            double plain = 0;
            double positional = 0;
            double ours = 0;
            double allocPerBatch = 0;
            for (int run = 0; run < (part is "all" or "append" ? 4 : 0); run++)
            {
                double p = run % 2 == 0 ? PlainWrite(root, batch, batches, flush: false) : 0;
                (double mbps, double alloc) = await LogAppend(root, batch, batches, flush: false, keep: false, cancellationToken);
                double w = PositionalWrite(root, batch, batches);
                if (run % 2 == 1)
                {
                    p = PlainWrite(root, batch, batches, flush: false);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# append run {run}: log {mbps:F1} MB/s, FileStream {p:F1} MB/s, positional {w:F1} MB/s"));
                plain = Math.Max(plain, p);
                positional = Math.Max(positional, w);
                ours = Math.Max(ours, mbps);
                allocPerBatch = alloc;
            }

            if (part is "all" or "append")
            {
                Report("append", ours, "MB/s", plain);
                Report("append-positional", ours, "MB/s", positional);
                Console.WriteLine($"log append-alloc value={allocPerBatch.ToString("F2", CultureInfo.InvariantCulture)} unit=B/batch");
            }

            long flushBatches = Math.Min(batches, (256L * 1024 * 1024) / batch.Length);
            double plainFlush = 0;
            double oursFlush = 0;
            for (int run = 0; run < (part is "all" or "flush" ? 4 : 0); run++)
            {
                // Alternate which goes first, so neither always follows the other's writeback.
                double p = run % 2 == 0 ? PlainWrite(root, batch, flushBatches, flush: true) : 0;
                double o = (await LogAppend(root, batch, flushBatches, flush: true, keep: false, cancellationToken)).MBps;
                if (run % 2 == 1)
                {
                    p = PlainWrite(root, batch, flushBatches, flush: true);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# append-flush16m run {run}: log {o:F1} MB/s, plain {p:F1} MB/s"));
                plainFlush = Math.Max(plainFlush, p);
                oursFlush = Math.Max(oursFlush, o);
            }

            if (part is "all" or "flush")
            {
                Report("append-flush16m", oursFlush, "MB/s", plainFlush);
            }

            if (part is not ("all" or "read"))
            {
                return;
            }

            // Reads: both files freshly written, so both come from the page cache.
            string plainFile = Path.Combine(root, "plain.bin");
            PlainWrite(root, batch, batches, flush: false, keepFile: true);
            await LogAppend(root, batch, batches, flush: false, keep: true, cancellationToken);
            using var log = PartitionLog.Open(Path.Combine(root, "bench-0"), new LogConfig(), TimeProvider.System);
            double plainRead = 0;
            double logRead = 0;
            for (int run = 0; run < 5; run++)
            {
                plainRead = Math.Max(plainRead, PlainRead(plainFile));
                logRead = Math.Max(logRead, LogRead(log));
            }

            Report("read", logRead, "MB/s", plainRead);

            double plainRandom = 0;
            double logRandom = 0;
            for (int run = 0; run < 3; run++)
            {
                plainRandom = Math.Max(plainRandom, PlainRandomRead(plainFile, batch.Length, new Random(12345 + run)));
                logRandom = Math.Max(logRandom, LogRandomRead(log, new Random(12345 + run)));
            }

            Report("random-read", logRandom, "reads/s", plainRandom);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Report(string figure, double value, string unit, double limit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"log {figure} value={value:F1} unit={unit} limit={limit:F1} ratio={value / limit:F3}"));

    private static byte[] MakeBatch()
    {
        var builder = new RecordBatchBuilder();
        var random = new Random(1);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (builder.SizeInBytes < BatchTarget - 1100)
        {
            var value = new byte[1000];
            random.NextBytes(value);
            builder.Add(now, null, value);
        }

        return builder.Build();
    }

    private static double PlainWrite(string root, byte[] batch, long batches, bool flush, bool keepFile = false)
    {
        string path = Path.Combine(root, "plain.bin");
        File.Delete(path);
        Stopwatch watch;
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.None))
        {
            // Timed as the log is: the file is open and the first batch written before the clock starts.
            stream.Write(batch);
            watch = Stopwatch.StartNew();
            long sinceFlush = 0;
            for (long i = 1; i < batches; i++)
            {
                stream.Write(batch);
                sinceFlush += batch.Length;
                if (flush && sinceFlush >= FlushEvery)
                {
                    stream.Flush(flushToDisk: true);
                    sinceFlush = 0;
                }
            }

            if (flush)
            {
                stream.Flush(flushToDisk: true);
            }

            watch.Stop();
        }

        if (!keepFile)
        {
            File.Delete(path);
        }

        return (batches - 1) * batch.Length / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }

    /// <summary>The same bytes with the calls the log makes: positional writes on a file handle.</summary>
    private static double PositionalWrite(string root, byte[] batch, long batches)
    {
        string path = Path.Combine(root, "positional.bin");
        File.Delete(path);
        Stopwatch watch;
        using (SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read))
        {
            RandomAccess.Write(handle, batch, 0);
            long position = batch.Length;
            watch = Stopwatch.StartNew();
            for (long i = 1; i < batches; i++)
            {
                RandomAccess.Write(handle, batch, position);
                position += batch.Length;
            }

            watch.Stop();
        }

        File.Delete(path);
        return (batches - 1) * batch.Length / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double MBps, double AllocPerBatch)> LogAppend(string root, byte[] batch, long batches, bool flush, bool keep, CancellationToken cancellationToken)
    {
        string dir = Path.Combine(root, "bench-0");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var log = PartitionLog.Open(dir, new LogConfig(), TimeProvider.System);
        try
        {
            // Warm the code path (and the staging buffer) before measuring.
            log.AppendAsLeader(batch, 0);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            long sinceFlush = 0;
            for (long i = 1; i < batches; i++)
            {
                log.AppendAsLeader(batch, 0);
                sinceFlush += batch.Length;
                if (flush && sinceFlush >= FlushEvery)
                {
                    await log.FlushAsync(cancellationToken);
                    sinceFlush = 0;
                }
            }

            if (flush)
            {
                await log.FlushAsync(cancellationToken);
            }

            watch.Stop();
            double allocPerBatch = flush ? 0 : (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(batches - 1);
            return ((batches - 1) * batch.Length / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds, allocPerBatch);
        }
        finally
        {
            if (keep)
            {
                log.Dispose();
            }
            else
            {
                log.Delete();
            }
        }
    }

    private static double PlainRead(string path)
    {
        var buffer = new byte[ReadChunk];
        long total = 0;
        var watch = Stopwatch.StartNew();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.None))
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                total += n;
            }
        }

        return total / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }

    private static double LogRead(PartitionLog log)
    {
        long total = 0;
        long offset = log.LogStartOffset;
        var watch = Stopwatch.StartNew();
        while (offset < log.LogEndOffset)
        {
            using LogReadResult result = log.Read(offset, ReadChunk, long.MaxValue);
            total += result.Length;
            offset = result.NextOffset;
        }

        return total / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }

    private static double PlainRandomRead(string path, int batchSize, Random random)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        long batches = RandomAccess.GetLength(handle) / batchSize;
        var buffer = new byte[batchSize];
        int reads = 0;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 1500)
        {
            RandomAccess.Read(handle, buffer, random.NextInt64(batches) * batchSize);
            reads++;
        }

        return reads / watch.Elapsed.TotalSeconds;
    }

    private static double LogRandomRead(PartitionLog log, Random random)
    {
        long end = log.LogEndOffset;
        int reads = 0;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 1500)
        {
            using LogReadResult result = log.Read(random.NextInt64(end), BatchTarget, long.MaxValue, minOneBatch: true);
            reads++;
        }

        return reads / watch.Elapsed.TotalSeconds;
    }
}
