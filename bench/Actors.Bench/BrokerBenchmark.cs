using System.Diagnostics;
using Actors.Broker;
using Actors.Log;

namespace Actors.Bench;

/// <summary>
/// <c>broker</c>: pre-built 16 KiB batches of 100-byte records produced straight to partition grains through an
/// Orleans client connected to the leader's silo, on real Actors.Silo processes on this machine (so every hop is TCP:
/// client to leader, leader to followers): 1 silo, RF 1, acks=1; 3 silos, RF 3, acks=all; then a consumer fetching the
/// RF 3 partition back. Each figure is printed beside the log engine's raw append
/// rate measured in the same run (<c>limit</c>, records/s). Options: <c>--seconds N</c> per figure (default 15: the silo
/// processes are new, and short runs measure their code while it is still being compiled),
/// <c>--inflight N</c> produce requests in flight (default 8).
/// </summary>
public sealed class BrokerBenchmark : IBenchmarkSuite
{
    private const int RecordSize = DirectToGrain.RecordSize;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public string Name => "broker";

    public string Description => "produce/fetch records/s through partition grains (RF1 acks=1, RF3 acks=all, fetch) vs raw log append";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var seconds = Arg(args, "--seconds", 15);
        var inflight = Arg(args, "--inflight", 8);
        var batch = DirectToGrain.BuildBatch(out var recordsPerBatch);
        Console.WriteLine($"batch: {batch.Length} bytes, {recordsPerBatch} records of {RecordSize} bytes; {seconds} s per figure; {inflight} requests in flight");

        var raw = RawAppend(batch, recordsPerBatch, seconds);
        Console.WriteLine(Inv($"log raw-append value={raw:F0} unit=records/s mb_per_s={raw * RecordSize / 1e6:F1}"));

        var rf1 = await ProduceAsync("rf1", silos: 1, rf: 1, acks: 1, batch, recordsPerBatch, seconds, inflight, fetchBack: false, cancellationToken);
        Report("rf1-acks1", rf1.Produce, raw);
        var rf3 = await ProduceAsync("rf3", silos: 3, rf: 3, acks: -1, batch, recordsPerBatch, seconds, inflight, fetchBack: true, cancellationToken);
        Report("rf3-acksall", rf3.Produce, raw);
        Report("fetch", rf3.Fetch, raw);
    }

    private static void Report(string figure, double recordsPerSecond, double raw) =>
        Console.WriteLine(Inv($"broker {figure} value={recordsPerSecond:F0} unit=records/s limit={raw:F0} ratio={recordsPerSecond / raw:F3} mb_per_s={recordsPerSecond * RecordSize / 1e6:F1}"));

    private static double RawAppend(byte[] batch, int recordsPerBatch, int seconds)
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-bench-broker-raw", Guid.NewGuid().ToString("N"));
        try
        {
            using var log = PartitionLog.Open(dir, new LogConfig(), TimeProvider.System);
            var sw = Stopwatch.StartNew();
            long records = 0;
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                log.AppendAsLeader(batch, 0);
                records += recordsPerBatch;
            }

            return records / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(double Produce, double Fetch)> ProduceAsync(
        string name, int silos, short rf, short acks, byte[] batch, int recordsPerBatch, int seconds, int inflight, bool fetchBack, CancellationToken ct)
    {
        await using var cluster = await BenchCluster.StartAsync(name, silos);
        await cluster.CreateTopicAsync("bench", rf);
        var grain = await cluster.LeaderGrainAsync("bench");
        var request = new ProduceRequest { Records = batch, Acks = acks, TimeoutMs = 30_000 };
        await DirectToGrain.WarmUpAsync(grain, request, WarmUp);
        var (produceRate, _) = await DirectToGrain.ProduceAsync(grain, request, recordsPerBatch, seconds, inflight);
        var fetchRate = fetchBack ? (await DirectToGrain.FetchAllAsync(grain)).Rate : 0;
        return (produceRate, fetchRate);
    }

    private static int Arg(string[] args, string name, int fallback) => BenchArgs.Int(args, name, fallback);

    private static string Inv(FormattableString s) => BenchArgs.Inv(s);
}
