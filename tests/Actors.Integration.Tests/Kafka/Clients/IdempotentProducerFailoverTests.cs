using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using KafkaErrorCode = Confluent.Kafka.ErrorCode;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// A leader failover under a librdkafka (Confluent.Kafka 2.16) acks=all idempotent producer: three silo processes of
/// the test's own, a topic of three partitions at replication factor 3 and min.insync.replicas 2, keyed numbered
/// records produced continuously while the silo leading partition 0 is SIGKILLed. The producer sees only retriable
/// errors, and every acknowledged record is read back exactly once, at the offset its delivery report named, in key
/// order.
/// </summary>
// Out of the default suite until the stall it found is fixed (issue 10: after a SIGKILL, a surviving leader's ISR
// shrink can be refused with INVALID_UPDATE_VERSION and its acks=all writes then wait out the 30 s grain-call
// timeout in about one run of three). Run it with --filter Category=Soak.
[Trait("Category", "Soak")]
[Collection(ProcessCollection.Name)]
public sealed class IdempotentProducerFailoverTests(ITestOutputHelper output)
{
    private const int Partitions = 3;
    private const int Keys = 30;
    private const int AckedBeforeKill = 1_000;
    private const int AckedAfterKill = 2_000;

    /// <summary>Acknowledged on partition 0 after the kill: the new leader must have taken records, not only the other partitions.</summary>
    private const int AckedOnPartition0AfterKill = 200;

    private const int InFlight = 500;
    private static readonly TimeSpan ProduceDeadline = TimeSpan.FromSeconds(60);

    /// <summary>How soon after the kill each partition must acknowledge a record produced after it.</summary>
    private static readonly TimeSpan FirstAckBound = TimeSpan.FromSeconds(15);

    /// <summary>Errors a producer retries (librdkafka's own retriable set for produce, plus the local transport errors
    /// of a dead broker); anything else in a delivery report is a failure of the test.</summary>
    private static readonly HashSet<KafkaErrorCode> Retriable =
    [
        KafkaErrorCode.NotLeaderForPartition, KafkaErrorCode.LeaderNotAvailable, KafkaErrorCode.RequestTimedOut,
        KafkaErrorCode.NotEnoughReplicas, KafkaErrorCode.NotEnoughReplicasAfterAppend, KafkaErrorCode.NetworkException,
        KafkaErrorCode.UnknownTopicOrPart, KafkaErrorCode.KafkaStorageError, KafkaErrorCode.NotCoordinatorForGroup,
        KafkaErrorCode.Local_Transport, KafkaErrorCode.Local_AllBrokersDown, KafkaErrorCode.Local_TimedOut,
        KafkaErrorCode.Local_MsgTimedOut, KafkaErrorCode.Local_Retry, KafkaErrorCode.Local_TimedOutQueue,
    ];

