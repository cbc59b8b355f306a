using System.Diagnostics;
using Actors.Broker;
using Actors.Client;
using Confluent.Kafka;
using static Actors.Bench.BenchArgs;

namespace Actors.Bench;

/// <summary>
/// <c>client</c>: 100-byte records produced one by one through the Actors client SDK (<see cref="ActorsProducer{TKey,TValue}"/>:
/// its own batching, linger.ms 5, batch.size 16384, 5 batches in flight) from an Orleans client process, then read back
/// by its consumer, on real Actors.Silo processes: 1 silo RF 1 with acks=1 and acks=all, 3 silos RF 3 with acks=all.
/// Each figure is printed beside the direct-to-grain figure of the same cluster (<c>limit</c>: pre-built 16 KiB batches
/// sent straight to the partition grain with 8 requests in flight, and the grain's fetch of as many records). Runs
/// alternate direct and SDK; medians are reported, with the SDK's produce latency (Produce call to delivery report,
/// at full throughput) p50/p99. Options: <c>--records N</c> through the SDK per run (default 1000000), <c>--seconds N</c>
/// for the direct figure (default 10), <c>--runs N</c> (3), <c>--only name[,name]</c> (rf1-acks1, rf1-acksall,
/// rf3-acksall), <c>--kafka</c> to add Confluent.Kafka through the silos' Kafka listeners (separate process, same
/// records and settings) to every run.
/// </summary>
public sealed class ClientBenchmark : IBenchmarkSuite
{
    public string Name => "client";

    public string Description => "Actors.Client producer/consumer records/s vs direct-to-grain batches (RF1 acks=1, RF1 acks=all, RF3 acks=all)";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var records = Long(args, "--records", 1_000_000);
        var seconds = Int(args, "--seconds", 10);
        var runs = Math.Max(1, Int(args, "--runs", 3));
        var only = Text(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var kafka = args.Contains("--kafka");
        var batch = DirectToGrain.BuildBatch(out var recordsPerBatch);
        Console.WriteLine(Inv($"{records} records of {DirectToGrain.RecordSize} bytes through the SDK per run, {runs} runs alternating with direct-to-grain {seconds} s of {batch.Length}-byte batches; medians"));
        foreach (var (name, silos, rf, acks) in new (string, int, short, short)[] { ("rf1-acks1", 1, 1, 1), ("rf1-acksall", 1, 1, -1), ("rf3-acksall", 3, 3, -1) })
        {
            if (only is not null && !only.Contains(name))
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            await using var cluster = await BenchCluster.StartAsync(name, silos);
            await cluster.CreateTopicAsync("direct", rf);
            await cluster.CreateTopicAsync("sdk", rf);
            await cluster.CreateTopicAsync("warm", rf);
            if (kafka)
            {
                await cluster.CreateTopicAsync("kafka", rf);
            }

            var grain = await cluster.LeaderGrainAsync("direct");
            var request = new ProduceRequest { Records = batch, Acks = acks, TimeoutMs = 30_000 };
            await DirectToGrain.WarmUpAsync(grain, request, TimeSpan.FromSeconds(3));
            var grains = cluster.Processes.Client;
            var config = new Dictionary<string, string> { ["acks"] = acks.ToString(System.Globalization.CultureInfo.InvariantCulture) };

            // The SDK's code warms up too (JIT, metadata, the producer id): records to another topic, not counted.
            using (var warm = new ActorsProducerBuilder<Null, byte[]>(config, grains).Build())
            {
                await ProduceAsync(warm, "warm", Math.Min(records, 200_000), name);
            }

            var (directProduce, sdkProduce, directFetch, sdkConsume, p50, p99) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
            var (kafkaProduce, kafkaConsume, kp50, kp99) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            using var producer = new ActorsProducerBuilder<Null, byte[]>(config, grains).Build();
            for (var run = 1; run <= runs && !cancellationToken.IsCancellationRequested; run++)
            {
                var (direct, _) = await DirectToGrain.ProduceAsync(grain, request, recordsPerBatch, seconds, inflight: 8);
                var from = run == 1 ? 0 : (run - 1) * records;
                var sdk = await ProduceAsync(producer, "sdk", records, name);
                var (fetch, _) = await DirectToGrain.FetchAllAsync(grain, last: records);
                var consume = Consume(grains, "sdk", from, records);
                directProduce.Add(direct);
                sdkProduce.Add(sdk.Rate);
                p50.Add(sdk.P50);
                p99.Add(sdk.P99);
                directFetch.Add(fetch);
                sdkConsume.Add(consume);
                var line = Inv($"  run {run} {name}: produce direct {direct:F0} sdk {sdk.Rate:F0} records/s (p50 {sdk.P50:F1} ms, p99 {sdk.P99:F1} ms); consume direct {fetch:F0} sdk {consume:F0} records/s");
                if (kafka)
                {
                    var k = await KafkaClientProcess.RunAsync(
                        ["produce", "--bootstrap", cluster.Bootstrap, "--topic", "kafka", "--acks", acks == -1 ? "all" : "1", "--idempotence", acks == -1 ? "true" : "false",
                         "--records", Inv($"{records}"), "--seconds", "600", "--warmup-seconds", run == 1 ? "3" : "1", "--size", Inv($"{DirectToGrain.RecordSize}"), "--latency", "true"],
                        cluster.Processes.Tails, cancellationToken);
                    var total = (long)k.Number("total_delivered");
                    var c = await KafkaClientProcess.RunAsync(
                        ["consume", "--bootstrap", cluster.Bootstrap, "--topic", "kafka", "--records", Inv($"{total}")],
                        cluster.Processes.Tails, cancellationToken);
                    kafkaProduce.Add(k.Number("records_per_s"));
                    kp50.Add(k.Number("p50_ms"));
                    kp99.Add(k.Number("p99_ms"));
                    kafkaConsume.Add(c.Number("records_per_s"));
                    line += Inv($"; kafka produce {kafkaProduce[^1]:F0} (p50 {kp50[^1]:F1} ms, p99 {kp99[^1]:F1} ms) consume {kafkaConsume[^1]:F0} records/s ({total} records)");
                }

                Console.WriteLine(line);
            }

            Report($"{name}-produce", Median(sdkProduce), Median(directProduce), Inv($" p50_ms={Median(p50):F1} p99_ms={Median(p99):F1} runs={sdkProduce.Count}"));
            Report($"{name}-consume", Median(sdkConsume), Median(directFetch), Inv($" runs={sdkConsume.Count}"));
            if (kafka)
            {
                Report($"{name}-kafka-produce", Median(kafkaProduce), Median(directProduce), Inv($" p50_ms={Median(kp50):F1} p99_ms={Median(kp99):F1} sdk_over_kafka={Median(sdkProduce) / Median(kafkaProduce):F2} runs={kafkaProduce.Count}"));
                Report($"{name}-kafka-consume", Median(kafkaConsume), Median(directFetch), Inv($" sdk_over_kafka={Median(sdkConsume) / Median(kafkaConsume):F2} runs={kafkaConsume.Count}"));
            }
        }
    }

