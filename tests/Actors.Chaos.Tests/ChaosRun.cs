using System.Diagnostics;
using System.Globalization;
using Actors.Broker;
using Actors.Silo;
using Actors.Testing;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Confluent.Kafka;
using static Actors.Chaos.Tests.ChaosSupport;
using KafkaTopicPartition = Confluent.Kafka.TopicPartition;
using KafkaTopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Chaos.Tests;

/// <summary>The faults a chaos run injects.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL of a silo, restarted at once (recovery of its logs, truncation, ISR rejoin).</summary>
    Kill,

    /// <summary>SIGSTOP of a partition leader's silo past the ISR shrink and short of the earliest suspicion by failure
    /// detection (<see cref="ChaosTiming.Pause"/>), then SIGCONT: the ISRs shrink without it and it must catch up and
    /// rejoin (should a loaded machine get it declared dead all the same, it exits on waking and is restarted).</summary>
    Pause,

    /// <summary>SIGSTOP of a partition leader's silo past failure detection, then SIGCONT: declared dead, its partitions
    /// move; it wakes as a zombie, learns it is dead and exits, and is restarted.</summary>
    Freeze,

    /// <summary>A network partition: a partition leader's silo cut off from the other two (its Kafka clients still reach
    /// it) for as long as a <see cref="Freeze"/>, so the others declare it dead and elect new leaders while it runs on;
    /// then the cut heals, and the silo (which exits once it learns it was declared dead) is restarted. Needs silo
    /// networks (<see cref="SiloNetwork"/>): each silo in its own network namespace.</summary>
    Partition,
}

/// <summary>How a chaos run goes. The faults and their victims come from <see cref="Seed"/>.</summary>
internal sealed record ChaosOptions
{
    public required int Seed { get; init; }

    public required int Faults { get; init; }

    /// <summary>Relative weights of the fault kinds (a kind of weight 0 is never chosen).</summary>
    public IReadOnlyDictionary<FaultKind, int> Weights { get; init; } = new Dictionary<FaultKind, int>
    {
        [FaultKind.Kill] = 4, [FaultKind.Pause] = 4, [FaultKind.Freeze] = 2,
    };

    /// <summary>How long a <see cref="FaultKind.Pause"/> lasts; by default <see cref="ChaosTiming.Pause"/>, from the
    /// silos' failure-detection settings.</summary>
    public TimeSpan? Pause { get; init; }

    /// <summary>How long a <see cref="FaultKind.Freeze"/> lasts; by default <see cref="ChaosTiming.Freeze"/>.</summary>
    public TimeSpan? Freeze { get; init; }

    /// <summary>How long the cluster may take to be whole again (every ISR full) after a fault.</summary>
    public TimeSpan HealthyWithin { get; init; } = TimeSpan.FromSeconds(120);

    public int Partitions { get; init; } = 6;

    public int Producers { get; init; } = 2;
}

/// <summary>
/// The lengths of the SIGSTOP faults, derived from the failure detection the silos run with: Orleans' cluster
/// membership options as the silo sets them (<see cref="FailureDetection"/>, then "Actors:Membership" over it, here
/// from the cluster's environment) and the chaos cluster's replica.lag.time.max.ms.
/// </summary>
/// <remarks>
/// Orleans adapts each probe's timeout, and the period between probes, to the response times it observes, between
/// <see cref="ClusterMembershipOptions.MinProbeTimeout"/> and <see cref="ClusterMembershipOptions.MaxProbeTimeout"/>;
/// on an idle loopback cluster it sits at the minimum. A stopped silo misses one probe per period and is suspected at
/// the NumMissedProbesLimit-th miss: no sooner than MinProbeTimeout × NumMissedProbesLimit after the stop (the last
/// probes go through another silo with a longer timeout, so usually later). The silo sets ProbeTimeout 1 s, which
/// leaves Orleans' default minimum of half of it: a silo stopped for 1.5 s can be suspected, sooner than the ISR
/// shrink. The chaos cluster therefore raises MinProbeTimeout to ProbeTimeout (<see cref="Environment"/>), as the
/// silo's own description of its failure detection intends ("suspected only after about 3 s of not answering").
/// A pause ends halfway between the ISR shrink (the lag time plus the leader's ISR check period, a quarter of it) and
/// that earliest suspicion; a freeze lasts a second past the latest declaration of death at the usual probe timeout
/// (twice the minimum for the indirect probes, one probe per missed-probe count and one more, then a table refresh).
/// </remarks>
internal static class ChaosTiming
{
    /// <summary>replica.lag.time.max.ms of the chaos cluster: short enough that a pause shrinks ISRs well before
    /// failure detection can suspect the stopped silo.</summary>
    public const int ReplicaLagTimeMaxMs = 1000;

