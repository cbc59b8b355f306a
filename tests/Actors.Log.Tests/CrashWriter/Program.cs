using System.Globalization;
using Actors.Log;
using Actors.Log.Records;

namespace Actors.Log.Tests.CrashWriter;

/// <summary>Child process for the crash test: opens (and so recovers) a log, then appends batches with
/// content derived from their offsets as fast as it can, flushing now and then. It prints
/// "appended &lt;log end offset&gt;" after each append (in the page cache, not yet flushed) and
/// "flushed &lt;log end offset&gt;" after each flush returns. The parent kills it with SIGKILL.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: CrashWriter <directory> <seed> <leader epoch>");
            return 2;
        }

        string directory = args[0];
        var random = new Random(int.Parse(args[1], CultureInfo.InvariantCulture));
        int epoch = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var log = PartitionLog.Open(directory, CrashContent.Config, TimeProvider.System);
        Console.Out.WriteLine($"open {log.LogEndOffset}");
        Console.Out.Flush();
        var builder = new RecordBatchBuilder();
        var append = new List<byte>();
        int sinceFlush = 0;
        int flushEvery = random.Next(1, 8);
        while (true)
        {
            // One append of 1-12 batches of 1-150 records each: small appends and large ones (up to a few hundred
            // KiB, so a kill can land inside a long write).
            append.Clear();
            long next = log.LogEndOffset;
            int batches = random.Next(1, 13);
            for (int b = 0; b < batches; b++)
            {
                builder.Clear();
                int count = random.Next(1, 151);
                for (int i = 0; i < count; i++)
                {
                    builder.Add(next, CrashContent.Key(next), CrashContent.Value(next));
                    next++;
                }

                append.AddRange(builder.Build());
            }

            log.AppendAsLeader(append.ToArray(), epoch);
            Console.Out.WriteLine($"appended {log.LogEndOffset}");
            Console.Out.Flush();
            if (++sinceFlush >= flushEvery)
            {
                await log.FlushAsync();
                Console.Out.WriteLine($"flushed {log.LogEndOffset}");
                Console.Out.Flush();
                sinceFlush = 0;
                flushEvery = random.Next(1, 8);
            }
        }
    }
}
