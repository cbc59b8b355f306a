using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Spectre.Console;

namespace Actors.Cli;

/// <summary>
/// <c>actors producer-perf-test</c> and <c>actors consumer-perf-test</c>: kafka-producer-perf-test.sh and
/// kafka-consumer-perf-test.sh, with their flags and the shapes of their summary lines, so figures can be compared
/// with a Kafka cluster's line for line.
/// </summary>
internal static class PerfTestCommands
{
    /// <summary>Kafka's perf tools print a window line every five seconds.</summary>
    public const int ReportingIntervalMs = 5000;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command ProducerPerfTest(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var topic = new Option<string>("--topic") { Description = "The topic to produce to.", Required = true, HelpName = "topic" };
        var numRecords = new Option<long>("--num-records") { Description = "How many records to send.", Required = true, HelpName = "n" };
        var recordSize = new Option<int>("--record-size") { Description = "Bytes of each record's value.", Required = true, HelpName = "bytes" };
        var throughput = new Option<double>("--throughput")
        {
            Description = "Records per second to aim at; -1 sends as fast as the producer can (default -1).",
            DefaultValueFactory = _ => -1,
            HelpName = "records/s",
        };
        var producerProps = Commands.Repeated("--producer-props", "Producer settings, e.g. acks=all linger.ms=5 (several after one flag, or the flag repeated); bootstrap.servers here wins over --bootstrap-server.", "key=value");
        producerProps.AllowMultipleArgumentsPerToken = true;
        var producerConfig = new Option<string?>("--producer.config") { Description = "A properties file of producer settings (--producer-props wins).", HelpName = "file" };
        var command = new Command("producer-perf-test", "Send records as fast as asked and report throughput and latency percentiles (kafka-producer-perf-test.sh).")
        {
            bootstrap, topic, numRecords, recordSize, throughput, producerProps, producerConfig,
        };
        command.SetAction(async (parse, _) =>
        {
            var name = parse.GetValue(topic)!;
            var count = Positive(parse.GetValue(numRecords), "--num-records");
            var size = (int)Positive(parse.GetValue(recordSize), "--record-size");
            var settings = Properties.Merge(
                Properties.File(parse.GetValue(producerConfig), "--producer.config"),
                Properties.Parse(parse.GetValue(producerProps), "--producer-props"));
            var servers = settings.Remove("bootstrap.servers", out var fromProps) ? fromProps : parse.GetValue(bootstrap)!;
            var cluster = new Cluster(servers, settings, io);
            using (var admin = cluster.Admin())
            {
                Cluster.Topic(cluster.Metadata(admin), name);
            }

            using var producer = new ProducerBuilder<byte[]?, byte[]>(cluster.Configure(new ProducerConfig()))
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
            var stats = new ProducerStats(count, io.Out);
            var payload = Payload(size);
            var throttle = new Throttle(parse.GetValue(throughput));
            string? failure = null;
            var work = Task.Run(() =>
            {
                for (var i = 0L; i < count && failure is null && !io.Cancellation.IsCancellationRequested; i++)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var iteration = i;
                    void Delivered(DeliveryReport<byte[]?, byte[]> report)
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.CompareExchange(ref failure, report.Error.Code == ErrorCode.UnknownTopicOrPart
                                ? Errors.UnknownTopic(name)
                                : $"A record was not acknowledged: {report.Error.Reason} ({report.Error.Code}).", null);
                            return;
                        }

                        stats.Record(iteration, Stopwatch.GetElapsedTime(sent), payload.Length);
                    }

                    Send(producer, name, new Message<byte[]?, byte[]> { Value = payload }, Delivered);
                    throttle.Wait(i + 1);
                }

                producer.Flush(io.Cancellation);
            }, io.Cancellation);
            await Progress(io, work, "Producing", count, () => stats.Acknowledged, stats.PrintWindowIfDue);
            if (failure is not null)
            {
                throw new CliException(failure);
            }