    /// <summary>The chaos cluster's membership settings, given to the silos through their environment.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["Actors__Membership__MinProbeTimeout"] = "00:00:01",
    };

    /// <summary>The membership options the silos of a cluster with <paramref name="environment"/> run with.</summary>
    public static ClusterMembershipOptions Membership(IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var options = new ClusterMembershipOptions();
        FailureDetection.Apply(options);
        var settings = environment
            .Where(e => e.Key.StartsWith("Actors__Membership__", StringComparison.OrdinalIgnoreCase))
            .Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value));
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Actors:Membership").Bind(options);
        return options;
    }

    /// <summary>The soonest a stopped silo can be suspected by a prober.</summary>
    public static TimeSpan EarliestSuspicion(ClusterMembershipOptions m) => m.MinProbeTimeout * m.NumMissedProbesLimit;

    /// <summary>When a stopped silo is declared dead at the usual probe timeouts.</summary>
    public static TimeSpan LatestDeath(ClusterMembershipOptions m) => (m.MinProbeTimeout * 2 * (m.NumMissedProbesLimit + 1)) + m.TableRefreshTimeout;

    /// <summary>When the leaders have shrunk the ISRs without a stopped follower.</summary>
    public static TimeSpan IsrShrunk => TimeSpan.FromMilliseconds(ReplicaLagTimeMaxMs * 1.25);

    /// <summary>Longer than the ISR shrink, shorter than the earliest suspicion.</summary>
    /// <exception cref="ArgumentException">The settings leave no room between the two.</exception>
    public static TimeSpan Pause(ClusterMembershipOptions m)
    {
        var suspicion = EarliestSuspicion(m);
        if (suspicion - IsrShrunk < TimeSpan.FromMilliseconds(500))
        {
            throw new ArgumentException(
                $"Failure detection (MinProbeTimeout {m.MinProbeTimeout.TotalMilliseconds:0} ms × NumMissedProbesLimit {m.NumMissedProbesLimit}: a stopped silo may be suspected after {suspicion.TotalMilliseconds:0} ms) " +
                $"leaves no room for a pause past the ISR shrink at {IsrShrunk.TotalMilliseconds:0} ms (replica.lag.time.max.ms {ReplicaLagTimeMaxMs}); raise Actors:Membership:MinProbeTimeout or NumMissedProbesLimit in ChaosTiming.Environment, or lower ChaosTiming.ReplicaLagTimeMaxMs.");
        }

        return (IsrShrunk + suspicion) / 2;
    }

    /// <summary>A second past the usual declaration of death.</summary>
    public static TimeSpan Freeze(ClusterMembershipOptions m) => LatestDeath(m) + TimeSpan.FromSeconds(1);
}

