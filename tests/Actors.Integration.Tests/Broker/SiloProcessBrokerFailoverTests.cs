using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Broker;

/// <summary>
/// Three real Actors.Silo processes (brokers) on Orleans, on one SQLite membership file and one SQLite grain-state
/// file: the partition leader's process is SIGKILLed during a continuous acks=all idempotent produce, and no
/// acknowledged record is lost or duplicated.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SiloProcessBrokerFailoverTests(ITestOutputHelper output)
{
    private const string Topic = "orders";
    private const int Records = 300;
    private const int KillAfter = 60;

    [Fact]
    public async Task SIGKILL_of_the_partition_leader_process_during_acks_all_idempotent_produce_loses_and_duplicates_no_acknowledged_record()
    {
        const int seed = 20261121;
        output.WriteLine($"seed={seed}");
        var random = new Random(seed);
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        var client = cluster.Client;
        var controller = cluster.Controller;
        var partition = client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new TopicPartition(Topic, 0)));
        var silos = cluster.Silos;
        string Tails() => cluster.Tails();

        // RF 3 needs all three silos Active; until then the controller refuses with INVALID_REPLICATION_FACTOR.
        await ClusterPolling.UntilAsync("topic creation with replication factor 3 (all three silos Active)", TimeSpan.FromSeconds(60), Tails, async () =>
        {
            try
            {
                await controller.CreateTopicAsync(new CreateTopicRequest
                {
                    Name = Topic, NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
                });
            }
            catch (BrokerException e) when (e.Code == ErrorCode.TopicAlreadyExists)
            {
                // An earlier attempt went through but its answer was lost.
            }

            return (true, "created");
        });
        await ClusterPolling.UntilAsync("the partition's ISR to hold all three replicas", TimeSpan.FromSeconds(60), Tails, async () =>
        {
            var state = await controller.GetPartitionStateAsync(new TopicPartition(Topic, 0));
            return (state.Isr.Length == 3 && state.Leader is not null, state.ToString()!);
        });

        var pid = await ClusterPolling.UntilAsync("a producer id", TimeSpan.FromSeconds(30), Tails, async () =>
        {
            var r = await client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
            return (r.Error == ErrorCode.None, r, r.Error.ToString());
        });

        var acknowledged = new List<string>();
        var sequence = 0;
        string? killed = null;
        int killedEpoch = -1;
        Stopwatch? sinceKill = null;
        long killReapedMs = -1;
        Task? killTask = null;
        long firstAckAfterKillMs = -1;
        var retriesAfterKill = 0;
        var produceDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (acknowledged.Count < Records)
        {
            var count = random.Next(1, 4);
            var batch = Batch(acknowledged.Count, count, pid.ProducerId, pid.ProducerEpoch, sequence);
            Task? kill = null;
            if (killed is null && acknowledged.Count >= KillAfter)
            {
                var state = await controller.GetPartitionStateAsync(new TopicPartition(Topic, 0));
                killed = state.Leader!;
                killedEpoch = state.LeaderEpoch;
                var victim = silos.Single(s => s.Name == killed);

                // SIGKILL while the produce below is in flight.
                killTask = kill = Task.Run(() =>
                {
                    sinceKill = Stopwatch.StartNew();
                    victim.Kill();
                    killReapedMs = sinceKill.ElapsedMilliseconds;
                });
            }

            // The same batch (same producer id, epoch and sequence) until it is acknowledged.
            var attempt = 0;
            while (true)
            {
                attempt++;
                var lastSeen = string.Empty;
                try
                {
                    var r = await partition.ProduceAsync(new ProduceRequest { Records = batch, Acks = -1, TimeoutMs = 5_000 });
                    if (r.Error == ErrorCode.None)
                    {
                        // Only an answer after the old leader is gone is the new leader's.
                        if (killTask is { IsCompleted: true } && firstAckAfterKillMs < 0)
                        {
                            firstAckAfterKillMs = sinceKill!.ElapsedMilliseconds;
                        }

                        break;
                    }

                    Assert.True(r.Error.IsRetriable(), $"produce of sequence {sequence} failed with the non-retriable {r.Error}: {r.ErrorMessage}");
                    lastSeen = $"{r.Error} {r.ErrorMessage}";
                }
                catch (Exception e) when (Transient.Is(e))
                {
                    lastSeen = $"{e.GetType().Name}: {e.Message}";
                }

                if (killed is not null)
                {
                    retriesAfterKill++;
                }

                if (DateTime.UtcNow > produceDeadline)
                {
                    Assert.Fail($"Timed out waiting for the produce of sequence {sequence} to be acknowledged ({acknowledged.Count} of {Records} acknowledged, attempt {attempt}, killed {killed ?? "none"}); last: {lastSeen}{Environment.NewLine}{Tails()}");
                }

                // Retry backoff, as a producer's retry.backoff.ms.
                await Task.Delay(50);
            }

            if (kill is not null)
            {
                await kill;
            }

            for (var i = 0; i < count; i++)
            {
                acknowledged.Add($"v{acknowledged.Count}");
            }

            sequence += count;
        }

        Assert.NotNull(killed);
        Assert.True(firstAckAfterKillMs >= 0, "no produce was acknowledged after the old leader was gone");
        var final = await controller.GetPartitionStateAsync(new TopicPartition(Topic, 0));
        Assert.NotEqual(killed, final.Leader);
        Assert.True(final.LeaderEpoch > killedEpoch, $"the leader epoch did not move past {killedEpoch}: {final}");
        output.WriteLine($"SIGKILL of leader {killed} (epoch {killedEpoch}) -> first acknowledged produce on the new leader {final.Leader} (epoch {final.LeaderEpoch}) after {firstAckAfterKillMs} ms (process reaped {killReapedMs} ms after the signal); {retriesAfterKill} retried attempts; {acknowledged.Count} records acknowledged");

        // Read the partition back from the new leader.
        var read = new List<(long Offset, string Value)>();
        await ClusterPolling.UntilAsync($"{acknowledged.Count} records read back from the new leader", TimeSpan.FromSeconds(30), Tails, async () =>
        {
            var r = await partition.FetchAsync(new FetchRequest { FetchOffset = read.Count, MaxWaitMs = 200 });
            if (r.Error != ErrorCode.None)
            {
                Assert.True(r.Error.IsRetriable(), $"fetch at offset {read.Count} failed with the non-retriable {r.Error}: {r.ErrorMessage}");
                return (false, $"{r.Error} at offset {read.Count}");
            }

            read.AddRange(TextRecords.Read(r.Records.Span, read.Count));
            return (read.Count >= acknowledged.Count, $"{read.Count} records");
        });

        Assert.Equal(acknowledged, read.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, read.Count).Select(i => (long)i), read.Select(r => r.Offset));
    }

    private static byte[] Batch(int first, int count, long producerId, short producerEpoch, int baseSequence) =>
        TextRecords.Batch(Enumerable.Range(first, count).Select(i => $"v{i}"), producerId, producerEpoch, baseSequence);
}
