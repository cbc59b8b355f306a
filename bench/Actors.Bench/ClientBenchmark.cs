using System.Buffers.Binary;
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
/// alternate direct and SDK; medians are reported. Latencies: produce (Produce call to delivery report, at full
/// throughput, so mostly the wait in buffer.memory) p50/p99/p99.9 beside the direct batch call's at full throughput;
/// end-to-end (Produce call to the consumer's Consume) p50/p99 at half the SDK's measured rate, beside the direct
/// grain's at the same rate. Options: <c>--records N</c> through the SDK per run (default 5000000), <c>--seconds N</c>
/// for the direct figure (default 10), <c>--runs N</c> (3), <c>--latency-seconds N</c> for each end-to-end run (10),
/// <c>--only name[,name]</c> (rf1-acks1, rf1-acksall, rf3-acksall), <c>--kafka</c> to add Confluent.Kafka through the
/// silos' Kafka listeners (separate process, same records and settings) to every run.
/// </summary>
public sealed class ClientBenchmark : IBenchmarkSuite
{
    public string Name => "client";

    public string Description => "Actors.Client producer/consumer records/s vs direct-to-grain batches (RF1 acks=1, RF1 acks=all, RF3 acks=all)";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var records = Long(args, "--records", 5_000_000);
        var latencySeconds = Double(args, "--latency-seconds", 10);
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
            await cluster.CreateTopicAsync("sdk-e2e", rf);
            await cluster.CreateTopicAsync("direct-e2e", rf);
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
                await ProduceAsync(warm, "warm", 0, Math.Min(records, 200_000), name);
            }

            var (directProduce, sdkProduce, directFetch, sdkConsume) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            var (p50, p99, p999, d50, d99, d999) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
            var (kafkaProduce, kafkaConsume, kp50, kp99) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            using var producer = new ActorsProducerBuilder<Null, byte[]>(config, grains).Build();
            for (var run = 1; run <= runs && !cancellationToken.IsCancellationRequested; run++)
            {
                var direct = await DirectProduceAsync(grain, request, recordsPerBatch, seconds, inflight: 8);
                var from = run == 1 ? 0 : (run - 1) * records;
                var sdk = await ProduceAsync(producer, "sdk", from, records, name);
                var (fetch, _) = await DirectToGrain.FetchAllAsync(grain, last: records);
                var consume = Consume(grains, "sdk", from, records);
                directProduce.Add(direct.Rate);
                sdkProduce.Add(sdk.Rate);
                p50.Add(sdk.P50);
                p99.Add(sdk.P99);
                p999.Add(sdk.P999);
                d50.Add(direct.P50);
                d99.Add(direct.P99);
                d999.Add(direct.P999);
                directFetch.Add(fetch);
                sdkConsume.Add(consume);
                var line = Inv($"  run {run} {name}: produce direct {direct.Rate:F0} (call p50 {direct.P50:F2} ms, p99 {direct.P99:F2} ms) sdk {sdk.Rate:F0} records/s (p50 {sdk.P50:F1} ms, p99 {sdk.P99:F1} ms, p99.9 {sdk.P999:F1} ms); consume direct {fetch:F0} sdk {consume:F0} records/s");
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
            ReportMs($"{name}-produce-latency-p50", Median(p50), Median(d50), " at=full_throughput");
            ReportMs($"{name}-produce-latency-p99", Median(p99), Median(d99), string.Empty);
            ReportMs($"{name}-produce-latency-p99.9", Median(p999), Median(d999), string.Empty);

            // End to end at half the SDK's measured rate, the SDK and the direct grain alternating at the same rate.
            var half = Median(sdkProduce) / 2;
            var (e50, e99, dE50, dE99) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            var e2eGrain = await cluster.LeaderGrainAsync("direct-e2e");
            for (var run = 1; run <= runs && !cancellationToken.IsCancellationRequested; run++)
            {
                var d = await DirectToGrain.LatencyAsync(e2eGrain, half, latencySeconds, acks);
                var e = await EndToEndAsync(producer, grains, "sdk-e2e", half, latencySeconds);
                dE50.Add(d.P50);
                dE99.Add(d.P99);
                e50.Add(e.P50);
                e99.Add(e.P99);
                Console.WriteLine(Inv($"  e2e {run} {name} at {half:F0} records/s: direct p50 {d.P50:F2} ms p99 {d.P99:F2} ms ({d.Received} records); sdk p50 {e.P50:F2} ms p99 {e.P99:F2} ms ({e.Received} records, produce p50 {e.ProduceP50:F2} ms p99 {e.ProduceP99:F2} ms p99.9 {e.ProduceP999:F2} ms)"));
            }

            ReportMs($"{name}-e2e-p50", Median(e50), Median(dE50), Inv($" rate={half:F0}"));
            ReportMs($"{name}-e2e-p99", Median(e99), Median(dE99), Inv($" rate={half:F0} target_ms=10"));
            if (kafka)
            {
                Report($"{name}-kafka-produce", Median(kafkaProduce), Median(directProduce), Inv($" p50_ms={Median(kp50):F1} p99_ms={Median(kp99):F1} sdk_over_kafka={Median(sdkProduce) / Median(kafkaProduce):F2} runs={kafkaProduce.Count}"));
                Report($"{name}-kafka-consume", Median(kafkaConsume), Median(directFetch), Inv($" sdk_over_kafka={Median(sdkConsume) / Median(kafkaConsume):F2} runs={kafkaConsume.Count}"));
            }
        }
    }

    /// <summary>Records/s of <paramref name="inflight"/> callers sending the pre-built batch for <paramref name="seconds"/>,
    /// and each call's latency p50/p99/p99.9 in ms (as DirectToGrain.ProduceAsync, with the calls timed).</summary>
    private static async Task<(double Rate, double P50, double P99, double P999)> DirectProduceAsync(IPartitionGrain grain, ProduceRequest request, int recordsPerBatch, double seconds, int inflight)
    {
        long produced = 0;
        var calls = new List<long>[inflight];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inflight).Select(async w =>
        {
            var mine = calls[w] = new List<long>(1 << 16);
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var start = Stopwatch.GetTimestamp();
                DirectToGrain.Check(await grain.ProduceAsync(request));
                mine.Add(Stopwatch.GetTimestamp() - start);
                Interlocked.Add(ref produced, recordsPerBatch);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var rate = produced / clock.Elapsed.TotalSeconds;
        var all = calls.SelectMany(c => c).ToArray();
        Array.Sort(all);
        return (rate, Quantile(all, all.Length, 0.5), Quantile(all, all.Length, 0.99), Quantile(all, all.Length, 0.999));
    }

    /// <summary>Produces <paramref name="records"/> one by one and flushes; records/s and the produce latency
    /// (Produce call to delivery report) p50/p99/p99.9 in ms. One delivery handler serves every record, as an
    /// application would write it (no closure per record): the topic has one partition, so a record's offset less
    /// <paramref name="from"/> (the partition's end before the run) is its place.</summary>
    private static Task<(double Rate, double P50, double P99, double P999)> ProduceAsync(IProducer<Null, byte[]> producer, string topic, long from, long records, string name) => Task.Factory.StartNew(() =>
    {
        var value = new byte[DirectToGrain.RecordSize];
        var starts = new long[records];
        var latencies = new long[records];
        long failed = 0;
        long misplaced = 0;
        void Delivered(DeliveryReport<Null, byte[]> r)
        {
            var now = Stopwatch.GetTimestamp();
            var index = r.Offset.Value - from;
            if (r.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }
            else if (index < 0 || index >= records)
            {
                Interlocked.Increment(ref misplaced);
            }
            else
            {
                latencies[index] = now - starts[index];
            }
        }

        Action<DeliveryReport<Null, byte[]>> handler = Delivered;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes();
        var sw = Stopwatch.StartNew();
        for (long i = 0; i < records; i++)
        {
            starts[i] = Stopwatch.GetTimestamp();
            producer.Produce(topic, new Message<Null, byte[]> { Value = value }, handler);
        }

        var enqueued = sw.Elapsed.TotalSeconds;
        producer.Flush(TimeSpan.FromMinutes(5));
        var rate = records / sw.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("ACTORS_BENCH_VERBOSE") == "1")
        {
            Console.WriteLine(Inv($"  {name} {topic}: Produce calls took {enqueued:F3} s, flush {sw.Elapsed.TotalSeconds - enqueued:F3} s more; client CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / records:F2} us/record, {(GC.GetTotalAllocatedBytes() - allocated) / records} B/record"));
        }

        if (failed > 0 || misplaced > 0)
        {
            Console.WriteLine($"client {name}: {failed} of {records} records failed, {misplaced} delivered outside offsets {from}..{from + records - 1}");
        }

        Array.Sort(latencies);
        return (rate, Quantile(latencies, latencies.Length, 0.5), Quantile(latencies, latencies.Length, 0.99), Quantile(latencies, latencies.Length, 0.999));
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>End-to-end latency through the SDK at a fixed <paramref name="rate"/>: every millisecond the records due
    /// are produced, each stamped as it is produced, while a consumer (on its own thread) reads the topic from its
    /// start; p50/p99 ms of Produce call to Consume, and the produce latency (Produce call to delivery report).</summary>
    private static async Task<(double P50, double P99, long Received, double ProduceP50, double ProduceP99, double ProduceP999)> EndToEndAsync(
        IProducer<Null, byte[]> producer, IGrainFactory grains, string topic, double rate, double seconds)
    {
        var expected = (long)(rate * seconds);
        var latencies = new long[expected];
        var produceLatencies = new long[expected];
        long received = 0;
        using var stop = new CancellationTokenSource();
        using var consumer = new ActorsConsumerBuilder<Ignore, byte[]>(new Dictionary<string, string> { ["group.id"] = $"bench-{Guid.NewGuid():N}" }, grains).Build();
        var end = consumer.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(topic, 0), TimeSpan.FromSeconds(30)).High;
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, end));
        var reader = Task.Factory.StartNew(() =>
        {
            while (received < expected && !stop.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r)
                {
                    latencies[received++] = Stopwatch.GetTimestamp() - BinaryPrimitives.ReadInt64LittleEndian(r.Message.Value);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        long produced = 0;
        await Task.Factory.StartNew(() =>
        {
            var clock = Stopwatch.StartNew();
            long sent = 0;
            var starts = new long[expected];
            var first = end.Value;
            Action<DeliveryReport<Null, byte[]>> handler = r =>
            {
                var index = r.Offset.Value - first;
                if (!r.Error.IsError && index >= 0 && index < expected)
                {
                    produceLatencies[index] = Stopwatch.GetTimestamp() - starts[index];
                    Interlocked.Increment(ref produced);
                }
            };
            while (sent < expected)
            {
                var due = Math.Min(expected, (long)(clock.Elapsed.TotalSeconds * rate));
                if (sent >= due)
                {
                    Thread.Sleep(1);
                    continue;
                }

                while (sent < due)
                {
                    // Each record gets its own array: the stamp is read back by the consumer.
                    var value = new byte[DirectToGrain.RecordSize];
                    starts[sent] = Stopwatch.GetTimestamp();
                    BinaryPrimitives.WriteInt64LittleEndian(value, starts[sent]);
                    producer.Produce(topic, new Message<Null, byte[]> { Value = value }, handler);
                    sent++;
                }
            }

            producer.Flush(TimeSpan.FromMinutes(1));
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(30)));
        await stop.CancelAsync();
        await reader;
        var n = (int)Math.Min(received, expected);
        Array.Sort(latencies, 0, n);
        var m = (int)Math.Min(Interlocked.Read(ref produced), expected);
        Array.Sort(produceLatencies);
        var skip = produceLatencies.Length - m;
        var delivered = produceLatencies.AsSpan(skip).ToArray();
        return (Quantile(latencies, n, 0.5), Quantile(latencies, n, 0.99), n,
            Quantile(delivered, delivered.Length, 0.5), Quantile(delivered, delivered.Length, 0.99), Quantile(delivered, delivered.Length, 0.999));
    }

    /// <summary>The <paramref name="q"/> quantile in ms of the first <paramref name="n"/> sorted Stopwatch tick counts.</summary>
    private static double Quantile(long[] sorted, int n, double q) =>
        n == 0 ? double.NaN : sorted[Math.Min(n - 1, (int)(q * n))] * 1000.0 / Stopwatch.Frequency;

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

    private static void ReportMs(string figure, double ms, double limit, string extra) =>
        Console.WriteLine(Inv($"client {figure} value={ms:F2} unit=ms limit={limit:F2} ratio={ms / limit:F3}{extra}"));

    private static void Report(string figure, double rate, double limit, string extra) =>
        Console.WriteLine(Inv($"client {figure} value={rate:F0} unit=records/s limit={limit:F0} ratio={rate / limit:F3} mb_per_s={rate * DirectToGrain.RecordSize / 1e6:F1}{extra}"));
}