/// <summary>What a chaos run found.</summary>
internal sealed record ChaosReport(ChaosOptions Options, IReadOnlyList<string> FaultLog, CheckResult Result, IReadOnlyList<HistoryEvent> History,
    string HistoryPath, IReadOnlyList<string> FatalErrors, TimeSpan Elapsed)
{
    public int Count(string kind) => History.Count(e => e.Kind == kind);

    /// <summary>Whether records were acknowledged, the checker found no damage and no idempotent producer met a fatal
    /// error (OUT_OF_ORDER_SEQUENCE_NUMBER after a fault was one, until the leader learnt to wait for a producer's
    /// batches that a later one overtook on the way).</summary>
    public bool Clean => Result.Damages.Count == 0 && Result.Acked > 0 && FatalErrors.Count == 0;

    /// <summary>The one-line summary: <c>chaos faults=… seed=… acknowledged=… lost=… duplicates=… …</c>.</summary>
    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"chaos faults={FaultLog.Count} seed={Options.Seed} acknowledged={Result.Acked} lost={Result.Count(DamageKind.Lost)} " +
        $"duplicates={Result.Count(DamageKind.Duplicated)} reordered={Result.Count(DamageKind.Reordered)} divergent={Result.Count(DamageKind.Divergent)} " +
        $"non-monotonic-polls={Result.Count(DamageKind.NonMonotonicPoll)} commit-regressions={Result.Count(DamageKind.CommitRegression)} " +
        $"commits-above-hw={Result.Count(DamageKind.CommitAboveHighWatermark)} epoch-regressions={Result.Count(DamageKind.EpochRegression)} " +
        $"fatal-producer-errors={FatalErrors.Count} sent={Count(HistoryKind.Send)} failed={Count(HistoryKind.Fail)} polled={Count(HistoryKind.Poll)} " +
        $"commits={Count(HistoryKind.Commit)} elapsed={Elapsed.TotalSeconds:0}s");
}

/// <summary>
/// A chaos run over three real silo processes (SQLite membership on one machine): idempotent acks=all Confluent
/// producers write to an RF 3, min.insync.replicas 2 topic while a consumer group reads and commits; every send,
/// acknowledgement, poll, commit, committed offset reported and controller state seen goes to a history file. Faults
/// come one after another from the seed, each followed by a wait until every ISR is full again; then the producers and
/// the consumer stop, a reader reads every partition from the beginning to its high watermark and
/// <see cref="HistoryChecker"/> judges the history. Used by the short run of the default tests and by the
/// <c>chaos &lt;n&gt;</c> benchmark.
/// </summary>
internal static class ChaosRun
{
    private const string Topic = "chaos";
    private const string Group = "chaos-group";

    public static async Task<ChaosReport> RunAsync(ChaosOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var historyPath = Path.Combine(Path.GetTempPath(), $"chaos-{options.Seed}-{Guid.NewGuid():N}.jsonl");
        log($"chaos seed={options.Seed} faults={options.Faults} history {historyPath} (replay with CHAOS_SEED={options.Seed})");
        var faultLog = new List<string>();
        var fatal = new List<string>();

        var environment = new Dictionary<string, string>(ChaosTiming.Environment) { ["Logging__LogLevel__Actors.Broker"] = "Information" };
        var membership = ChaosTiming.Membership(environment);
        options = options with { Pause = options.Pause ?? ChaosTiming.Pause(membership), Freeze = options.Freeze ?? ChaosTiming.Freeze(membership) };
        log($"failure detection: probe timeout {membership.ProbeTimeout.TotalMilliseconds:0} ms (at least {membership.MinProbeTimeout.TotalMilliseconds:0} ms), {membership.NumMissedProbesLimit} missed probes, " +
            $"{membership.NumVotesForDeathDeclaration} votes; replica.lag.time.max.ms {ChaosTiming.ReplicaLagTimeMaxMs}; " +
            $"pause {options.Pause!.Value.TotalSeconds:0.0#} s, freeze {options.Freeze!.Value.TotalSeconds:0.0#} s");
        // Partition faults need each silo in a network of its own; the other kinds run the silos on loopback.
        await using var network = options.Weights.GetValueOrDefault(FaultKind.Partition) > 0
            ? await SiloNetwork.CreateAsync(3)
            : null;
        await using var cluster = await ProcessCluster.StartAsync(3, log, environment: environment,
            args: [$"--replica.lag.time.max.ms={ChaosTiming.ReplicaLagTimeMaxMs}"], network: network);
        try
        {
            var report = await RunAsync(cluster, network, options, random, historyPath, faultLog, fatal, clock, log);
            if (!report.Clean || report.FatalErrors.Count > 0)
            {
                await KeepLogsAsync(cluster, historyPath, log);
            }

            return report;
        }
        catch
        {
            await KeepLogsAsync(cluster, historyPath, log);
            throw;
        }
    }

