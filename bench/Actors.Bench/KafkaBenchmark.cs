using System.Diagnostics;
using Actors.Broker;
using Actors.Testing;
using static Actors.Bench.BenchArgs;

namespace Actors.Bench;

/// <summary>
/// <c>kafka</c>: the silo's Kafka listener driven by a real client, Confluent.Kafka (librdkafka) in a separate process
/// (bench/Actors.Bench.KafkaClient), as Kafka's producer-perf-test and consumer-perf-test: linger.ms 5, batch.size 16384,
/// 100-byte records, one partition. (1) 1 silo, RF 1, acks=1; (2) 3 silos, RF 3, acks=all (idempotent),
/// min.insync.replicas 2; (3) a consumer reads that topic back from the beginning; (4) end-to-end latency, produce call to
/// consume, on each setup's silos at half the rate measured there (after a warm-up at that rate: the client process is
/// new). Each figure is printed beside the direct-to-grain figure of the same setup
/// measured in the same run on the same silos (<c>limit</c>; the <c>broker</c> suite's measurement), with the target for
/// this 2-core machine (printed, not asserted). Runs alternate direct and Kafka; medians are reported. Where
/// redis-server or nats-server is installed, the peers script runs after and the ratios to its figures are printed.
/// Options: <c>--runs N</c> (1), <c>--records N</c> per Kafka produce (2,000,000), <c>--seconds S</c> cap per Kafka
/// figure (15), <c>--direct-seconds S</c> per direct figure (5), <c>--inflight N</c> direct requests in flight (8),
/// <c>--warmup-seconds S</c> (3), <c>--latency-seconds S</c> (10), <c>--peers PATH</c> (or ACTORS_BENCH_PEERS; default
/// ../shared/bench/peers.sh from the repository root), <c>--no-peers</c>, <c>--idempotence</c> (the acks=all producer and the latency run idempotent; by default, as Kafka's published acks=all figures, they are not, and an idempotent line is printed beside);
/// <c>--security sasl_ssl [--silos N]</c> measures only the cost of TLS (KafkaBenchmark.Security.cs).
/// </summary>
public sealed partial class KafkaBenchmark : IBenchmarkSuite
{
    private const int RecordSize = DirectToGrain.RecordSize;
    private const double ProduceRf1Target = 1_000_000;
    private const double ProduceRf3Target = 300_000;
    private const double ConsumeTarget = 1_000_000;
    private const double P99TargetMs = 10;

    /// <summary>The consumer's median records/s, for the peers' read figures.</summary>
    private double consume = double.NaN;

    public string Name => "kafka";

    public string Description => "Confluent.Kafka producer/consumer (separate process) against the silos' Kafka listeners vs direct-to-grain, e2e latency, peers";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var o = new Settings(
            Runs: Math.Max(1, Int(args, "--runs", 1)),
            Records: Long(args, "--records", 2_000_000),
            Seconds: Double(args, "--seconds", 15),
            DirectSeconds: Double(args, "--direct-seconds", 5),
            Inflight: Int(args, "--inflight", 8),
            WarmUp: TimeSpan.FromSeconds(Double(args, "--warmup-seconds", 3)),
            LatencySeconds: Double(args, "--latency-seconds", 10),
            // Kafka's published acks=all figures are of a producer without idempotence; --idempotence makes the
            // acks=all figures and the latency run idempotent (the rf3 run always prints an idempotent line as well).
            Idempotence: args.Contains("--idempotence") ? "true" : "false",
            FetchWaitMs: Int(args, "--fetch-wait-ms", 500));
        if (Text(args, "--security") is { } security)
        {
            await SecurityAsync(security, Int(args, "--silos", 1), o, cancellationToken);
            return;
        }

        Console.WriteLine(Inv($"kafka: {o.Runs} run(s), alternating direct-to-grain and Kafka; Kafka produce {o.Records} records of {RecordSize} bytes (or {o.Seconds} s), linger.ms=5 batch.size=16384, 1 partition; direct {o.DirectSeconds} s with {o.Inflight} requests in flight; latency {o.LatencySeconds} s (after {o.WarmUp.TotalSeconds} s) at half each setup's rate"));
        Console.WriteLine(Inv($"targets (2 cores, not asserted): rf1-acks1 >= {ProduceRf1Target:F0} records/s; rf3-acksall >= {ProduceRf3Target:F0} records/s; consume >= {ConsumeTarget:F0} records/s; e2e-p99 < {P99TargetMs:F0} ms at half load"));

