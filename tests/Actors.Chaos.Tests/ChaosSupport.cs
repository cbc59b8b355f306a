using System.Diagnostics;
using Actors.Testing;
using Actors.Broker;
using Confluent.Kafka;

namespace Actors.Chaos.Tests;

/// <summary>What the chaos tests share: topic creation, the controller's view of a topic's health, and polling with
/// a deadline that names what was awaited.</summary>
internal static class ChaosSupport
{
    /// <summary>The bootstrap list of the running silos.</summary>
    public static string Bootstrap(ProcessCluster cluster) =>
        string.Join(',', cluster.Silos.Where(s => s.Running).Select(s => s.Bootstrap));

    /// <summary>Creates <paramref name="topic"/> with replication factor 3 and min.insync.replicas 2 once all three
    /// silos are Active (an earlier attempt whose answer was lost counts as done).</summary>
    public static Task CreateTopicAsync(ProcessCluster cluster, string topic, int partitions) =>
        UntilAsync($"topic {topic} created with replication factor 3 (all three silos Active)", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            try
            {
                await cluster.Controller.CreateTopicAsync(new CreateTopicRequest
                {
                    Name = topic, NumPartitions = partitions, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
                });
            }
            catch (BrokerException e) when (e.Code == ErrorCode.TopicAlreadyExists)
            {
                // An earlier attempt went through but its answer was lost.
            }

            return (true, "created");
        });

    /// <summary>The controller's state of every partition of <paramref name="topic"/>.</summary>
    public static async Task<PartitionState[]> StatesAsync(ProcessCluster cluster, string topic, int partitions)
    {
        var states = new PartitionState[partitions];
        for (var p = 0; p < partitions; p++)
        {
            states[p] = await cluster.Controller.GetPartitionStateAsync(new Actors.Broker.TopicPartition(topic, p));
        }

        return states;
    }

    /// <summary>Whether every partition has a leader and all three replicas in its ISR, as the controller sees it (each
    /// state seen is written to <paramref name="recorder"/> when given).</summary>
    public static async Task<(bool Done, string Seen)> HealthAsync(ProcessCluster cluster, string topic, int partitions, HistoryRecorder? recorder = null)
    {
        var states = await StatesAsync(cluster, topic, partitions);
        foreach (var s in states)
        {
            recorder?.State(s.Partition, s.Leader, s.LeaderEpoch);
        }

        return (states.All(s => s.Leader is not null && s.Isr.Length == 3), Describe(states));
    }

    /// <summary>Waits until <paramref name="silo"/> is Active and back in the ISR of every partition of
    /// <paramref name="topic"/>, starting it again if it has exited (a silo declared dead while stopped or cut off exits
    /// once it can tell).</summary>
    /// <param name="fault">The fault the silo comes back from (e.g. "fault 3: SIGKILL s2"), for the restart's log line and a timeout's message.</param>
    /// <param name="samePorts">Restart on the ports of the silo's last start (<see cref="BrokerProcess.Restart"/>), not on new ones.</param>
    /// <param name="restartedSince">When the caller has already restarted the silo: how many start lines it had logged
    /// before that restart (it counts as back only once it logs a new one).</param>
    /// <param name="recorder">Records every partition state seen in the history.</param>
    public static Task UntilBackInIsrAsync(
        ProcessCluster cluster, BrokerProcess silo, string topic, int partitions, Action<string> log, TimeSpan timeout,
        string? fault = null, bool samePorts = false, int? restartedSince = null, HistoryRecorder? recorder = null)
    {
        var startLine = $"Silo {silo.Name} started at";
        var starts = restartedSince ?? silo.Logged(startLine).Length;
        var restarted = restartedSince is not null;
        var after = fault is null ? string.Empty : $" after {fault}";
        return UntilAsync($"{silo.Name} (restarted if it exited) to be Active and back in every ISR of {topic}{after}", timeout, cluster.Tails, async () =>
        {
            if (!silo.Running)
            {
                // Declared dead while stopped or cut off, it exits once it learns it; it comes back as a new incarnation.
                log($"{(fault is null ? string.Empty : fault + ": ")}{silo.Name} exited (declared dead while stopped or cut off); restart");
                if (samePorts)
                {
                    silo.Restart();
                }
                else
                {
                    silo.Start();
                }

                restarted = true;
            }

            if (restarted && silo.Logged(startLine).Length <= starts)
            {
                return (false, $"{silo.Name} restarted, not yet Active");
            }

            return await HealthAsync(cluster, topic, partitions, recorder);
        });
    }

    public static string Describe(IEnumerable<PartitionState> states) =>
        string.Join("; ", states.Select(s => $"p{s.Partition} leader {s.Leader ?? "none"} epoch {s.LeaderEpoch}/{s.PartitionEpoch} isr [{string.Join(',', s.Isr)}]"));

    public static Task UntilAsync(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, string Seen)>> attempt) =>
        UntilAsync<bool>(what, timeout, tails, async () =>
        {
            var (done, seen) = await attempt();
            return (done, done, seen);
        });

    /// <summary>Polls <paramref name="attempt"/> until it is done or <paramref name="timeout"/> passes (a transient
    /// failure or a call slower than 5 s counts as "not yet"); the failure names what was awaited and what was seen last.</summary>
    public static async Task<T> UntilAsync<T>(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, T Value, string Seen)>> attempt)
    {
        var clock = Stopwatch.StartNew();
        var seen = "nothing yet";
        while (true)
        {
            try
            {
                var (done, value, last) = await attempt().WaitAsync(TimeSpan.FromSeconds(5));
                if (done)
                {
                    return value;
                }

                seen = last;
            }
            catch (Exception e) when (Transient.Is(e) || e is KafkaException or TimeoutException)
            {
                seen = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; last seen: {seen}{Environment.NewLine}{tails()}");
            }

            await Task.Delay(100);
        }
    }
}