            stats.PrintTotal();
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command ConsumerPerfTest(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var topic = new Option<string>("--topic") { Description = "The topic to consume from.", Required = true, HelpName = "topic" };
        var messages = new Option<long>("--messages") { Description = "How many records to consume.", Required = true, HelpName = "n" };
        var group = new Option<string?>("--group") { Description = "The consumer group (default perf-consumer-<random>).", HelpName = "group" };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Stop when no record arrives for this long, in milliseconds (default 10000).",
            DefaultValueFactory = _ => 10_000,
            HelpName = "ms",
        };
        var fromLatest = Commands.Flag("--from-latest", "Start at the end of the log when the group has no committed offset (default: the beginning).");
        var hideHeader = Commands.Flag("--hide-header", "Do not print the header line.");
        var consumerConfig = new Option<string?>("--consumer.config") { Description = "A properties file of consumer settings.", HelpName = "file" };
        var command = new Command("consumer-perf-test", "Consume records as fast as the cluster serves them and report throughput (kafka-consumer-perf-test.sh).")
        {
            bootstrap, topic, messages, group, timeout, fromLatest, hideHeader, consumerConfig,
        };
        command.SetAction(async (parse, _) =>
        {
            var name = parse.GetValue(topic)!;
            var wanted = Positive(parse.GetValue(messages), "--messages");
            var idle = TimeSpan.FromMilliseconds(Positive(parse.GetValue(timeout), "--timeout"));
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(consumerConfig), "--consumer.config"), io);
            using (var admin = cluster.Admin())
            {
                Cluster.Topic(cluster.Metadata(admin), name);
            }

