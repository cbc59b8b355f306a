using System.Diagnostics;
using System.Globalization;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Chaos.Tests;

/// <summary>
/// Faults over three real silo processes (SQLite membership on one machine) while two idempotent acks=all Confluent
/// producers write to an RF 3, min.insync.replicas 2 topic of 6 partitions, every send, acknowledgement, poll and
/// commit written to a history file; then a full read-back and the history checker. The faults come from a printed
/// seed (CHAOS_SEED to replay one, CHAOS_FAULTS for how many): SIGKILL of a random silo and its restart, or SIGSTOP
/// for longer than failure detection and SIGCONT. Not proven stable yet, so out of the default test command.
/// </summary>
[Trait("Category", "Soak")]
public sealed class ChaosWorkloadTests(ITestOutputHelper output)
{
    private const string Topic = "chaos";
    private const int Partitions = 6;

    /// <summary>Longer than the silos' failure detection (probe timeout 1 s, 3 missed probes).</summary>
    private static readonly TimeSpan FreezeFor = TimeSpan.FromSeconds(8);

    private static readonly TimeSpan HealthyWithin = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Acknowledged_records_survive_SIGKILL_and_SIGSTOP_of_random_silos_with_no_loss_duplicate_or_reorder()
    {
        var seed = Environment.GetEnvironmentVariable("CHAOS_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
        var faults = Environment.GetEnvironmentVariable("CHAOS_FAULTS") is { Length: > 0 } f ? int.Parse(f, CultureInfo.InvariantCulture) : 5;
        output.WriteLine($"chaos seed={seed} faults={faults}");
        var random = new Random(seed);
        var historyPath = Path.Combine(Path.GetTempPath(), $"chaos-{seed}-{Guid.NewGuid():N}.jsonl");
        output.WriteLine($"history {historyPath}");

        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        using var recorder = new HistoryRecorder(historyPath);
        await CreateTopicAsync(cluster);
        await UntilHealthyAsync(cluster, "the topic's ISRs to fill after creation");

        using var stop = new CancellationTokenSource();
        var producers = new[]
        {
            Task.Run(() => ProduceAsync(cluster, recorder, "p1", new Random(random.Next()), stop.Token)),
            Task.Run(() => ProduceAsync(cluster, recorder, "p2", new Random(random.Next()), stop.Token)),
        };

        await UntilAsync("the first acknowledgements", TimeSpan.FromSeconds(60), cluster.Tails,
            () => Task.FromResult((recorder.Events.Count(e => e.Kind == HistoryKind.Ack) >= 50, $"{recorder.Events.Count(e => e.Kind == HistoryKind.Ack)} acks")));

        for (var i = 1; i <= faults; i++)
        {
            var victim = cluster.Silos[random.Next(cluster.Silos.Count)];
            var starts = victim.Logged($"Silo {victim.Name} started at").Length;
            if (random.Next(2) == 0)
            {
                output.WriteLine($"fault {i}: SIGKILL {victim.Name} (pid {victim.Pid}), then restart");
                victim.Kill();
            }
            else
            {
                output.WriteLine($"fault {i}: SIGSTOP {victim.Name} (pid {victim.Pid}) for {FreezeFor.TotalSeconds:0} s, then SIGCONT");
                victim.Freeze();

                // The fault's length, not a wait for a condition: the silo must stay stopped past failure detection.
                await Task.Delay(FreezeFor);
                victim.Thaw();
            }

            var restart = victim.Running is false;
            await UntilAsync($"{victim.Name} to be Active again and every partition's ISR to hold all three silos after fault {i}", HealthyWithin, cluster.Tails, async () =>
            {
                if (!victim.Running)
                {
                    // Declared dead while stopped, it exits when it wakes; bring it back as a new incarnation.
                    output.WriteLine($"fault {i}: {victim.Name} exited after waking; restart");
                    victim.Start();
                    restart = true;
                }

                var now = victim.Logged($"Silo {victim.Name} started at").Length;
                if (restart && now <= starts)
                {
                    return (false, $"{victim.Name} restarted, not yet Active");
                }

                return await HealthAsync(cluster);
            });
        }

        await stop.CancelAsync();
        await Task.WhenAll(producers);
        await UntilHealthyAsync(cluster, "every partition's ISR to hold all three silos before the read-back");
        await ReadBackAsync(cluster, recorder);

        var result = HistoryChecker.Check(recorder.Events);
        output.WriteLine(
            $"chaos faults={faults} acked={result.Acked} lost={result.Count(DamageKind.Lost)} duplicated={result.Count(DamageKind.Duplicated)} " +
            $"reordered={result.Count(DamageKind.Reordered)} seed={seed}");
        output.WriteLine($"sends={recorder.Events.Count(e => e.Kind == HistoryKind.Send)} failed={recorder.Events.Count(e => e.Kind == HistoryKind.Fail)} " +
            $"polls={recorder.Events.Count(e => e.Kind == HistoryKind.Poll)} other damage={result.Damages.Count - result.Count(DamageKind.Lost) - result.Count(DamageKind.Duplicated) - result.Count(DamageKind.Reordered)}");
        Assert.True(result.Damages.Count == 0, $"seed {seed}, history {historyPath}: {result}");
        Assert.True(result.Acked > 0, $"seed {seed}: no record was acknowledged");
        File.Delete(historyPath);
    }

    private static string Bootstrap(ProcessCluster cluster) =>
        string.Join(',', cluster.Silos.Where(s => s.Running).Select(s => $"127.0.0.1:{s.KafkaPort}"));

    private async Task ProduceAsync(ProcessCluster cluster, HistoryRecorder recorder, string id, Random random, CancellationToken stop)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = Bootstrap(cluster),
            EnableIdempotence = true,
            Acks = Acks.All,
            MessageTimeoutMs = 180_000,
            LingerMs = 5,
        };
        var incarnation = 1;
        var fatal = 0;
        IProducer<string, string> Build() => new ProducerBuilder<string, string>(config)
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal)
                {
                    output.WriteLine($"{id}: fatal producer error {e.Code}: {e.Reason}");
                    Volatile.Write(ref fatal, 1);
                }
            })
            .Build();
        var producer = Build();
        var sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            if (Volatile.Read(ref fatal) != 0)
            {
                // A fatal error (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER) ends an idempotent producer; the workload goes on
                // with a new one (a new producer id), recorded under a new name so its order is checked on its own.
                producer.Flush(TimeSpan.FromSeconds(30));
                producer.Dispose();
                producer = Build();
                incarnation++;
                Volatile.Write(ref fatal, 0);
            }

            var name = incarnation == 1 ? id : $"{id}.{incarnation}";
            var partition = random.Next(Partitions);
            var key = $"k{random.Next(1000)}";
            var value = $"{name}-{sequence++}";
            recorder.Send(name, partition, key, value);
            try
            {
                producer.Produce(new TopicPartition(Topic, partition), new Message<string, string> { Key = key, Value = value }, report =>
                {
                    if (report.Error.IsError)
                    {
                        recorder.Fail(name, partition, key, value, report.Error.Code.ToString());
                        if (report.Error.IsFatal)
                        {
                            Volatile.Write(ref fatal, 1);
                        }
                    }
                    else
                    {
                        recorder.Ack(name, report.Partition.Value, report.Offset.Value, key, value);
                    }
                });
            }
            catch (ProduceException<string, string> e)
            {
                recorder.Fail(name, partition, key, value, e.Error.Code.ToString());
                if (e.Error.IsFatal)
                {
                    Volatile.Write(ref fatal, 1);
                }
            }

            // Pacing of the workload (about 200 records a second per producer), not a wait for a condition.
            await Task.Delay(5, CancellationToken.None);
        }

        output.WriteLine($"{id}: {incarnation} producer incarnation(s)");
        using var last = producer;
        var left = producer.Flush(TimeSpan.FromSeconds(200));
        Assert.True(left == 0, $"{id}: {left} records still unanswered 200 s after the last send");
    }

    private async Task ReadBackAsync(ProcessCluster cluster, HistoryRecorder recorder)
    {
        const string consumer = "reader";
        var config = new ConsumerConfig
        {
            BootstrapServers = Bootstrap(cluster),
            GroupId = "chaos-reader",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var reader = new ConsumerBuilder<string, string>(config).Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
        var highWatermarks = new Dictionary<int, long>();
        foreach (var tp in partitions)
        {
            highWatermarks[tp.Partition.Value] = await UntilAsync($"the high watermark of {tp}", TimeSpan.FromSeconds(60), cluster.Tails, () =>
            {
                var w = reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5));
                return Task.FromResult((true, w.High.Value, $"{w.Low}..{w.High}"));
            });
        }

        output.WriteLine($"high watermarks: {string.Join(", ", highWatermarks.OrderBy(h => h.Key).Select(h => $"p{h.Key}={h.Value}"))}");
        reader.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var next = partitions.ToDictionary(tp => tp.Partition.Value, _ => 0L);
        var clock = Stopwatch.StartNew();
        while (next.Any(n => n.Value < highWatermarks[n.Key]))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                Assert.Fail($"Timed out reading back to the high watermarks; read up to {string.Join(", ", next.Select(n => $"p{n.Key}={n.Value}/{highWatermarks[n.Key]}"))}{Environment.NewLine}{cluster.Tails()}");
            }

            ConsumeResult<string, string>? r;
            try
            {
                r = reader.Consume(TimeSpan.FromSeconds(1));
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                output.WriteLine($"read-back: {e.Error.Code} {e.Error.Reason}");
                continue;
            }

            if (r is null || r.IsPartitionEOF)
            {
                continue;
            }

            recorder.Poll(consumer, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value);
            next[r.Partition.Value] = r.Offset.Value + 1;
        }

        foreach (var (partition, offset) in next.Select(n => (n.Key, n.Value)))
        {
            reader.Commit([new TopicPartitionOffset(Topic, partition, offset)]);
            recorder.Commit(consumer, partition, offset);
        }
    }

    private static async Task CreateTopicAsync(ProcessCluster cluster) =>
        await UntilAsync("topic creation with replication factor 3 (all three silos Active)", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            try
            {
                await cluster.Controller.CreateTopicAsync(new CreateTopicRequest
                {
                    Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
                });
            }
            catch (BrokerException e) when (e.Code == ErrorCode.TopicAlreadyExists)
            {
                // An earlier attempt went through but its answer was lost.
            }

            return (true, "created");
        });

    private static Task UntilHealthyAsync(ProcessCluster cluster, string what) => UntilAsync(what, HealthyWithin, cluster.Tails, () => HealthAsync(cluster));

    /// <summary>Whether every partition has a leader and all three replicas in its ISR, as the controller sees it.</summary>
    private static async Task<(bool Done, string Seen)> HealthAsync(ProcessCluster cluster)
    {
        var seen = new List<string>();
        var healthy = true;
        for (var p = 0; p < Partitions; p++)
        {
            var state = await cluster.Controller.GetPartitionStateAsync(new Actors.Broker.TopicPartition(Topic, p));
            healthy &= state.Leader is not null && state.Isr.Length == 3;
            seen.Add($"p{p} leader {state.Leader ?? "none"} isr {state.Isr.Length}");
        }

        return (healthy, string.Join("; ", seen));
    }

    private static Task UntilAsync(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, string Seen)>> attempt) =>
        UntilAsync<bool>(what, timeout, tails, async () =>
        {
            var (done, seen) = await attempt();
            return (done, done, seen);
        });

    /// <summary>Polls <paramref name="attempt"/> until it is done or <paramref name="timeout"/> passes (a transient
    /// failure or a call slower than 3 s counts as "not yet"); the failure names what was awaited and what was seen last.</summary>
    private static async Task<T> UntilAsync<T>(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, T Value, string Seen)>> attempt)
    {
        var clock = Stopwatch.StartNew();
        var seen = "nothing yet";
        while (true)
        {
            try
            {
                var (done, value, last) = await attempt().WaitAsync(TimeSpan.FromSeconds(3));
                if (done)
                {
                    return value;
                }

                seen = last;
            }
            catch (Exception e) when (Transient.Is(e) || e is KafkaException)
            {
                seen = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; last seen: {seen}{Environment.NewLine}{tails()}");
            }

            await Task.Delay(100);
        }
    }
}
