using Actors.Broker.Tests.Support;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class FailoverTests
{
    private static async Task<PartitionState> LeaderStateAsync(BrokerCluster c, string topic, int p) =>
        await c.Controller.GetPartitionStateAsync(new TopicPartition(topic, p));

    [Fact]
    public async Task Acks_semantics_and_not_enough_replicas_on_a_cluster()
    {
        await using var c = await BrokerCluster.StartAsync(configure: o => o.ReplicaLagTimeMaxMs = 1_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "acks", NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "3" } });
        // Idempotent batches: the helper retries retriable answers (an acks=all write can time out after its append
        // while a slow follower briefly leaves the ISR), and the sequence numbers keep such a retry from duplicating.
        var pid = await c.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
        Assert.Equal(ErrorCode.None, pid.Error);
        byte[] Batch(int i) => Batches.Values(i, 1, pid.ProducerId, pid.ProducerEpoch, i);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("acks", 0, Batch(0), acks: -1)).Error);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("acks", 0, Batch(1), acks: 1)).Error);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("acks", 0, Batch(2), acks: 0)).Error);

        // A follower dies: it leaves the ISR and acks=all with min.insync.replicas=3 is refused before the append.
        var state = await LeaderStateAsync(c, "acks", 0);
        var follower = state.Replicas.First(r => r != state.Leader);
        await c.KillAsync(follower);
        var waitStarted = DateTime.UtcNow;
        await Wait.UntilAsync(() => c.Partition("acks", 0).GetStatusAsync().GetAwaiter().GetResult().State?.Isr.Length == 2, TimeSpan.FromSeconds(20),
            "the leader to see the dead follower leave the ISR",
            () => $"leader: {c.Partition("acks", 0).GetStatusAsync().GetAwaiter().GetResult().State?.ToString() ?? "no state"}; controller: {LeaderStateAsync(c, "acks", 0).GetAwaiter().GetResult()} on {string.Join(',', c.HostsOf(c.Controller))}; killed {follower}");
        Console.WriteLine($"ISR shrink seen by the leader after {(DateTime.UtcNow - waitStarted).TotalMilliseconds:F0} ms");
        var refused = await c.Partition("acks", 0).ProduceAsync(new ProduceRequest { Records = Batch(3), Acks = -1 });
        Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error);
        Assert.True(refused.Error.IsRetriable());
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("acks", 0, Batch(3), acks: 1)).Error);
        var got = await c.ConsumeAsync("acks", 0, 0, 4);
        Assert.Equal(new[] { "v0", "v1", "v2", "v3" }, got.Select(g => g.Value));
    }

    [Fact]
    public async Task After_a_leader_kill_the_new_leaders_stop_following_and_the_metadata_history_stays_sound()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 3, configure: o => o.ReplicaLagTimeMaxMs = 2_000);
        const int partitions = 6;
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "moves", NumPartitions = partitions, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } });
        for (var p = 0; p < partitions; p++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("moves", p, Batches.Values(p * 10, 2))).Error);
        }

        var before = new PartitionState[partitions];
        for (var p = 0; p < partitions; p++)
        {
            before[p] = await LeaderStateAsync(c, "moves", p);
        }

        var victim = before[0].Leader!;
        var moved = before.Where(s => s.Leader == victim).Select(s => s.Partition).ToArray();
        await c.KillAsync(victim);

        foreach (var p in moved)
        {
            var tp = new TopicPartition("moves", p);
            PartitionState? now = null;
            await Wait.UntilAsync(
                async () =>
                {
                    now = await BrokerCluster.RetryAsync(() => c.Controller.GetPartitionStateAsync(tp), $"the state of {tp}");
                    return now.Leader is not null && now.Leader != victim;
                },
                TimeSpan.FromSeconds(30),
                $"{tp} to get a leader other than the killed {victim}",
                () => now?.ToString() ?? "no answer");

            // The new leader followed before: its own replica's fetch loop must stop, not poll the local leader forever.
            var replica = c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(tp, now!.Leader!));
            ReplicaStatus? status = null;
            await Wait.UntilAsync(
                async () =>
                {
                    status = await BrokerCluster.RetryAsync(() => replica.GetStatusAsync(), $"the replica status of {tp} on {now.Leader}");
                    return !status.Fetching;
                },
                TimeSpan.FromSeconds(30),
                $"the follower fetch loop of {tp} on its new leader {now.Leader} to stop",
                () => $"fetching={status?.Fetching} leader={status?.Leader} epoch={status?.LeaderEpoch}");
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("moves", p, Batches.Values(100 + p, 1))).Error);
        }

        // The victim returns and follows again (its loops restart at the new epochs): every ISR is whole again.
        await c.RestartAsync(victim);
        for (var p = 0; p < partitions; p++)
        {
            var tp = new TopicPartition("moves", p);
            await Wait.UntilAsync(
                async () => (await BrokerCluster.RetryAsync(() => c.Controller.GetPartitionStateAsync(tp), $"the state of {tp}")).Isr.Length == 3,
                TimeSpan.FromSeconds(30),
                $"{victim} to rejoin the ISR of {tp}",
                () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        }

        // Elections happened, and the persisted history keeps both invariants.
        var history = c.Metadata.History;
        foreach (var p in moved)
        {
            Assert.Contains(history, r => r.Partitions.Any(x => x.Topic == "moves" && x.Partition == p && x.LeaderEpoch > before[p].LeaderEpoch));
        }

        MetadataHistoryChecker.AssertSound(history);
    }

    [Fact]
    public async Task Leader_kill_during_idempotent_acks_all_produce_loses_and_duplicates_nothing()
    {
        // A new seed each run moves the kill moments; the seed is printed so a failing run can be replayed.
        var seed = Environment.GetEnvironmentVariable("ACTORS_TEST_SEED") is { } fixedSeed ? int.Parse(fixedSeed, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        Console.WriteLine($"seed={seed} (set ACTORS_TEST_SEED to replay)");
        var rng = new Random(seed);
        await using var c = await BrokerCluster.StartAsync(silos: 3, configure: o => o.ReplicaLagTimeMaxMs = 2_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "pay", NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } });
        var pid = await c.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
        Assert.Equal(ErrorCode.None, pid.Error);

        var acknowledged = new List<string>();
        var sequence = 0;
        var next = 0;
        const int rounds = 10;
        for (var round = 0; round < rounds; round++)
        {
            // Kill the leader at a random moment of a continuous acks=all produce (retries reuse the batch and its sequence).
            var end = next + 30;
            var killAt = next + rng.Next(1, 25);
            Task? kill = null;
            string? killed = null;
            while (next < end)
            {
                if (kill is null && next >= killAt)
                {
                    killed = (await LeaderStateAsync(c, "pay", 0)).Leader!;
                    kill = c.KillAsync(killed);
                }

                var count = rng.Next(1, 4);
                var batch = Batches.Values(next, count, pid.ProducerId, pid.ProducerEpoch, sequence);
                var r = await c.ProduceAsync("pay", 0, batch, acks: -1);
                Assert.Equal(ErrorCode.None, r.Error);
                for (var i = 0; i < count; i++)
                {
                    acknowledged.Add($"v{next + i}");
                }

                next += count;
                sequence += count;
            }

            Assert.NotNull(kill);
            await kill!;
            await c.RestartAsync(killed!);
            await Wait.UntilAsync(() => LeaderStateAsync(c, "pay", 0).GetAwaiter().GetResult().Isr.Length == 3, TimeSpan.FromSeconds(30),
                $"round {round}: {killed} to return to the ISR", () => LeaderStateAsync(c, "pay", 0).GetAwaiter().GetResult().ToString());
        }

        var all = await c.ConsumeAsync("pay", 0, 0, acknowledged.Count);
        Assert.Equal(acknowledged, all.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, all.Count).Select(i => (long)i), all.Select(r => r.Offset));
        var final = await LeaderStateAsync(c, "pay", 0);
        Assert.True(final.LeaderEpoch >= rounds, $"expected at least {rounds} leader changes: {final}");

        // The id allocator lived through the kills (re-activated from its persisted block where its silo died):
        // a new producer never gets an id handed out before, even when it names the old one.
        var ids = c.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds);
        var again = await ids.InitProducerIdAsync(new InitProducerIdRequest { ProducerId = pid.ProducerId, ProducerEpoch = pid.ProducerEpoch });
        Assert.Equal(ErrorCode.None, again.Error);
        Assert.True(again.ProducerId > pid.ProducerId, $"id {again.ProducerId} after the kills is not past the first id {pid.ProducerId}");
        Assert.Equal(0, again.ProducerEpoch);
        var half = await ids.InitProducerIdAsync(new InitProducerIdRequest { ProducerId = 7 });
        Assert.Equal(ErrorCode.InvalidRequest, half.Error);
        Assert.Contains("give both", half.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Isr_shrinks_when_a_follower_silo_stops_and_expands_when_it_returns()
    {
        using var metrics = new BrokerMetricsRecorder("isr");
        await using var c = await BrokerCluster.StartAsync(configure: o => o.ReplicaLagTimeMaxMs = 1_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "isr", NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } });
        var tp = new TopicPartition("isr", 0);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("isr", 0, Batches.Values(0, 5))).Error);
        var state = await c.Controller.GetPartitionStateAsync(tp);
        var follower = state.Replicas.First(r => r != state.Leader);
        await c.StopAsync(follower);
        await Wait.UntilAsync(() => !c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Isr.Contains(follower), TimeSpan.FromSeconds(20),
            $"{follower} to leave the ISR", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());

        // acks=all still works with 2 of 3 in sync (min.insync.replicas=2); the stopped follower misses these.
        for (var i = 5; i < 25; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("isr", 0, Batches.Values(i, 1))).Error);
        }

        await c.RestartAsync(follower);
        await Wait.UntilAsync(() => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Isr.Contains(follower), TimeSpan.FromSeconds(30),
            $"{follower} to catch up and rejoin the ISR", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        var replica = await c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(tp, follower)).GetStatusAsync();
        Assert.Equal(25, replica.LogEndOffset);

        // The controller counted one shrink and one expansion, and the leader never changed.
        Assert.Equal(["actors.broker.isr.shrinks", "actors.broker.isr.expands"], metrics.All);
    }

    [Fact]
    public async Task Old_leader_truncates_acks_1_writes_the_followers_missed_and_every_replica_ends_byte_identical()
    {
        await using var c = await BrokerCluster.StartAsync(configure: o => o.ControllerResyncMs = 600_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "dv", NumPartitions = 1, ReplicationFactor = 3 });
        var tp = new TopicPartition("dv", 0);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("dv", 0, Batches.Values(i, 1))).Error);
        }

        // The followers stop fetching; the leader takes acks=1 writes that only it has.
        var state = await c.Controller.GetPartitionStateAsync(tp);
        var oldLeader = state.Leader!;
        var followers = state.Replicas.Where(r => r != oldLeader).ToArray();
        foreach (var f in followers)
        {
            await Wait.UntilAsync(() => c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(tp, f)).GetStatusAsync().GetAwaiter().GetResult().LogEndOffset == 10, TimeSpan.FromSeconds(20),
                $"{f} at offset 10", () => "behind");
            await c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(tp, f)).StopReplicaAsync(deleteLog: false);
        }

        for (var i = 10; i < 15; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.Partition("dv", 0).ProduceAsync(new ProduceRequest { Records = Batches.Values(i, 1), Acks = 1 })).Error);
        }

        await c.KillAsync(oldLeader);
        await Wait.UntilAsync(() => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Leader is { } l && l != oldLeader, TimeSpan.FromSeconds(20),
            "a new leader", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        for (var i = 100; i < 103; i++)
        {
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync("dv", 0, Batches.Values(i, 1), acks: 1)).Error);
        }

        await c.RestartAsync(oldLeader);
        await Wait.UntilAsync(() => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Isr.Length == 3, TimeSpan.FromSeconds(30),
            $"{oldLeader} to truncate, catch up and rejoin the ISR", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        var values = (await c.ConsumeAsync("dv", 0, 0, 13)).Select(r => r.Value);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}").Concat(["v100", "v101", "v102"]), values);

        string[] Files(string silo) => Directory.GetFiles(Path.Combine(c.Root, silo, "dv-0"), "*.log").Select(Path.GetFileName).Order().ToArray()!;
        var reference = state.Replicas[0];
        foreach (var silo in state.Replicas)
        {
            Assert.Equal(Files(reference), Files(silo));
            foreach (var file in Files(silo))
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(c.Root, reference, "dv-0", file)), File.ReadAllBytes(Path.Combine(c.Root, silo, "dv-0", file)));
            }
        }
    }
}
