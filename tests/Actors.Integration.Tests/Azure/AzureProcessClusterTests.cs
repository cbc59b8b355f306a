using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Azure;

/// <summary>
/// Three real silo processes on Azure Storage (Azurite): membership in an Azure table, grain state in Azure blobs.
/// A SIGKILLed leader loses no acknowledged record; while the storage is down for 20 s the silos keep serving the
/// partitions they lead and say so in their logs, and once it is back the cluster changes metadata again.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AzureProcessClusterTests(Azurite azurite, ITestOutputHelper output) : IClassFixture<Azurite>
{
    private const string MembershipOutage = "cannot be reached: ";
    private const string ControllerOutage = "The controller cannot reconcile membership";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SIGKILL_of_the_leader_on_Azure_storage_loses_no_acknowledged_acks_all_record()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine, azurite.ConnectionString);
        var partition = new TopicPartition("payments", 0);
        var before = await ClusterPolling.CreateTopicAsync(cluster, partition.Topic, 1, replicationFactor: 3, minInsyncReplicas: 2);
        var producer = new PartitionProducer(cluster, partition, await ClusterPolling.InitProducerIdAsync(cluster), acks: -1);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        for (var i = 0; i < 30; i++)
        {
            await producer.ProduceAsync(2, deadline, cluster.Tails);
        }

        var leader = before[0].Leader!;
        var clock = Stopwatch.StartNew();
        cluster.Silo(leader).Kill();
        var acknowledgedBeforeKill = producer.Acknowledged.Count;
        var retriesBeforeKill = producer.Retries;
        await producer.ProduceAsync(2, deadline, cluster.Tails);
        var firstAck = clock.Elapsed;
        for (var i = 0; i < 29; i++)
        {
            await producer.ProduceAsync(2, deadline, cluster.Tails);
        }

        var after = await cluster.Controller.GetPartitionStateAsync(partition);
        output.WriteLine($"SIGKILL of leader {leader} after {acknowledgedBeforeKill} acknowledged records -> first acknowledged produce on {after.Leader} after {firstAck.TotalMilliseconds:0} ms, {producer.Retries - retriesBeforeKill} retries; {producer.Acknowledged.Count} records acknowledged; {after}");
        Assert.NotEqual(leader, after.Leader);

        var read = await ClusterPolling.ReadAsync(cluster, partition, producer.Acknowledged.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(producer.Acknowledged, read.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, read.Count).Select(i => (long)i), read.Select(r => r.Offset));
    }

    [Fact]
    public async Task While_Azure_storage_is_down_for_20_s_the_silos_keep_serving_their_partitions_and_the_cluster_recovers_after()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine, azurite.ConnectionString);
        const string topic = "outage";
        var states = await ClusterPolling.CreateTopicAsync(cluster, topic, 3, replicationFactor: 3, minInsyncReplicas: 2);
        Assert.True(cluster.Silos.All(s => states.Any(p => p.Leader == s.Name)),
            $"every silo should lead a partition of {topic}; {string.Join("; ", states.Select(p => p.ToString()))}");
        var producerId = await ClusterPolling.InitProducerIdAsync(cluster);
        var producers = states.Select(p => new PartitionProducer(cluster, p.TopicPartition, producerId, acks: -1)).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var producer in producers)
        {
            await producer.ProduceAsync(2, deadline, cluster.Tails);
        }

        var linesBefore = cluster.Silos.ToDictionary(s => s.Name, s => (Lines: s.LineCount, OrleansWarnings: s.Logged("warn: Orleans").Length), StringComparer.Ordinal);
        await azurite.StopAsync();
        var clock = Stopwatch.StartNew();
        output.WriteLine("Azurite stopped");

        // Produce to every partition for the whole outage; each call waits at most 3 s for its acknowledgement.
        var during = producers.ToDictionary(p => p.Partition, _ => (Acked: 0, Failed: 0, Longest: TimeSpan.Zero));
        while (clock.Elapsed < Outage)
        {
            foreach (var producer in producers)
            {
                var started = clock.Elapsed;
                var ok = await producer.TryProduceAsync(2, DateTime.UtcNow + TimeSpan.FromSeconds(3));
                var (acked, failed, longest) = during[producer.Partition];
                var took = clock.Elapsed - started;
                during[producer.Partition] = ok ? (acked + 1, failed, took > longest ? took : longest) : (acked, failed + 1, longest);
            }
        }

        foreach (var (tp, d) in during)
        {
            output.WriteLine($"during the outage, {tp} led by {states[tp.Partition].Leader}: {d.Acked} acks=all produces acknowledged (slowest {d.Longest.TotalMilliseconds:0} ms), {d.Failed} not within 3 s");
        }

        var outageTails = cluster.Tails();
        foreach (var silo in cluster.Silos)
        {
            output.WriteLine($"{silo.Name} during the outage: {silo.LineCount - linesBefore[silo.Name].Lines} lines of output, " +
                $"{silo.Logged("warn: Orleans").Length - linesBefore[silo.Name].OrleansWarnings} Orleans warnings; ours: {string.Join(" | ", silo.Logged(MembershipOutage))}");
        }

        var controllerWarnings = cluster.Silos.SelectMany(s => s.Logged(ControllerOutage)).ToArray();
        output.WriteLine($"controller warnings: {controllerWarnings.Length}");
        foreach (var silo in cluster.Silos)
        {
            var heads = silo.Logged(": ").Where(l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("info:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal))
                .GroupBy(l => l.Split('[')[0]).Select(g => $"{g.Key} x{g.Count()}");
            output.WriteLine($"{silo.Name} log heads: {string.Join(" | ", heads)}");
        }

        await azurite.StartAsync();

        var back = Stopwatch.StartNew();
        output.WriteLine($"Azurite restarted on the same ports after {clock.Elapsed.TotalSeconds:0.0} s down");

        // A silo that the others suspected while no vote could be written may be declared Dead once the table is back;
        // an Orleans silo that finds itself Dead stops, and its service manager (systemd's Restart=always in
        // deploy/) starts it again as a new incarnation. The test does what the service manager does, and says so.
        using var supervising = new CancellationTokenSource();
        var restarted = new List<string>();
        var supervisor = SuperviseAsync(cluster, restarted, supervising.Token);
        try
        {
            await ClusterPolling.CreateTopicAsync(cluster, "after-outage", 3, replicationFactor: 3, minInsyncReplicas: 2);
        }
        finally
        {
            await supervising.CancelAsync();
            await supervisor;
        }

        output.WriteLine($"a new topic was created {back.Elapsed.TotalMilliseconds:0} ms after Azurite was back; silos restarted after stopping themselves: {(restarted.Count == 0 ? "none" : string.Join(", ", restarted))}");

        // Each silo says once, with what to check, that the membership table is out of reach (the output kept is
        // every incarnation's, and a restarted silo starts with the table reachable).
        Assert.All(cluster.Silos, s => Assert.True(s.Logged(MembershipOutage).Length == 1,
            $"{s.Name} should log \"{MembershipOutage}\" once during the outage; it logged it {s.Logged(MembershipOutage).Length} times{Environment.NewLine}{s.Tail()}"));
        Assert.All(during, d => Assert.True(d.Value.Acked > 0 && d.Value.Failed == 0,
            $"{d.Key} (led by {states[d.Key.Partition].Leader}) should keep acknowledging acks=all produces while storage is down; {d.Value.Acked} acknowledged, {d.Value.Failed} not within 3 s{Environment.NewLine}{outageTails}"));

        foreach (var producer in producers)
        {
            await producer.ProduceAsync(2, DateTime.UtcNow + TimeSpan.FromSeconds(20), cluster.Tails);
            var read = await ClusterPolling.ReadAsync(cluster, producer.Partition, producer.Acknowledged.Count, TimeSpan.FromSeconds(20));
            Assert.Equal(producer.Acknowledged, read.Select(r => r.Value));
        }
    }

    /// <summary>Starts again, as a service manager would, every silo process that exited, until cancelled.</summary>
    private async Task SuperviseAsync(ProcessCluster cluster, List<string> restarted, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var silo in cluster.Silos.Where(s => !s.Running))
            {
                output.WriteLine($"{silo.Name} stopped itself after the outage; starting it again{Environment.NewLine}{silo.Tail()}");
                restarted.Add(silo.Name);
                silo.Start();
            }

            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