            var config = cluster.Configure(new ConsumerConfig
            {
                GroupId = parse.GetValue(group) ?? $"perf-consumer-{Random.Shared.Next(100_000):D5}",
                AutoOffsetReset = parse.GetValue(fromLatest) ? AutoOffsetReset.Latest : AutoOffsetReset.Earliest,
            });
            var clock = Stopwatch.StartNew();
            var joinStarted = TimeSpan.Zero;
            var joinTime = TimeSpan.Zero;
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .SetPartitionsRevokedHandler((_, _) => joinStarted = clock.Elapsed)
                .SetPartitionsAssignedHandler((_, _) => joinTime += clock.Elapsed - joinStarted)
                .Build();
            var startTime = DateTime.Now;
            long read = 0, bytes = 0;
            var timedOut = false;
            var work = Task.Run(() =>
            {
                consumer.Subscribe(name);
                var last = clock.Elapsed;
                while (Interlocked.Read(ref read) < wanted && !io.Cancellation.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result?.Message is null)
                    {
                        if (clock.Elapsed - last > idle)
                        {
                            timedOut = true;
                            break;
                        }

                        continue;
                    }

                    last = clock.Elapsed;
                    Interlocked.Add(ref bytes, (result.Message.Key?.Length ?? 0) + (result.Message.Value?.Length ?? 0));
                    Interlocked.Increment(ref read);
                }
            }, io.Cancellation);
            await Progress(io, work, "Consuming", wanted, () => Interlocked.Read(ref read), () => { });
            var elapsed = clock.Elapsed;
            var endTime = DateTime.Now;
            consumer.Close();
            if (timedOut)
            {
                await io.Error.WriteLineAsync($"WARNING: Exiting before consuming the expected number of messages: timeout ({idle.TotalMilliseconds:0} ms) exceeded. You can use the --timeout option to increase the timeout.");
            }

            if (!parse.GetValue(hideHeader))
            {
                await io.Out.WriteLineAsync("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
            }

            var megabytes = bytes / (1024.0 * 1024.0);
            var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
            var fetchMs = Math.Max((elapsed - joinTime).TotalMilliseconds, 1);
            await io.Out.WriteLineAsync(string.Format(Invariant, "{0}, {1}, {2:F4}, {3:F4}, {4}, {5:F4}, {6:F0}, {7:F0}, {8:F4}, {9:F4}",
                startTime.ToString("yyyy-MM-dd HH:mm:ss:fff", Invariant), endTime.ToString("yyyy-MM-dd HH:mm:ss:fff", Invariant),
                megabytes, megabytes / seconds, read, read / seconds, joinTime.TotalMilliseconds, fetchMs, megabytes * 1000 / fetchMs, read * 1000 / fetchMs));
            return timedOut ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Runs <paramref name="work"/>; on a terminal, shows a live progress bar of <paramref name="done"/>
    /// out of <paramref name="total"/>; otherwise calls <paramref name="tick"/> (which prints Kafka's window lines)
    /// until the work ends.</summary>
    private static async Task Progress(CliIo io, Task work, string what, long total, Func<long> done, Action tick)
    {
        if (ReferenceEquals(io.Out, Console.Out) && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask(what, maxValue: total);
                    while (!work.IsCompleted)
                    {
                        bar.Value = done();
                        await Task.WhenAny(work, Task.Delay(200, CancellationToken.None));
                    }

                    bar.Value = done();
                });
        }
        else
        {
            while (!work.IsCompleted)
            {
                tick();
                await Task.WhenAny(work, Task.Delay(200, CancellationToken.None));
            }
        }

        await work;
    }

    private static void Send(IProducer<byte[]?, byte[]> producer, string topic, Message<byte[]?, byte[]> message, Action<DeliveryReport<byte[]?, byte[]>> delivered)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, delivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }

    /// <summary>A value of <paramref name="size"/> random capital letters, as Kafka's tool sends.</summary>
    private static byte[] Payload(int size)
    {
        var payload = new byte[size];
        for (var i = 0; i < size; i++)
        {
            payload[i] = (byte)('A' + Random.Shared.Next(26));
        }

        return payload;
    }

    private static long Positive(long value, string flag) =>
        value > 0 ? value : throw new CliException($"{flag} must be a positive number, not {value}.", ExitCodes.Usage);

    /// <summary>Holds the send rate to a target: after each record, sleeps while the records sent are ahead of the
    /// rate (in sleeps of at least 2 ms, so a high target is not dominated by timer resolution).</summary>
    private sealed class Throttle(double recordsPerSecond)
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();

        public void Wait(long sent)
        {
            if (recordsPerSecond <= 0)
            {
                return;
            }

            var ahead = TimeSpan.FromSeconds(sent / recordsPerSecond) - clock.Elapsed;
            if (ahead >= TimeSpan.FromMilliseconds(2))
            {
                Thread.Sleep(ahead);
            }
        }
    }

    /// <summary>Kafka's producer statistics: totals, a window printed every five seconds, and latencies sampled
    /// (at most 500,000 of them) for the percentiles.</summary>
    private sealed class ProducerStats
    {
        private const int MaxSamples = 500_000;
        private readonly object gate = new();
        private readonly long sampling;
        private readonly int[] latencies;
        private readonly TextWriter output;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private int samples;
        private long count, bytes, totalLatencyMs, maxLatencyMs;
        private long windowCount, windowBytes, windowLatencyMs, windowMaxLatencyMs;
        private TimeSpan windowStart;

        public ProducerStats(long records, TextWriter output)
        {
            sampling = Math.Max(1, records / Math.Min(records, MaxSamples));
            latencies = new int[(int)Math.Min(records, MaxSamples) + 1];
            this.output = output;
        }

        public long Acknowledged => Interlocked.Read(ref count);

        public void Record(long iteration, TimeSpan latency, int size)
        {
            var ms = (int)latency.TotalMilliseconds;
            lock (gate)
            {
                count++;
                bytes += size;
                totalLatencyMs += ms;
                maxLatencyMs = Math.Max(maxLatencyMs, ms);
                windowCount++;
                windowBytes += size;
                windowLatencyMs += ms;
                windowMaxLatencyMs = Math.Max(windowMaxLatencyMs, ms);
                if (iteration % sampling == 0 && samples < latencies.Length)
                {
                    latencies[samples++] = ms;
                }
            }
        }

        public void PrintWindowIfDue()
        {
            string line;
            lock (gate)
            {
                var now = clock.Elapsed;
                var elapsed = now - windowStart;
                if (elapsed.TotalMilliseconds < ReportingIntervalMs)
                {
                    return;
                }

                line = string.Format(Invariant, "{0} records sent, {1:F1} records/sec ({2:F2} MB/sec), {3:F1} ms avg latency, {4:F1} ms max latency.",
                    windowCount, windowCount / elapsed.TotalSeconds, windowBytes / elapsed.TotalSeconds / (1024 * 1024),
                    windowCount == 0 ? 0 : (double)windowLatencyMs / windowCount, (double)windowMaxLatencyMs);
                windowStart = now;
                windowCount = windowBytes = windowLatencyMs = windowMaxLatencyMs = 0;
            }

            output.WriteLine(line);
        }

        public void PrintTotal()
        {
            lock (gate)
            {
                var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                var sorted = latencies[..samples];
                Array.Sort(sorted);
                int Percentile(double p) => sorted.Length == 0 ? 0 : sorted[(int)(p * sorted.Length)];
                output.WriteLine(string.Format(Invariant,
                    "{0} records sent, {1:F6} records/sec ({2:F2} MB/sec), {3:F2} ms avg latency, {4:F2} ms max latency, {5} ms 50th, {6} ms 95th, {7} ms 99th, {8} ms 99.9th.",
                    count, count / seconds, bytes / seconds / (1024 * 1024), count == 0 ? 0 : (double)totalLatencyMs / count, (double)maxLatencyMs,
                    Percentile(0.5), Percentile(0.95), Percentile(0.99), Percentile(0.999)));
            }
        }
    }
}
