using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using static Actors.Chaos.Tests.ChaosSupport;
using TopicPartition = Confluent.Kafka.TopicPartition;

namespace Actors.Chaos.Tests;

/// <summary>
/// A silo stopped (SIGSTOP) for longer than failure detection is declared dead; its partitions move and the ISRs shrink
/// without it. When it wakes it learns it is dead and exits; restarted, it must catch up and rejoin every ISR. The
/// chaos workload saw one partition stay at ISR 2 of RF 3 for 120 s after such a fault.
/// </summary>
public sealed class IsrRejoinTests(ITestOutputHelper output)
{
    private const string Topic = "rejoin";
    private const int Partitions = 6;

    [Fact]
    public async Task A_silo_stopped_past_failure_detection_then_restarted_rejoins_every_ISR_while_producers_write()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine,
            environment: new Dictionary<string, string> { ["Logging__LogLevel__Actors.Broker"] = "Information" });
        await CreateTopicAsync(cluster, Topic, Partitions);
        await UntilAsync("every ISR to hold all three silos after creation", TimeSpan.FromSeconds(120), cluster.Tails, () => HealthAsync(cluster, Topic, Partitions));

        using var stop = new CancellationTokenSource();
        var acked = 0;
        var fatal = new List<string>();
        var producing = Task.Run(async () =>
        {
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = Bootstrap(cluster), EnableIdempotence = true, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 120_000,
            }).SetErrorHandler((_, e) =>
            {
                if (e.IsFatal)
                {
                    lock (fatal)
                    {
                        fatal.Add($"{e.Code}: {e.Reason}");
                    }
                }
            }).Build();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                producer.Produce(new TopicPartition(Topic, i % Partitions), new Message<Null, string> { Value = $"v{i}" }, r =>
                {
                    if (!r.Error.IsError)
                    {
                        Interlocked.Increment(ref acked);
                    }
                });

                // Pacing of the workload, not a wait for a condition.
                await Task.Delay(5, CancellationToken.None);
            }

            producer.Flush(TimeSpan.FromSeconds(60));
        });

        await UntilAsync("the first acknowledgements", TimeSpan.FromSeconds(60), cluster.Tails,
            () => Task.FromResult((Volatile.Read(ref acked) >= 100, $"{Volatile.Read(ref acked)} acks")));

        var states = await StatesAsync(cluster, Topic, Partitions);
        var victim = cluster.Silo(states[0].Leader!);
        var starts = victim.Logged($"Silo {victim.Name} started at").Length;
        output.WriteLine($"SIGSTOP {victim.Name} (pid {victim.Pid}), leader of p0: {Describe(states)}");
        victim.Freeze();
        await UntilAsync($"{victim.Name} to be out of every partition's leadership and ISR while stopped", TimeSpan.FromSeconds(90), cluster.Tails, async () =>
        {
            var now = await StatesAsync(cluster, Topic, Partitions);
            return (now.All(s => s.Leader is not null && s.Leader != victim.Name && !s.Isr.Contains(victim.Name)), Describe(now));
        });

        output.WriteLine($"SIGCONT {victim.Name}");
        victim.Thaw();
        var restarted = false;
        await UntilAsync($"{victim.Name} to be back (restarted if it exited) and every ISR to hold all three silos", TimeSpan.FromSeconds(90), cluster.Tails, async () =>
        {
            if (!victim.Running)
            {
                // Declared dead while stopped, it exits when it wakes; it comes back as a new incarnation.
                output.WriteLine($"{victim.Name} exited after waking; restart");
                victim.Start();
                restarted = true;
            }

            if (restarted && victim.Logged($"Silo {victim.Name} started at").Length <= starts)
            {
                return (false, $"{victim.Name} restarted, not yet Active");
            }

            return await HealthAsync(cluster, Topic, Partitions);
        });

        await stop.CancelAsync();
        await producing;
        Assert.True(fatal.Count == 0, $"the idempotent producer failed fatally: {string.Join("; ", fatal)}");
        output.WriteLine($"{acked} records acknowledged; {victim.Name} {(restarted ? "restarted" : "woke")} and rejoined every ISR");
    }
}