    /// <summary>Writes every line each silo wrote (all incarnations) beside the history, for the diagnosis of a failure.</summary>
    private static async Task KeepLogsAsync(ProcessCluster cluster, string historyPath, Action<string> log)
    {
        foreach (var silo in cluster.Silos)
        {
            var path = Path.ChangeExtension(historyPath, $"{silo.Name}.log");
            await File.WriteAllLinesAsync(path, silo.Logged(string.Empty));
            log($"{silo.Name}'s output: {path}");
        }
    }

    private static async Task<ChaosReport> RunAsync(ProcessCluster cluster, SiloNetwork? network, ChaosOptions options, Random random, string historyPath, List<string> faultLog,
        List<string> fatal, Stopwatch clock, Action<string> log)
    {
        using var recorder = new HistoryRecorder(historyPath);
        await CreateTopicAsync(cluster, Topic, options.Partitions);
        await UntilAsync("every ISR to hold all three silos after the topic's creation", options.HealthyWithin, cluster.Tails,
            () => HealthAsync(cluster, Topic, options.Partitions, recorder));

        using var stop = new CancellationTokenSource();
        var workers = new List<Task>();
        for (var i = 1; i <= options.Producers; i++)
        {
            var id = $"p{i}";
            var seed = random.Next();
            workers.Add(Task.Run(() => ProduceAsync(cluster, recorder, options.Partitions, id, new Random(seed), fatal, log, stop.Token)));
        }

        workers.Add(Task.Factory.StartNew(() => Consume(cluster, recorder, log, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

        await UntilAsync("the first acknowledgements and polls", TimeSpan.FromSeconds(90), cluster.Tails, () =>
        {
            var events = recorder.Events;
            var acks = events.Count(e => e.Kind == HistoryKind.Ack);
            var polls = events.Count(e => e.Kind == HistoryKind.Poll);
            return Task.FromResult((acks >= 50 && polls > 0, $"{acks} acks, {polls} polls"));
        });

        var kinds = options.Weights.Where(w => w.Value > 0).SelectMany(w => Enumerable.Repeat(w.Key, w.Value)).Order().ToArray();
        for (var i = 1; i <= options.Faults; i++)
        {
            var kind = kinds[random.Next(kinds.Length)];
            var states = await UntilAsync<PartitionState[]>("the partitions' states before a fault", TimeSpan.FromSeconds(60), cluster.Tails,
                async () => (true, await StatesAsync(cluster, Topic, options.Partitions), ""));
            var partition = random.Next(options.Partitions);
            var victim = kind == FaultKind.Kill && random.Next(3) == 0
                ? cluster.Silos[random.Next(cluster.Silos.Count)]
                : cluster.Silo(states[partition].Leader!);
            var starts = victim.Logged($"Silo {victim.Name} started at").Length;
            var line = kind switch
            {
                FaultKind.Kill => $"fault {i}: SIGKILL {victim.Name} (pid {victim.Pid}) and restart",
                FaultKind.Pause => $"fault {i}: SIGSTOP {victim.Name} (pid {victim.Pid}, leader of p{partition}) for {options.Pause!.Value.TotalSeconds:0.0#} s, then SIGCONT",
                FaultKind.Partition => $"fault {i}: cut {victim.Name} ({victim.Host}, leader of p{partition}) off from the other silos for {options.Freeze!.Value.TotalSeconds:0.0#} s, then heal",
                _ => $"fault {i}: SIGSTOP {victim.Name} (pid {victim.Pid}, leader of p{partition}) for {options.Freeze!.Value.TotalSeconds:0.0#} s (past failure detection), then SIGCONT",
            };
            faultLog.Add(line);
            log($"{line} [{clock.Elapsed.TotalSeconds:0} s]");
            int? restartedSince = null;
            if (kind == FaultKind.Kill)
            {
                victim.Kill();
                victim.Restart();
                restartedSince = starts;
            }
            else if (kind == FaultKind.Partition)
            {
                var net = network ?? throw new InvalidOperationException("a partition fault needs the silos in their own networks");
                await net.IsolateAsync(cluster.Silos.IndexOf(victim) + 1);

                // The fault's length, not a wait for a condition: the cut must last that long.
                await Task.Delay(options.Freeze!.Value);
                await net.HealAsync();
            }
            else
            {
                victim.Freeze();

                // The fault's length, not a wait for a condition: the silo must stay stopped that long.
                await Task.Delay(kind == FaultKind.Pause ? options.Pause!.Value : options.Freeze!.Value);
                victim.Thaw();
            }

            await UntilBackInIsrAsync(cluster, victim, Topic, options.Partitions, log, options.HealthyWithin,
                fault: line, samePorts: true, restartedSince: restartedSince, recorder: recorder);
        }

        log($"faults done [{clock.Elapsed.TotalSeconds:0} s]; stopping the workload");
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await UntilAsync("every partition's ISR to hold all three silos before the read-back", options.HealthyWithin, cluster.Tails,
            () => HealthAsync(cluster, Topic, options.Partitions, recorder));
        await ReadBackAsync(cluster, recorder, options.Partitions, log);

        var history = recorder.Events;
        var result = HistoryChecker.Check(history);
        return new ChaosReport(options, faultLog, result, history, historyPath, fatal, clock.Elapsed);
    }

    private static async Task ProduceAsync(ProcessCluster cluster, HistoryRecorder recorder, int partitions, string id, Random random, List<string> fatalErrors,
        Action<string> log, CancellationToken stop)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = Bootstrap(cluster),
            EnableIdempotence = true,
            Acks = Acks.All,
            MessageTimeoutMs = 180_000,
            LingerMs = 5,
        };
        if (Environment.GetEnvironmentVariable("CHAOS_PRODUCER_DEBUG") is { Length: > 0 } debug)
        {
            config.Debug = debug;
        }

        var incarnation = 1;
        var fatal = 0;
        IProducer<string, string> Build() => new ProducerBuilder<string, string>(config)
            .SetLogHandler((_, m) => log($"{id}: librdkafka {m.Level} {m.Facility}: {m.Message}"))
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal)
                {
                    log($"{id}: fatal producer error {e.Code}: {e.Reason}");
                    lock (fatalErrors)
                    {
                        fatalErrors.Add($"{id}: {e.Code}: {e.Reason}");
                    }

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
                // A fatal error ends an idempotent producer (it is counted as damage); the workload goes on with a new
                // one (a new producer id), recorded under a new name so its order is checked on its own.
                producer.Flush(TimeSpan.FromSeconds(30));
                producer.Dispose();
                producer = Build();
                incarnation++;
                Volatile.Write(ref fatal, 0);
            }

            var name = incarnation == 1 ? id : $"{id}.{incarnation}";
            var partition = random.Next(partitions);
            var key = $"k{random.Next(1000)}";
            var value = $"{name}-{sequence++}";
            recorder.Send(name, partition, key, value);
            try
            {
                producer.Produce(new KafkaTopicPartition(Topic, partition), new Message<string, string> { Key = key, Value = value }, report =>
                {
                    if (report.Error.IsError)
                    {
                        recorder.Fail(name, partition, key, value, report.Error.Code.ToString());
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
            }

            // Pacing of the workload (about 200 records a second per producer), not a wait for a condition.
            await Task.Delay(5, CancellationToken.None);
        }

        using var last = producer;
        var left = producer.Flush(TimeSpan.FromSeconds(200));
        if (left != 0)
        {
            throw new TimeoutException($"{id}: {left} records still unanswered 200 s after the last send");
        }
    }

    /// <summary>One member of <see cref="Group"/>, subscribed to the topic: it records every poll, commits what it read
    /// about once a second (recording each commit the coordinator accepted) and asks for the group's committed offsets
    /// every few seconds. Each assignment is a new generation with its own consumer name, since a consumer resumes from
    /// the committed offset and may read again what it read before the rebalance.</summary>
    private static void Consume(ProcessCluster cluster, HistoryRecorder recorder, Action<string> log, CancellationToken stop)
    {
        var generation = 0;
        var next = new Dictionary<int, long>();
        var assigned = new List<KafkaTopicPartition>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap(cluster),
            GroupId = Group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 30_000,
        })
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                generation++;
                assigned = [.. partitions];
                next.Clear();
            })
            .SetPartitionsRevokedHandler((_, _) =>
            {
                assigned = [];
                next.Clear();
            })
            .SetPartitionsLostHandler((_, _) =>
            {
                assigned = [];
                next.Clear();
            })
            .Build();
        consumer.Subscribe(Topic);
        var sinceCommit = Stopwatch.StartNew();
        var sinceCommitted = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is { IsPartitionEOF: false, Message: not null })
                {
                    recorder.Poll($"c1.g{generation}", r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value);
                    next[r.Partition.Value] = r.Offset.Value + 1;
                }
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                log($"consumer: {e.Error.Code} {e.Error.Reason}");
            }

            if (next.Count > 0 && sinceCommit.Elapsed >= TimeSpan.FromSeconds(1))
            {
                sinceCommit.Restart();
                var offsets = next.Select(n => new KafkaTopicPartitionOffset(Topic, n.Key, n.Value)).ToList();
                try
                {
                    consumer.Commit(offsets);
                    foreach (var o in offsets)
                    {
                        recorder.Commit(Group, o.Partition.Value, o.Offset.Value);
                    }
                }
                catch (KafkaException e)
                {
                    // Not accepted (a rebalance, the coordinator moving): not recorded; the next commit carries it.
                    log($"consumer: commit failed: {e.Error.Code} {e.Error.Reason}");
                }

                next.Clear();
            }

            if (assigned.Count > 0 && sinceCommitted.Elapsed >= TimeSpan.FromSeconds(3))
            {
                sinceCommitted.Restart();
                try
                {
                    foreach (var c in consumer.Committed(assigned, TimeSpan.FromSeconds(10)).Where(c => c.Offset.Value >= 0))
                    {
                        recorder.Committed(Group, c.Partition.Value, c.Offset.Value);
                    }
                }
                catch (KafkaException e)
                {
                    log($"consumer: committed offsets not available: {e.Error.Code} {e.Error.Reason}");
                }
            }
        }

        consumer.Close();
    }

    /// <summary>Reads every partition from the beginning to its high watermark with a group-less assignment, then
    /// commits the end under its own group.</summary>
    private static async Task ReadBackAsync(ProcessCluster cluster, HistoryRecorder recorder, int partitionCount, Action<string> log)
    {
        const string consumer = "reader";
        using var reader = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap(cluster),
            GroupId = "chaos-reader",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var partitions = Enumerable.Range(0, partitionCount).Select(p => new KafkaTopicPartition(Topic, p)).ToList();
        var highWatermarks = new Dictionary<int, long>();
        foreach (var tp in partitions)
        {
            highWatermarks[tp.Partition.Value] = await UntilAsync($"the high watermark of {tp}", TimeSpan.FromSeconds(60), cluster.Tails, () =>
            {
                var w = reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5));
                return Task.FromResult((true, w.High.Value, $"{w.Low}..{w.High}"));
            });
        }

        log($"high watermarks: {string.Join(", ", highWatermarks.OrderBy(h => h.Key).Select(h => $"p{h.Key}={h.Value}"))}");
        reader.Assign(partitions.Select(tp => new KafkaTopicPartitionOffset(tp, Offset.Beginning)));
        var next = partitions.ToDictionary(tp => tp.Partition.Value, _ => 0L);
        var clock = Stopwatch.StartNew();
        while (next.Any(n => n.Value < highWatermarks[n.Key]))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(180))
            {
                throw new TimeoutException($"Timed out reading back to the high watermarks; read up to {string.Join(", ", next.Select(n => $"p{n.Key}={n.Value}/{highWatermarks[n.Key]}"))}{Environment.NewLine}{cluster.Tails()}");
            }

            ConsumeResult<string, string>? r;
            try
            {
                r = reader.Consume(TimeSpan.FromSeconds(1));
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                log($"read-back: {e.Error.Code} {e.Error.Reason}");
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
            reader.Commit([new KafkaTopicPartitionOffset(Topic, partition, offset)]);
            recorder.Commit("chaos-reader", partition, offset);
        }
    }
}