    /// <summary>Produces <paramref name="records"/> one by one and flushes; records/s and the produce latency
    /// (Produce call to delivery report) p50/p99 in ms.</summary>
    private static Task<(double Rate, double P50, double P99)> ProduceAsync(IProducer<Null, byte[]> producer, string topic, long records, string name) => Task.Run(() =>
    {
        var value = new byte[DirectToGrain.RecordSize];
        var latencies = new long[records];
        long failed = 0;
        var sw = Stopwatch.StartNew();
        for (long i = 0; i < records; i++)
        {
            var index = i;
            var start = Stopwatch.GetTimestamp();
            producer.Produce(topic, new Message<Null, byte[]> { Value = value }, r =>
            {
                latencies[index] = Stopwatch.GetTimestamp() - start;
                if (r.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }
            });
        }

        var enqueued = sw.Elapsed.TotalSeconds;
        producer.Flush(TimeSpan.FromMinutes(5));
        var rate = records / sw.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("ACTORS_BENCH_VERBOSE") == "1")
        {
            Console.WriteLine(Inv($"  {name} {topic}: Produce calls took {enqueued:F3} s, flush {sw.Elapsed.TotalSeconds - enqueued:F3} s more"));
        }

        if (failed > 0)
        {
            Console.WriteLine($"client {name}: {failed} of {records} records failed");
        }

        Array.Sort(latencies);
        double Ms(double q) => latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))] * 1000.0 / Stopwatch.Frequency;
        return (rate, Ms(0.5), Ms(0.99));
    });

    /// <summary>Records/s reading <paramref name="records"/> records of partition 0 from <paramref name="from"/>.</summary>
    private static double Consume(IGrainFactory grains, string topic, long from, long records)
    {
        using var consumer = new ActorsConsumerBuilder<Ignore, byte[]>(new Dictionary<string, string> { ["group.id"] = $"bench-{Guid.NewGuid():N}" }, grains).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, new Offset(from)));
        var sw = Stopwatch.StartNew();
        long read = 0;
        while (read < records && consumer.Consume(TimeSpan.FromSeconds(30)) is not null)
        {
            read++;
        }

        return read / sw.Elapsed.TotalSeconds;
    }

    private static void Report(string figure, double rate, double limit, string extra) =>
        Console.WriteLine(Inv($"client {figure} value={rate:F0} unit=records/s limit={limit:F0} ratio={rate / limit:F3} mb_per_s={rate * DirectToGrain.RecordSize / 1e6:F1}{extra}"));
}