        if (Double(args, "--latency-rate", 0) is var fixedRate && fixedRate > 0)
        {
            // Only the end-to-end latency, at a given rate (no produce or consume figures): for profiling latency.
            await using var only = await BenchCluster.StartAsync("latency", 3);
            await only.CreateTopicAsync("direct", 3);
            var direct = await only.LeaderGrainAsync("direct");
            await LatencyAsync(only, direct, "rf3-acksall", fixedRate, "all", o, cancellationToken);
            if (args.Contains("--silo-logs"))
            {
                Console.WriteLine(only.Processes.Tails());
            }

            return;
        }

        // --only rf1-acks1 | rf3-acksall: one setup (rf3-acksall still reads back and measures latency), for profiling.
        var onlySetup = Text(args, "--only");
        if (onlySetup is not null and not ("rf1-acks1" or "rf3-acksall"))
        {
            throw new ArgumentException($"--only takes rf1-acks1 or rf3-acksall; got '{onlySetup}'.");
        }

        var rf1 = onlySetup is null or "rf1-acks1"
            ? await ProduceSetupAsync("rf1-acks1", silos: 1, rf: 1, acks: "1", o, ProduceRf1Target, thenConsume: false, cancellationToken)
            : double.NaN;
        if (onlySetup is null or "rf3-acksall")
        {
            await ProduceSetupAsync("rf3-acksall", silos: 3, rf: 3, acks: "all", o, ProduceRf3Target, thenConsume: true, cancellationToken);
        }

