using System.Diagnostics;
using System.Globalization;
using Actors.Broker;
using Actors.Log;
using Actors.Log.Records;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

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
    private const int RecordSize = 100;
    private const int BatchBytes = 16 * 1024;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    public string Name => "broker";

    public string Description => "produce/fetch records/s through partition grains (RF1 acks=1, RF3 acks=all, fetch) vs raw log append";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var seconds = Arg(args, "--seconds", 15);
        var inflight = Arg(args, "--inflight", 8);
        var batch = BuildBatch(out var recordsPerBatch);
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
        await using var cluster = await ProcessCluster.StartAsync(silos, _ => { });
        var controller = cluster.Controller;
        await controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = "bench",
            NumPartitions = 1,
            ReplicationFactor = rf,
            Configs = new() { ["min.insync.replicas"] = rf > 1 ? "2" : "1" },
        });
        var tp = new TopicPartition("bench", 0);
        await Wait.UntilAsync(async () => (await controller.GetPartitionStateAsync(tp)).Isr.Length == rf,
            TimeSpan.FromSeconds(60), $"{name}: all {rf} replicas in sync");

        // The producer talks to the leader's silo, as a Kafka producer talks to the leader's broker.
        var leader = cluster.Silo((await controller.GetPartitionStateAsync(tp)).Leader!);
        using var direct = await cluster.ConnectDirectAsync(leader);
        var grain = direct.Services.GetRequiredService<IClusterClient>().GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));
        var request = new ProduceRequest { Records = batch, Acks = acks, TimeoutMs = 30_000 };

        // Warm up (connections, activations, JIT): the silo processes are new, so their code starts unoptimized and
        // tiered compilation needs a few seconds of traffic to finish.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < WarmUp)
        {
            Check(await grain.ProduceAsync(request));
        }

        long produced = 0;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inflight).Select(async _ =>
        {
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                Check(await grain.ProduceAsync(request));
                Interlocked.Add(ref produced, recordsPerBatch);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var produceRate = produced / sw.Elapsed.TotalSeconds;

        double fetchRate = 0;
        if (fetchBack)
        {
            var end = (await grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Latest })).Offset;
            long offset = 0;
            long fetched = 0;
            sw.Restart();
            while (offset < end)
            {
                var r = await grain.FetchAsync(new FetchRequest { FetchOffset = offset, MaxBytes = 1 << 20, MaxWaitMs = 0 });
                if (r.Error != ErrorCode.None)
                {
                    throw new InvalidOperationException($"fetch failed: {r.Error} {r.ErrorMessage}");
                }

                var reader = new RecordBatchReader(r.Records.Span);
                while (reader.TryReadNext(out var b))
                {
                    fetched += b.LastOffset + 1 - Math.Max(offset, b.BaseOffset);
                    offset = b.LastOffset + 1;
                }
            }

            fetchRate = fetched / sw.Elapsed.TotalSeconds;
        }

        return (produceRate, fetchRate);
    }

    private static void Check(ProduceResponse r)
    {
        if (r.Error != ErrorCode.None)
        {
            throw new InvalidOperationException($"produce failed: {r.Error} {r.ErrorMessage}");
        }
    }

    private static byte[] BuildBatch(out int records)
    {
        var value = new byte[RecordSize];
        new Random(1).NextBytes(value);
        var builder = new RecordBatchBuilder();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (builder.SizeInBytes + RecordSize + 16 <= BatchBytes)
        {
            builder.Add(now, null, value);
        }

        records = builder.Count;
        return builder.Build();
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
