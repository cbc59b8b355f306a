using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Actors.Bench.KafkaClient;

/// <summary>
/// The Kafka client process of the <c>kafka</c> benchmark suite, after Kafka's producer-perf-test and consumer-perf-test:
/// <list type="bullet">
/// <item><c>produce</c>: N records of <c>--size</c> bytes (or <c>--seconds</c>, whichever ends first) through the async
/// <c>Produce(topic, message, handler)</c> API, then Flush; records/s counts delivered records over the time to the end of the flush.</item>
/// <item><c>consume</c>: assigns partitions 0..P-1 from the beginning and reads <c>--records</c> records.</item>
/// <item><c>latency</c>: a producer at a fixed <c>--rate</c> and a consumer in this process (one clock), each record carrying
/// its send time; p50/p99/max from the producer's Produce call to the consumer's Consume return, of the records sent
/// in <c>--seconds</c> after <c>--warmup-seconds</c> at the same rate (the fresh process's first records pay for its
/// code being compiled and its connections warming, as every throughput run's warm-up does).</item>
/// </list>
/// <c>--config key=value</c> (repeatable) passes any librdkafka setting to the producer and consumer (a SASL_SSL
/// listener: security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca.location).
/// Prints one line <c>result key=value ...</c> on standard output; diagnostics go to standard error. Exit code 1 when
/// records failed or did not arrive.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Actors.Bench.KafkaClient produce|consume|latency --bootstrap host:port --topic t [options]");
            return 2;
        }

        var o = new Options(args[1..]);
        return args[0] switch
        {
            "produce" => Produce(o),
            "consume" => Consume(o),
            "latency" => Latency(o),
            _ => 2,
        };
    }

    private static ProducerConfig ProducerConfig(Options o)
    {
        var acks = o.Text("--acks", "1");
        return new ProducerConfig
        {
            BootstrapServers = o.Text("--bootstrap", "127.0.0.1:9092"),
            LingerMs = o.Int("--linger", 5),
            BatchSize = o.Int("--batch", 16384),
            Acks = acks is "all" or "-1" ? Acks.All : acks == "0" ? Acks.None : Acks.Leader,
            EnableIdempotence = o.Text("--idempotence", acks is "all" or "-1" ? "true" : "false") == "true",
            CompressionType = CompressionType.None,
            // Only the status is marshalled back to .NET for each delivery report: the handler only counts.
            DeliveryReportFields = "status",
            MessageTimeoutMs = 60_000,
        }.With(o);
    }

    /// <summary>The producer of <paramref name="o"/>; with <c>--stats true</c>, librdkafka's statistics each second into
    /// <paramref name="stats"/>, whose last window (request round trip, queueing, batch sizes) goes on the result line:
    /// where a produce's time goes, in the client's queue or on the wire.</summary>
    private static IProducer<Null, byte[]> BuildProducer(Options o, out ProducerStats? stats)
    {
        var config = ProducerConfig(o);
        var builder = new ProducerBuilder<Null, byte[]>(config);
        var observed = o.Text("--stats", "false") == "true" ? new ProducerStats() : null;
        if (observed is not null)
        {
            config.StatisticsIntervalMs = 1000;
            builder.SetStatisticsHandler((_, json) => observed.Observe(json));
        }

        stats = observed;
        return builder.Build();
    }

    private static int Produce(Options o)
    {
        var topic = o.Text("--topic", "bench");
        var records = o.Long("--records", 2_000_000);
        var seconds = o.Double("--seconds", 15);
        var warmUp = o.Double("--warmup-seconds", 2);
        var value = new byte[o.Int("--size", 100)];
        new Random(1).NextBytes(value);
        var message = new Message<Null, byte[]> { Value = value };
        long delivered = 0;
        long errors = 0;
        string? firstError = null;
        void Handler(DeliveryReport<Null, byte[]> r)
        {
            if (r.Error.IsError)
            {
                firstError ??= $"{r.Error.Code}: {r.Error.Reason}";
                Interlocked.Increment(ref errors);
            }
            else
            {
                Interlocked.Increment(ref delivered);
            }
        }

        using var producer = BuildProducer(o, out var stats);

        // Warm-up: connections, metadata, the producer id, and the silo's code paths; delivered, not counted.
        var clock = Stopwatch.StartNew();
        long warmed = 0;
        while (clock.Elapsed.TotalSeconds < warmUp)
        {
            warmed += Send(producer, topic, message, Handler, 10_000, TimeSpan.MaxValue, clock);
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        var warmDelivered = Interlocked.Exchange(ref delivered, 0);
        var warmErrors = Interlocked.Exchange(ref errors, 0);
        if (warmErrors > 0)
        {
            Console.Error.WriteLine($"produce: {warmErrors} of {warmed} warm-up records failed; first error: {firstError}");
            return 1;
        }

        // --latency true: each record's own handler notes the time from its Produce call to its delivery report.
        var latencies = o.Text("--latency", "false") == "true" ? new long[records] : null;
        clock.Restart();
        var cpu = CpuSeconds();
        var sent = latencies is null
            ? Send(producer, topic, message, Handler, records, TimeSpan.FromSeconds(seconds), clock)
            : SendTimed(producer, topic, message, Handler, latencies, TimeSpan.FromSeconds(seconds), clock);
        var left = producer.Flush(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed.TotalSeconds;
        cpu = CpuSeconds() - cpu;
        var rate = delivered / elapsed;
        var latency = string.Empty;
        if (latencies is not null && sent > 0)
        {
            Array.Sort(latencies, 0, (int)sent);
            double Ms(double q) => latencies[Math.Min(sent - 1, (long)(q * sent))] * 1000.0 / Stopwatch.Frequency;
            latency = $" p50_ms={Ms(0.5):F2} p99_ms={Ms(0.99):F2}";
        }

        Result(
            $"mode=produce records_per_s={rate:F0} mb_per_s={rate * value.Length / 1e6:F1} delivered={delivered} errors={errors} sent={sent} seconds={elapsed:F3} unflushed={left}{latency} cpu_s={cpu:F2} cpu_us_per_record={cpu * 1e6 / Math.Max(1, delivered):F2}",
            $"warmup_delivered={warmDelivered} warmup_errors={warmErrors} warmup_sent={warmed} total_delivered={warmDelivered + delivered}{stats?.Summary()}");
        if (errors > 0 || left > 0)
        {
            Console.Error.WriteLine($"produce: {errors} records failed, {left} not flushed; first error: {firstError}");
            return 1;
        }

        return 0;
    }

    /// <summary>Produces up to <paramref name="count"/> records while <paramref name="clock"/> is under <paramref name="limit"/>
    /// (checked every 1024 records); waits briefly when librdkafka's queue is full. Returns the number sent.</summary>
    private static long Send(IProducer<Null, byte[]> producer, string topic, Message<Null, byte[]> message, Action<DeliveryReport<Null, byte[]>> handler, long count, TimeSpan limit, Stopwatch clock)
    {
        long sent = 0;
        while (sent < count && ((sent & 1023) != 0 || clock.Elapsed < limit))
        {
            try
            {
                producer.Produce(topic, message, handler);
                sent++;
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // Back-pressure (as buffer.memory blocks send in the Java producer): let deliveries drain the queue.
                Thread.Sleep(1);
            }
        }

        return sent;
    }

    /// <summary>As <see cref="Send"/>, each record with a handler of its own that stores its produce latency.</summary>
    private static long SendTimed(IProducer<Null, byte[]> producer, string topic, Message<Null, byte[]> message, Action<DeliveryReport<Null, byte[]>> handler, long[] latencies, TimeSpan limit, Stopwatch clock)
    {
        long sent = 0;
        while (sent < latencies.LongLength && ((sent & 1023) != 0 || clock.Elapsed < limit))
        {
            var index = sent;
            var start = Stopwatch.GetTimestamp();
            try
            {
                producer.Produce(topic, message, r =>
                {
                    latencies[index] = Stopwatch.GetTimestamp() - start;
                    handler(r);
                });
                sent++;
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(1);
            }
        }

        return sent;
    }

    private static IConsumer<Ignore, byte[]> BuildConsumer(Options o) =>
        new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = o.Text("--bootstrap", "127.0.0.1:9092"),
            GroupId = $"bench-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnablePartitionEof = false,
            FetchWaitMaxMs = o.Int("--fetch-wait-ms", 500),
            // librdkafka stops fetching a partition for fetch.queue.backoff.ms (1000 by default) once its local queue
            // holds queued.min.messages (100,000: 10 MB of these records, a fifth of a second's reading), so a reader
            // that drains it sooner waits out the rest of the second: 464,000-720,000 records/s from one silo with
            // the default, 858,000-877,000 with 10 ms. Kafka's Java consumer has no such pause; its documentation
            // says to lower the setting when readers see such delays.
            FetchQueueBackoffMs = o.Int("--fetch-queue-backoff-ms", 10),
            // Only the value is marshalled to .NET.
            ConsumeResultFields = "none",
        }.With(o)).Build();

    private static List<TopicPartitionOffset> Partitions(Options o) =>
        Enumerable.Range(0, o.Int("--partitions", 1))
            .Select(p => new TopicPartitionOffset(o.Text("--topic", "bench"), p, Offset.Beginning))
            .ToList();

    private static int Consume(Options o)
    {
        var records = o.Long("--records", 2_000_000);
        var timeout = TimeSpan.FromSeconds(o.Double("--timeout-seconds", 60));
        using var consumer = BuildConsumer(o);
        long read = 0;
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        var cpu = CpuSeconds();
        var lastProgress = clock.Elapsed;
        consumer.Assign(Partitions(o));
        while (read < records && clock.Elapsed - lastProgress < timeout)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r?.Message is { } m)
            {
                read++;
                bytes += m.Value?.Length ?? 0;
                lastProgress = clock.Elapsed;
            }
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        cpu = CpuSeconds() - cpu;
        consumer.Close();
        Result($"mode=consume records_per_s={read / elapsed:F0} mb_per_s={bytes / elapsed / 1e6:F1} read={read} expected={records} seconds={elapsed:F3} cpu_s={cpu:F2} cpu_us_per_record={cpu * 1e6 / Math.Max(1, read):F2}");
        if (read < records)
        {
            Console.Error.WriteLine($"consume: {read} of {records} records read; nothing new for {timeout.TotalSeconds:F0} s");
            return 1;
        }

        return 0;
    }

    private static int Latency(Options o)
    {
        var topic = o.Text("--topic", "latency");
        var rate = o.Double("--rate", 100_000);
        var seconds = o.Double("--seconds", 10);
        var warmUpSeconds = o.Double("--warmup-seconds", 0);
        var size = Math.Max(o.Int("--size", 100), sizeof(long));
        var expected = (long)(rate * seconds);
        var warmUp = (long)(rate * warmUpSeconds);

        // Records stamped before this are the warm-up's: read, not measured (set once the warm-up's records are sent).
        var measuredFrom = long.MaxValue;
        var latencies = new long[expected + 1];
        var sentAts = new long[expected + 1];
        long received = 0;
        var probeSeen = new ManualResetEventSlim();
        using var stop = new CancellationTokenSource();

        using var consumer = BuildConsumer(o);
        consumer.Assign(Partitions(o));
        var reader = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                ConsumeResult<Ignore, byte[]>? r;
                try
                {
                    r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    // A topic created a moment ago may be unknown to a silo's listener for a moment (its metadata view
                    // is refreshed, as a Kafka broker's is): the consumer asks again.
                    Console.Error.WriteLine($"latency: consume: {e.Error.Code}: {e.Error.Reason}; asking again");
                    continue;
                }

                if (r?.Message?.Value is not { } v)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                var sentAt = BinaryPrimitives.ReadInt64LittleEndian(v);
                if (sentAt == 0)
                {
                    probeSeen.Set();
                }
                else if (sentAt >= Volatile.Read(ref measuredFrom) && received < latencies.Length)
                {
                    sentAts[received] = sentAt;
                    latencies[received++] = now - sentAt;
                }
            }
        }) { IsBackground = true, Name = "consumer" };
        reader.Start();

        long errors = 0;
        string? firstError = null;
        void Handler(DeliveryReport<Null, byte[]> r)
        {
            if (r.Error.IsError)
            {
                firstError ??= $"{r.Error.Code}: {r.Error.Reason}";
                Interlocked.Increment(ref errors);
            }
        }

        using var producer = BuildProducer(o, out var stats);
        var value = new byte[size];
        var message = new Message<Null, byte[]> { Value = value };

        // A probe (send time 0) until the consumer sees one: both ends are connected and the consumer is at the end.
        var probing = Stopwatch.StartNew();
        while (!probeSeen.IsSet)
        {
            if (probing.Elapsed > TimeSpan.FromSeconds(60))
            {
                Console.Error.WriteLine($"latency: the consumer saw no probe record within 60 s; first error: {firstError}");
                return 1;
            }

            producer.Produce(topic, message, Handler);
            probeSeen.Wait(TimeSpan.FromMilliseconds(200));
        }

        // Fixed rate: every pass sends the records due by now, each stamped as it is handed to Produce; the warm-up's
        // records first, then the measured ones.
        long sent = 0;
        var total = warmUp + expected;
        var clockStart = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();
        var measureStart = TimeSpan.Zero;
        while (sent < total)
        {
            var due = Math.Min(total, (long)(clock.Elapsed.TotalSeconds * rate));
            if (sent >= due)
            {
                Thread.Sleep(1);
                continue;
            }

            while (sent < due)
            {
                if (sent == warmUp && measuredFrom == long.MaxValue)
                {
                    measureStart = clock.Elapsed;
                    clockStart = Stopwatch.GetTimestamp();
                    Volatile.Write(ref measuredFrom, clockStart);
                }

                BinaryPrimitives.WriteInt64LittleEndian(value, Stopwatch.GetTimestamp());
                try
                {
                    producer.Produce(topic, message, Handler);
                    sent++;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    Thread.Sleep(1);
                }
            }
        }

        var sendSeconds = (clock.Elapsed - measureStart).TotalSeconds;
        sent -= warmUp;
        producer.Flush(TimeSpan.FromSeconds(60));
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref received) < sent && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(20);
        }

        stop.Cancel();
        reader.Join();
        consumer.Close();
        var n = (int)Math.Min(received, latencies.Length);
        var slow = Slow(sentAts, latencies, n, clockStart, o.Double("--slow-ms", 100));
        Array.Sort(latencies, 0, n);
        double Ms(double q) => n == 0 ? double.NaN : latencies[Math.Min(n - 1, (int)(q * n))] * 1000.0 / Stopwatch.Frequency;
        Result($"mode=latency p50_ms={Ms(0.50):F2} p99_ms={Ms(0.99):F2} p999_ms={Ms(0.999):F2} max_ms={Ms(1.0):F2} rate={rate:F0} achieved_rate={sent / sendSeconds:F0} warmup_seconds={warmUpSeconds:F1} sent={sent} received={n} errors={errors} {slow}{stats?.Summary()}");
        if (errors > 0 || n < sent)
        {
            Console.Error.WriteLine($"latency: {errors} records failed, {n} of {sent} received; first error: {firstError}");
            return 1;
        }

        return 0;
    }

    /// <summary>Where the slow records were: how many took over <paramref name="slowMs"/> (<c>--slow-ms</c>, 100), and
    /// the 100 ms send windows holding the slowest (send time in seconds from the start of the run, and the worst latency
    /// in the window).</summary>
    private static string Slow(long[] sentAts, long[] latencies, int n, long start, double slowMs)
    {
        var threshold = (long)(Stopwatch.Frequency * slowMs / 1000);
        var window = Stopwatch.Frequency / 10;
        var windows = new Dictionary<long, long>();
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            if (latencies[i] > threshold)
            {
                count++;
                var w = (sentAts[i] - start) / window;
                windows[w] = Math.Max(windows.GetValueOrDefault(w), latencies[i]);
            }
        }

        var worst = windows.OrderByDescending(w => w.Value).Take(16).OrderBy(w => w.Key)
            .Select(w => $"{w.Key / 10.0:F1}s:{w.Value * 1000.0 / Stopwatch.Frequency:F0}ms");
        return FormattableString.Invariant($"over_{slowMs:F0}ms={count} slow_windows={string.Join(',', worst)}");
    }

    /// <summary>Adds each <c>--config key=value</c> (any librdkafka setting, e.g. security.protocol=SASL_SSL,
    /// sasl.mechanism, sasl.username, sasl.password, ssl.ca.location) to <paramref name="config"/>.</summary>
    private static T With<T>(this T config, Options o)
        where T : ClientConfig
    {
        foreach (var setting in o.All("--config"))
        {
            var kv = setting.Split('=', 2);
            if (kv.Length != 2 || kv[0].Length == 0)
            {
                throw new ArgumentException($"--config takes key=value (a librdkafka setting), not '{setting}'.");
            }

            config.Set(kv[0], kv[1]);
        }

        return config;
    }

    /// <summary>CPU time (user and system, every thread) this process has used, in seconds.</summary>
    private static double CpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>The result line, with this process's garbage collections (gen0, gen1, gen2) and its gen0 budget
    /// (DOTNET_GCgen0size, set by the benchmark; "default" when not).</summary>
    private static void Result(params string[] parts) => Console.Out.WriteLine(
        $"result {string.Join(' ', parts)} client_gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} client_gen0_budget={Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "default"}");

    private sealed class Options(string[] args)
    {
        public string Text(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        /// <summary>Every value of an option that may repeat.</summary>
        public IEnumerable<string> All(string name)
        {
            for (var i = 0; i + 1 < args.Length; i++)
            {
                if (args[i] == name)
                {
                    yield return args[i + 1];
                }
            }
        }

        public int Int(string name, int fallback) => int.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        public long Long(string name, long fallback) => long.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        public double Double(string name, double fallback) => double.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
    }
}
