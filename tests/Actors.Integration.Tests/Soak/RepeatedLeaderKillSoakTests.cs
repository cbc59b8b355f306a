using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Soak;

/// <summary>
/// A long run, out of the default test command (<c>dotnet test Actors.sln -c Release --filter Category=Soak</c>):
/// three silo processes, three RF 3 partitions with min.insync.replicas 2 and an idempotent acks=all producer on each;
/// round after round the silo leading partition 0 is SIGKILLed while every producer keeps going, then started again and
/// awaited back in every ISR. At the end every acknowledged record of every partition is read back once, in order.
/// Rounds: <c>ACTORS_SOAK_ROUNDS</c> (default 20).
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", "Soak")]
public sealed class RepeatedLeaderKillSoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Repeated_SIGKILLs_of_a_leader_under_idempotent_acks_all_producers_lose_and_duplicate_nothing()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("ACTORS_SOAK_ROUNDS"), out var r) ? r : 20;
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        const string topic = "soak";
        var states = await ClusterPolling.CreateTopicAsync(cluster, topic, 3, replicationFactor: 3, minInsyncReplicas: 2);
        var producerId = await ClusterPolling.InitProducerIdAsync(cluster);
        var producers = states.Select(p => new PartitionProducer(cluster, p.TopicPartition, producerId, acks: -1)).ToArray();
        var recoveries = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            foreach (var producer in producers)
            {
                await producer.ProduceAsync(3, deadline, cluster.Tails);
            }

            var leader = (await cluster.Controller.GetPartitionStateAsync(producers[0].Partition)).Leader!;
            var victim = cluster.Silo(leader);
            var clock = Stopwatch.StartNew();
            victim.Kill();
            foreach (var producer in producers)
            {
                await producer.ProduceAsync(3, deadline, cluster.Tails);
            }

            var acknowledgedAgain = clock.Elapsed.TotalMilliseconds;
            recoveries.Add(acknowledgedAgain);
            victim.Start();
            await ClusterPolling.UntilAsync($"round {round}: {victim.Name} back in every ISR of {topic}", TimeSpan.FromSeconds(90), cluster.Tails, async () =>
            {
                var now = await ClusterPolling.PartitionStatesAsync(cluster, topic, producers.Length);
                return (now.All(p => p.Isr.Length == 3), string.Join("; ", now.Select(p => p.ToString())));
            });
            output.WriteLine($"round {round}: killed {leader}; every partition acknowledged again {acknowledgedAgain:0} ms after the kill, all back in sync after {clock.Elapsed.TotalMilliseconds:0} ms");
        }

        foreach (var producer in producers)
        {
            var read = await ClusterPolling.ReadAsync(cluster, producer.Partition, producer.Acknowledged.Count, TimeSpan.FromSeconds(30));
            Assert.Equal(producer.Acknowledged, read.Select(x => x.Value));
            Assert.Equal(Enumerable.Range(0, read.Count).Select(i => (long)i), read.Select(x => x.Offset));
        }

        recoveries.Sort();
        output.WriteLine($"{rounds} kills: every partition acknowledged again after median {recoveries[recoveries.Count / 2]:0} ms, max {recoveries[^1]:0} ms; " +
            $"{producers.Sum(p => p.Acknowledged.Count)} records acknowledged and read back, {producers.Sum(p => p.Retries)} retried attempts");
    }
}