    [Fact]
    public async Task SIGKILL_of_the_partition_0_leader_under_an_acks_all_idempotent_producer_gives_only_retriable_errors_and_loses_nothing()
    {
        var setup = Stopwatch.StartNew();
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        await UntilThreeKafkaBrokersAsync(cluster);
        var topic = $"failover-{Guid.NewGuid():N}"[..20];
        await ClusterPolling.CreateTopicAsync(cluster, topic, Partitions, replicationFactor: 3, minInsyncReplicas: 2);
        var bootstrap = string.Join(',', cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

        var acked = new ConcurrentDictionary<int, (int Partition, long Offset)>();
        var failed = new ConcurrentQueue<(int Number, Error Error)>();
        var clientErrors = new ConcurrentQueue<Error>();
        var ackedAfterKill = 0;
        var ackedOnPartition0AfterKill = 0;
        var firstAfterKill = int.MaxValue;
        Stopwatch? sinceKill = null;
        long firstPartition0AckAfterKillMs = -1;
        var firstAckAfterKillMs = new ConcurrentDictionary<int, long>();
        using var slots = new SemaphoreSlim(InFlight);
        using var enough = new CancellationTokenSource();

        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            MessageTimeoutMs = 60_000,
            LingerMs = 5,
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
        };
        using var producer = new ProducerBuilder<string, string>(config)
            .SetErrorHandler((_, e) => clientErrors.Enqueue(e))
            .Build();

        void Delivered(int number, DeliveryReport<string, string> report)
        {
            slots.Release();
            if (report.Error.IsError)
            {
                failed.Enqueue((number, report.Error));
                return;
            }

            acked[number] = (report.Partition.Value, report.Offset.Value);
            if (number >= Volatile.Read(ref firstAfterKill))
            {
                // Produced after the SIGKILL: only a live leader can have acknowledged it.
                firstAckAfterKillMs.TryAdd(report.Partition.Value, sinceKill!.ElapsedMilliseconds);
                Interlocked.Increment(ref ackedAfterKill);
                if (report.Partition.Value == 0 && Interlocked.Increment(ref ackedOnPartition0AfterKill) == 1)
                {
                    Interlocked.Exchange(ref firstPartition0AckAfterKillMs, sinceKill!.ElapsedMilliseconds);
                }
            }
        }

        // Keyed, numbered records on a background task; at most InFlight unacknowledged at a time.
        var produced = 0;
        var producing = Task.Run(async () =>
        {
            for (var number = 0; !enough.IsCancellationRequested; number++)
            {
                try
                {
                    await slots.WaitAsync(enough.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var n = number;
                producer.Produce(topic, new Message<string, string> { Key = Key(n), Value = n.ToString(CultureInfo.InvariantCulture) }, r => Delivered(n, r));
                Volatile.Write(ref produced, n + 1);
            }
        });

        var clock = Stopwatch.StartNew();
        output.WriteLine($"cluster up and topic {topic} created in {setup.ElapsedMilliseconds} ms");
        await ClusterPolling.UntilAsync($"{AckedBeforeKill} records acknowledged before the kill", ProduceDeadline, cluster.Tails, () =>
            Task.FromResult((acked.Count >= AckedBeforeKill || producing.IsCompleted, $"{acked.Count} acknowledged, {failed.Count} failed")));
        Assert.False(producing.IsFaulted, producing.Exception?.ToString());

        var before = await ClusterPolling.UntilAsync($"partition 0 of {topic} to have a leader", TimeSpan.FromSeconds(10), cluster.Tails, async () =>
        {
            var state = await cluster.Controller.GetPartitionStateAsync(new Actors.Broker.TopicPartition(topic, 0));
            return (state.Leader is not null, state, state.ToString()!);
        });
        var victim = cluster.Silo(before.Leader!);
        var metadataLeader = MetadataLeader(bootstrap, topic);
        output.WriteLine($"{acked.Count} acknowledged after {clock.ElapsedMilliseconds} ms; partition 0 led by {victim.Name} (pid {victim.Pid}, Kafka port {victim.KafkaPort}, epoch {before.LeaderEpoch}); Metadata names the leader at port {metadataLeader}");
        Assert.Equal(victim.KafkaPort, metadataLeader);

        sinceKill = Stopwatch.StartNew();
        victim.Kill();
        var ackedAtKill = acked.Count;
        Volatile.Write(ref firstAfterKill, Volatile.Read(ref produced));
        var startedMs = clock.ElapsedMilliseconds;
        output.WriteLine($"SIGKILL of {victim.Name} at {startedMs} ms (reaped after {sinceKill.ElapsedMilliseconds} ms), {ackedAtKill} acknowledged, records from {firstAfterKill} on produced after it");

        var after = await ClusterPolling.UntilAsync($"the controller to move partition 0's leadership off {victim.Name}", TimeSpan.FromSeconds(45), cluster.Tails, async () =>
        {
            var state = await cluster.Controller.GetPartitionStateAsync(new Actors.Broker.TopicPartition(topic, 0));
            return (state.Leader is not null && state.Leader != victim.Name, state, state.ToString()!);
        });
        var leadershipMovedMs = sinceKill.ElapsedMilliseconds;
        string FirstAcks() => "first acknowledgement of a record produced after the kill, by partition: "
            + string.Join(", ", Enumerable.Range(0, Partitions).Select(p => $"{p}: {(firstAckAfterKillMs.TryGetValue(p, out var ms) ? $"{ms} ms" : "none")}"));

        await ClusterPolling.UntilAsync($"{AckedAfterKill} records acknowledged after the kill, {AckedOnPartition0AfterKill} of them on partition 0", ProduceDeadline, cluster.Tails, () =>
            Task.FromResult((
                (Volatile.Read(ref ackedAfterKill) >= AckedAfterKill && Volatile.Read(ref ackedOnPartition0AfterKill) >= AckedOnPartition0AfterKill) || producing.IsCompleted,
                $"{ackedAfterKill} acknowledged after the kill ({ackedOnPartition0AfterKill} on partition 0), {failed.Count} failed, {produced} produced; {FirstAcks()}")));
        var enoughMs = sinceKill.ElapsedMilliseconds;
        enough.Cancel();
        await producing;
        var remaining = producer.Flush(TimeSpan.FromSeconds(70));
        output.WriteLine($"{AckedAfterKill} acknowledged after the kill {enoughMs} ms after it; flushed {sinceKill.ElapsedMilliseconds - enoughMs} ms later");
        var producedTotal = produced;
        output.WriteLine(
            $"leadership of partition 0 moved {victim.Name} -> {after.Leader} (epoch {before.LeaderEpoch} -> {after.LeaderEpoch}) {leadershipMovedMs} ms after the SIGKILL; "
            + $"first partition-0 acknowledgement after the kill at {firstPartition0AckAfterKillMs} ms; "
            + $"{producedTotal} produced, {acked.Count} acknowledged ({ackedAtKill} at the kill, {ackedAfterKill} of the records produced after it, {ackedOnPartition0AfterKill} of those on partition 0), "
            + $"{failed.Count} failed delivery, {remaining} unflushed, {clientErrors.Count} client errors, {clock.Elapsed.TotalSeconds:0.0} s producing");
        foreach (var group in clientErrors.GroupBy(e => e.Code))
        {
            output.WriteLine($"client error {group.Key} x{group.Count()}: {group.First().Reason}");
        }

        foreach (var group in failed.GroupBy(f => f.Error.Code))
        {
            output.WriteLine($"delivery error {group.Key} x{group.Count()}: {group.First().Error.Reason}");
        }

        foreach (var silo in cluster.Silos.Where(s => s != victim))
        {
            foreach (var line in silo.Logged("Closing Kafka connection"))
            {
                output.WriteLine($"{silo.Name}: {line}");
            }
        }

        output.WriteLine(FirstAcks());

        Assert.Equal(0, remaining);
        Assert.All(clientErrors, e => Assert.False(e.IsFatal, $"fatal client error {e.Code}: {e.Reason}"));
        Assert.All(failed, f => Assert.True(!f.Error.IsFatal && Retriable.Contains(f.Error.Code), $"record {f.Number}: delivery error {f.Error.Code} (fatal {f.Error.IsFatal}): {f.Error.Reason}"));
        Assert.Equal(producedTotal, acked.Count + failed.Count);

        var read = ReadAll(bootstrap, topic, cluster);
        output.WriteLine($"read back {read.Count} records in {clock.Elapsed.TotalSeconds:0.0} s total");

        var readNumbers = read.Select(r => int.Parse(r.Value, CultureInfo.InvariantCulture)).ToList();
        var duplicates = readNumbers.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(duplicates.Count == 0, $"records read more than once: {string.Join(',', duplicates)}");
        var lost = acked.Keys.Except(readNumbers).Order().Take(10).ToList();
        Assert.True(lost.Count == 0, $"acknowledged records not read back: {string.Join(',', lost)}");
        var byPosition = read.ToDictionary(r => (r.Partition, r.Offset), r => int.Parse(r.Value, CultureInfo.InvariantCulture));
        Assert.All(acked, a => Assert.True(
            byPosition.TryGetValue(a.Value, out var there) && there == a.Key,
            $"record {a.Key} was acknowledged at {a.Value.Partition}@{a.Value.Offset}, where the log holds {(byPosition.TryGetValue(a.Value, out var other) ? other.ToString(CultureInfo.InvariantCulture) : "nothing")}"));
        var unacknowledged = readNumbers.Except(acked.Keys).Count();
        output.WriteLine($"{unacknowledged} records in the log whose delivery failed");
        foreach (var key in read.GroupBy(r => r.Key))
        {
            Assert.Single(key.Select(r => r.Partition).Distinct());
            var numbers = key.OrderBy(r => r.Offset).Select(r => int.Parse(r.Value, CultureInfo.InvariantCulture)).ToList();
            Assert.True(numbers.SequenceEqual(numbers.Order()), $"{key.Key} out of order: {string.Join(',', numbers.Take(50))}");
        }

        // Availability: every partition takes new records soon after the kill (failure detection, the ISR shrink after
        // replica.lag.time.max.ms = 2 s, the new leader of partition 0), not after a request timeout (30 s).
        Assert.All(Enumerable.Range(0, Partitions), p => Assert.True(
            firstAckAfterKillMs.TryGetValue(p, out var ms) && ms < FirstAckBound.TotalMilliseconds,
            $"partition {p} acknowledged no record produced after the kill within {FirstAckBound.TotalSeconds} s of it; {FirstAcks()}; "
            + $"surviving brokers closed the producer's connection: [{string.Join(" | ", cluster.Silos.Where(s => s != victim).SelectMany(s => s.Logged("Closing Kafka connection")).Select(l => l.Trim()))}]"));
    }

    private static string Key(int number) => $"key-{number % Keys}";

    /// <summary>The Kafka port of the broker Metadata names as partition 0's leader.</summary>
    private static int MetadataLeader(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var leader = metadata.Topics.Single().Partitions.Single(p => p.PartitionId == 0).Leader;
        return metadata.Brokers.Single(b => b.BrokerId == leader).Port;
    }

    /// <summary>Every record of every partition, from the start to the high watermark (manual assignment).</summary>
    private List<(int Partition, long Offset, string Key, string Value)> ReadAll(string bootstrap, string topic, ProcessCluster cluster)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"failover-reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = true,
        }).Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var high = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(20)).High.Value);
        output.WriteLine($"high watermarks: {string.Join(", ", high.Select(h => $"{h.Key}={h.Value}"))}");
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var read = new List<(int, long, string, string)>();
        var next = partitions.ToDictionary(p => p.Partition.Value, _ => 0L);
        var deadline = Stopwatch.StartNew();
        while (next.Any(n => n.Value < high[n.Key]))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30),
                $"Timed out reading {topic} to its high watermarks ({string.Join(", ", next.Select(n => $"{n.Key}: {n.Value} of {high[n.Key]}"))}){Environment.NewLine}{cluster.Tails()}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            read.Add((result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value));
            next[result.Partition.Value] = result.Offset.Value + 1;
        }

        consumer.Close();
        return read;
    }

    private static Task UntilThreeKafkaBrokersAsync(ProcessCluster cluster) =>
        ClusterPolling.UntilAsync("the controller to list three Active silos, each with a Kafka broker id", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            var metadata = await cluster.Controller.GetMetadataAsync(new Actors.Broker.MetadataRequest { Topics = [] });
            var names = metadata.Silos.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            var done = names.Count == 3 && metadata.KafkaBrokers.Count(b => names.Contains(b.SiloName)) == 3;
            return (done, $"silos [{string.Join(',', names)}], Kafka brokers [{string.Join(',', metadata.KafkaBrokers.Select(b => $"{b.SiloName}={b.NodeId}@{b.Host}:{b.Port}"))}]");
        });
}