        await PeersAsync(args, o.Runs, rf1, consume, cancellationToken);
    }

    private async Task<double> ProduceSetupAsync(string name, int silos, short rf, string acks, Settings o, double target, bool thenConsume, CancellationToken ct)
    {
        await using var cluster = await BenchCluster.StartAsync(name, silos);
        await cluster.CreateTopicAsync("direct", rf);
        await cluster.CreateTopicAsync("kafka", rf);
        var grain = await cluster.LeaderGrainAsync("direct");
        var batch = DirectToGrain.BuildBatch(out var recordsPerBatch);
        var request = new ProduceRequest { Records = batch, Acks = acks == "all" ? (short)-1 : (short)1, TimeoutMs = 30_000 };
        await DirectToGrain.WarmUpAsync(grain, request, o.WarmUp);

        // With acks=all, the idempotent producer is measured too, on a topic of its own: librdkafka keeps one batch of
        // an idempotent producer in flight per partition (its in-flight window counts records, not requests), so on one
        // partition that figure is batch.size over the round trip, whatever the broker's throughput.
        await cluster.CreateTopicAsync("kafka-idempotent", rf);
        var direct = new List<double>();
        var kafka = new List<double>();
        var idempotent = new List<double>();
        long inKafkaTopic = 0;
        for (var run = 1; run <= o.Runs && !ct.IsCancellationRequested; run++)
        {
            var d = await DirectToGrain.ProduceAsync(grain, request, recordsPerBatch, o.DirectSeconds, o.Inflight);
            direct.Add(d.Rate);
            var k = await ProduceAsync("kafka", o.Idempotence);
            kafka.Add(k.Number("records_per_s"));
            inKafkaTopic += (long)k.Number("total_delivered");
            Console.WriteLine(Inv($"  run {run} {name}: direct {d.Rate:F0} records/s, kafka {k.Line}"));
            if (acks == "all" && o.Idempotence == "false")
            {
                var i = await ProduceAsync("kafka-idempotent", "true");
                idempotent.Add(i.Number("records_per_s"));
                Console.WriteLine(Inv($"  run {run} {name}-idempotent: kafka {i.Line}"));
            }

            Task<KafkaClientProcess.Result> ProduceAsync(string topic, string idempotence) => KafkaClientProcess.RunAsync(
                ["produce", "--bootstrap", cluster.Bootstrap, "--topic", topic, "--acks", acks, "--idempotence", acks == "all" ? idempotence : "false", "--records", Inv($"{o.Records}"),
                 "--seconds", Inv($"{o.Seconds}"), "--warmup-seconds", Inv($"{(run == 1 ? o.WarmUp.TotalSeconds : 1)}"), "--size", Inv($"{RecordSize}")],
                cluster.Processes.Tails, ct, cluster.SiloCpuSeconds);
        }

        var value = Median(kafka);
        var limit = Median(direct);
        var idempotence = acks == "all" ? $" idempotence={o.Idempotence}" : string.Empty;
        Console.WriteLine(Inv($"kafka {name} value={value:F0} unit=records/s limit={limit:F0} ratio={value / limit:F3} target={target:F0} mb_per_s={value * RecordSize / 1e6:F1} min={kafka.Min():F0} max={kafka.Max():F0} runs={kafka.Count}{idempotence}"));
        if (idempotent.Count > 0)
        {
            var v = Median(idempotent);
            Console.WriteLine(Inv($"kafka {name}-idempotent value={v:F0} unit=records/s limit={limit:F0} ratio={v / limit:F3} mb_per_s={v * RecordSize / 1e6:F1} min={idempotent.Min():F0} max={idempotent.Max():F0} runs={idempotent.Count} note=librdkafka_one_batch_in_flight_per_partition"));
        }

        if (thenConsume)
        {
            await ConsumeAsync(cluster, grain, inKafkaTopic, o, ct);
        }

        // End to end at half the rate this setup just measured, on the same silos.
        await LatencyAsync(cluster, grain, name, rate: value / 2, acks, o, ct);

        return value;
    }

    private async Task ConsumeAsync(BenchCluster cluster, IPartitionGrain grain, long records, Settings o, CancellationToken ct)
    {
        var direct = new List<double>();
        var kafka = new List<double>();
        for (var run = 1; run <= o.Runs && !ct.IsCancellationRequested; run++)
        {
            var d = await DirectToGrain.FetchAllAsync(grain);
            direct.Add(d.Rate);
            var k = await KafkaClientProcess.RunAsync(
                ["consume", "--bootstrap", cluster.Bootstrap, "--topic", "kafka", "--records", Inv($"{records}")],
                cluster.Processes.Tails, ct, cluster.SiloCpuSeconds);
            kafka.Add(k.Number("records_per_s"));
            Console.WriteLine(Inv($"  run {run} consume: direct fetch {d.Rate:F0} records/s ({d.Records} records), kafka {k.Line}"));
        }

        consume = Median(kafka);
        var limit = Median(direct);
        Console.WriteLine(Inv($"kafka consume value={consume:F0} unit=records/s limit={limit:F0} ratio={consume / limit:F3} target={ConsumeTarget:F0} mb_per_s={consume * RecordSize / 1e6:F1} records={records} min={kafka.Min():F0} max={kafka.Max():F0} runs={kafka.Count}"));
    }

    private static async Task LatencyAsync(BenchCluster cluster, IPartitionGrain grain, string setup, double rate, string acks, Settings o, CancellationToken ct)
    {
        var (p50, p99, max, kp50, kp99, kmax) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var rf = (short)cluster.Processes.Silos.Count;
        for (var run = 1; run <= o.Runs && !ct.IsCancellationRequested; run++)
        {
            var d = await DirectToGrain.LatencyAsync(grain, rate, o.LatencySeconds, acks == "all" ? (short)-1 : (short)1);
            p50.Add(d.P50);
            p99.Add(d.P99);
            max.Add(d.Max);

            // A new topic per run: the client's consumer reads from the beginning, so it sees only this run's records.
            var topic = Inv($"latency-{setup}-{run}");
            await cluster.CreateTopicAsync(topic, rf);
            var k = await KafkaClientProcess.RunAsync(
                ["latency", "--bootstrap", cluster.Bootstrap, "--topic", topic, "--acks", acks, "--idempotence", acks == "all" ? o.Idempotence : "false", "--rate", Inv($"{rate:F0}"),
                 "--seconds", Inv($"{o.LatencySeconds}"), "--warmup-seconds", Inv($"{o.WarmUp.TotalSeconds}"), "--size", Inv($"{RecordSize}"),
                 "--fetch-wait-ms", Inv($"{o.FetchWaitMs}")],
                cluster.Processes.Tails, ct, cluster.SiloCpuSeconds);
            kp50.Add(k.Number("p50_ms"));
            kp99.Add(k.Number("p99_ms"));
            kmax.Add(k.Number("max_ms"));
            Console.WriteLine(Inv($"  run {run} {setup} latency at {rate:F0} records/s: direct p50={d.P50:F2} p99={d.P99:F2} max={d.Max:F2} ms ({d.Received} records), kafka {k.Line}"));
        }

        var (v50, l50, v99, l99) = (Median(kp50), Median(p50), Median(kp99), Median(p99));
        Console.WriteLine(Inv($"kafka e2e-{setup}-p50 value={v50:F2} unit=ms limit={l50:F2} ratio={v50 / l50:F3} rate={rate:F0} runs={kp50.Count}"));
        Console.WriteLine(Inv($"kafka e2e-{setup}-p99 value={v99:F2} unit=ms limit={l99:F2} ratio={v99 / l99:F3} target=<{P99TargetMs:F0} rate={rate:F0} max={Median(kmax):F2} direct_max={Median(max):F2} runs={kp99.Count}"));
    }

    private static async Task PeersAsync(string[] args, int runs, double produce, double consume, CancellationToken ct)
    {
        if (args.Contains("--no-peers"))
        {
            Console.WriteLine("peers: skipped (--no-peers)");
            return;
        }

        var script = Text(args, "--peers") ?? Environment.GetEnvironmentVariable("ACTORS_BENCH_PEERS")
            ?? Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "bench", "peers.sh"));
        if (!File.Exists(script))
        {
            Console.WriteLine($"peers: skipped ({script} does not exist; --peers PATH or ACTORS_BENCH_PEERS names it)");
            return;
        }

        var redis = OnPath("redis-server");
        var nats = OnPath("nats-server");
        if (!redis && !nats)
        {
            Console.WriteLine("peers: skipped (neither redis-server nor nats-server is installed)");
            return;
        }

        var only = redis && nats ? "all" : redis ? "redis" : "nats";
        Console.WriteLine(Inv($"peers: {script} ONLY={only} RUNS={runs}{(redis ? string.Empty : " (no redis-server)")}{(nats ? string.Empty : " (no nats-server)")}"));
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.Environment["RUNS"] = Inv($"{runs}");
        info.Environment["ONLY"] = only;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start bash.");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var lines = new List<string>();
        while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
        {
            Console.WriteLine($"  {line}");
            lines.Add(line);
        }

        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"peers: the script exited with {process.ExitCode}: {Tail(await stderr, 10)}");
        }

        // Summary lines: "<name> ops_per_s=<v> ..." or "<name> msgs_per_s=<v> ...". Writes are compared with RF 1 acks=1
        // (the peers run one server), reads with the consumer.
        foreach (var line in lines.Where(l => !l.StartsWith('#')))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var rate = parts.Skip(1).Select(p => p.Split('=', 2)).FirstOrDefault(kv => kv.Length == 2 && kv[0] is "ops_per_s" or "msgs_per_s");
            if (parts.Length == 0 || rate is null || !double.TryParse(rate[1], System.Globalization.CultureInfo.InvariantCulture, out var peer))
            {
                continue;
            }

            var name = parts[0];
            var write = name.Contains("xadd", StringComparison.Ordinal) || name.Contains("publish", StringComparison.Ordinal);
            var read = name.Contains("xread", StringComparison.Ordinal) || name.Contains("consume", StringComparison.Ordinal);
            if (write || read)
            {
                var ours = write ? produce : consume;
                Console.WriteLine(Inv($"kafka vs-{name} value={ours:F0} unit=records/s limit={peer:F0} ratio={ours / peer:F3} ours={(write ? "rf1-acks1" : "consume")}"));
            }
        }
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, command)));

    private static string Tail(string text, int lines) =>
        string.Join(Environment.NewLine, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    private sealed record Settings(int Runs, long Records, double Seconds, double DirectSeconds, int Inflight, TimeSpan WarmUp, double LatencySeconds, string Idempotence, int FetchWaitMs);
}
