using Actors.Broker;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using static Actors.Chaos.Tests.ChaosSupport;

namespace Actors.Chaos.Tests;

/// <summary>
/// A real network partition: three silo processes, each in its own network namespace, and the partition leader's
/// links to both other silos cut with nftables (its clients still reach it). With acks=all and min.insync.replicas 2
/// the cut-off leader must acknowledge nothing; the two others elect a new leader and go on; after the cut heals (and
/// the old leader, declared dead, is restarted) it rejoins the ISR, and every acknowledged record is read back once.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NetworkPartitionTests(ITestOutputHelper output)
{
    private const string Topic = "partitioned";

    [SiloNetworkFact]
    public async Task A_leader_cut_off_from_its_followers_acknowledges_nothing_and_every_acknowledged_record_survives()
    {
        await using var network = await SiloNetwork.CreateAsync(3);
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine, network: network);
        await CreateTopicAsync(cluster, Topic, 1);
        await UntilAsync("the ISR to hold all three silos after creation", TimeSpan.FromSeconds(120), cluster.Tails, () => HealthAsync(cluster, Topic, 1));

        var acknowledged = new List<string>();
        await ProduceAsync(Bootstrap(cluster), "before", 20, acknowledged, TimeSpan.FromSeconds(30));
        Assert.Equal(20, acknowledged.Count);

        var before = (await StatesAsync(cluster, Topic, 1))[0];
        var leader = cluster.Silo(before.Leader!);
        var member = cluster.Silos.IndexOf(leader) + 1;
        output.WriteLine($"cutting {leader.Name} ({leader.Host}, leader at epoch {before.LeaderEpoch}) off from the other silos");
        await network.IsolateAsync(member);

        // A producer on the cut-off side (Debian's Python client run inside the leader's namespace, so it reaches only
        // that silo): nothing it sends may be acknowledged while the cut lasts.
        var isolated = IsolatedProduceAsync(network.Namespace(member), leader.Bootstrap, 5, TimeSpan.FromSeconds(10));

        // The others elect a new leader and take acks=all writes.
        var others = cluster.Silos.Where(s => s != leader).ToList();
        var after = await UntilAsync<PartitionState>($"a leader other than the cut-off {leader.Name}, with an ISR without it", TimeSpan.FromSeconds(90), cluster.Tails, async () =>
        {
            var state = (await StatesAsync(cluster, Topic, 1))[0];
            return (state.Leader is not null && state.Leader != leader.Name && state.LeaderEpoch > before.LeaderEpoch && !state.Isr.Contains(leader.Name), state, Describe([state]));
        });
        output.WriteLine($"{after.Leader} leads at epoch {after.LeaderEpoch}, ISR [{string.Join(',', after.Isr)}]");
        var majority = string.Join(',', others.Select(s => s.Bootstrap));
        await ProduceAsync(majority, "during", 20, acknowledged, TimeSpan.FromSeconds(60));
        Assert.Equal(40, acknowledged.Count);

        var (isolatedAcks, isolatedOutput) = await isolated;
        output.WriteLine($"cut-off side: {isolatedOutput}");
        Assert.True(isolatedAcks.Count == 0, $"the cut-off leader acknowledged {isolatedAcks.Count} record(s) with acks=all and min.insync.replicas 2: {isolatedOutput}");
        acknowledged.AddRange(isolatedAcks);

        output.WriteLine($"healing ({network}); {leader.Name} is {(leader.Running ? "still running" : "gone (declared dead)")}");
        await network.HealAsync();
        await UntilBackInIsrAsync(cluster, leader, Topic, 1, output.WriteLine, TimeSpan.FromSeconds(120));

        await ProduceAsync(Bootstrap(cluster), "healed", 10, acknowledged, TimeSpan.FromSeconds(60));
        var read = Consume(Bootstrap(cluster), acknowledged.Count);
        var lost = acknowledged.Except(read).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged record(s) lost: {string.Join(", ", lost.Take(20))}");
        var twice = read.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"records read twice (the producers are idempotent): {string.Join(", ", twice.Take(20))}");
    }

    /// <summary>Sends <paramref name="count"/> records one at a time with acks=all and idempotence, each with
    /// <paramref name="within"/> to be delivered; adds each acknowledged value to <paramref name="acknowledged"/>.</summary>
    private async Task ProduceAsync(string bootstrap, string prefix, int count, List<string> acknowledged, TimeSpan within)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            MessageTimeoutMs = (int)within.TotalMilliseconds,
            SocketTimeoutMs = 5_000,
        };
        using var producer = new ProducerBuilder<Null, string>(config).Build();
        for (var i = 0; i < count; i++)
        {
            var value = $"{prefix}-{i}";
            try
            {
                await producer.ProduceAsync(new Confluent.Kafka.TopicPartition(Topic, 0), new Message<Null, string> { Value = value });
                lock (acknowledged)
                {
                    acknowledged.Add(value);
                }
            }
            catch (ProduceException<Null, string> e)
            {
                output.WriteLine($"{value}: not acknowledged ({e.Error.Code}: {e.Error.Reason})");
            }
        }
    }

    /// <summary>Sends <paramref name="count"/> records with acks=all and idempotence from Debian's Python client inside
    /// <paramref name="networkNamespace"/>, each given <paramref name="within"/>; returns the acknowledged values and
    /// what the client printed.</summary>
    private static async Task<(List<string> Acknowledged, string Output)> IsolatedProduceAsync(string networkNamespace, string bootstrap, int count, TimeSpan within)
    {
        const string Script = """
            import sys
            from confluent_kafka import Producer
            bootstrap, topic, count, timeout_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
            producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                 "message.timeout.ms": timeout_ms, "socket.timeout.ms": 5000})
            def report(error, message):
                print(("failed " + str(error)) if error else ("acked " + message.value().decode()), flush=True)
            for i in range(count):
                producer.produce(topic, value=("isolated-%d" % i).encode(), partition=0, on_delivery=report)
            left = producer.flush(timeout_ms / 1000 + 30)
            print("left %d" % left, flush=True)
            """;
        var start = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", networkNamespace, "/usr/bin/python3", "-c", Script, bootstrap, Topic, $"{count}", $"{(int)within.TotalMilliseconds}" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start python3");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(within + TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the Python producer in {networkNamespace} did not finish within {(within + TimeSpan.FromSeconds(60)).TotalSeconds:0} s");
        }

        var printed = await stdout;
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode == 0 && lines.Count(l => l.StartsWith("acked ", StringComparison.Ordinal) || l.StartsWith("failed ", StringComparison.Ordinal)) == count,
            $"the Python producer exited {process.ExitCode} without a report per record: {printed} {await stderr}");
        return (lines.Where(l => l.StartsWith("acked ", StringComparison.Ordinal)).Select(l => l["acked ".Length..]).ToList(), string.Join("; ", lines));
    }

    /// <summary>Reads the partition from the start until <paramref name="atLeast"/> records or 60 s without a new one.</summary>
    private static List<string> Consume(string bootstrap, int atLeast)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(Topic, 0, Offset.Beginning));
        var read = new List<string>();
        while (consumer.Consume(TimeSpan.FromSeconds(60)) is { } record)
        {
            read.Add(record.Message.Value);
            if (read.Count >= atLeast && consumer.GetWatermarkOffsets(record.TopicPartition).High <= record.Offset + 1)
            {
                break;
            }
        }

        return read;
    }
}

/// <summary>A fact that needs silo networks (root, iproute2, nftables) and Debian's Python Kafka client; skipped, saying why, where they cannot be made.</summary>
public sealed class SiloNetworkFactAttribute : FactAttribute
{
    public SiloNetworkFactAttribute()
    {
        if (SiloNetwork.Unavailable is { } reason)
        {
            Skip = $"Silo networks cannot be made here: {reason}.";
        }
        else if (!File.Exists("/usr/bin/python3"))
        {
            Skip = "/usr/bin/python3 with python3-confluent-kafka is needed (the test command installs it).";
        }
    }
}
