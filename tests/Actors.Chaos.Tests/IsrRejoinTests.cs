using Actors.Log;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using static Actors.Chaos.Tests.ChaosSupport;
using BrokerTopicPartition = Actors.Broker.TopicPartition;

namespace Actors.Chaos.Tests;

/// <summary>
/// A silo that led a partition for an epoch in which it appended nothing, stopped (SIGSTOP) past failure detection
/// while another silo took over at a newer epoch, then restarted, must rejoin the ISR. The chaos workload saw a
/// partition stay at ISR 2 of RF 3 for 120 s after such a fault: the restarted replica kept its empty epoch in its
/// leader-epoch cache, asked the new leader with it, and was answered "diverging at your own log end" forever (the
/// truncation to its end was skipped as a no-op), so it never fetched again and never caught up. Kafka drops such an
/// epoch entry even when the truncation cuts no batch.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class IsrRejoinTests(ITestOutputHelper output)
{
    private const string Topic = "rejoin";

    /// <summary>The log itself: truncating at its end drops an epoch that starts there and holds no batch, and the
    /// change is in the checkpoint a restart reads.</summary>
    [Fact]
    public void Truncating_at_the_log_end_drops_an_epoch_begun_there_with_no_batch()
    {
        using var folder = new TempDirectory("empty-epoch");
        var directory = folder.File("rejoin-0");
        using (var log = PartitionLog.Open(directory, new LogConfig(), TimeProvider.System))
        {
            log.AssignLeaderEpoch(0);
            log.AppendAsLeader(TextRecords.Batch(["a", "b", "c"]), 0);
            log.AssignLeaderEpoch(1);
            Assert.Equal(1, log.LatestEpoch);

            log.TruncateTo(log.LogEndOffset);

            Assert.Equal(0, log.LatestEpoch);
            Assert.Equal((0, 3L), log.EndOffsetForEpoch(0));
            Assert.Equal(3, log.LogEndOffset);
        }

        using var reopened = PartitionLog.Open(directory, new LogConfig(), TimeProvider.System);
        Assert.Equal(0, reopened.LatestEpoch);
        Assert.Equal(3, reopened.LogEndOffset);
    }

    [Fact]
    public async Task A_leader_stopped_past_failure_detection_before_its_first_append_rejoins_the_ISR_after_restart()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine,
            environment: new Dictionary<string, string> { ["Logging__LogLevel__Actors.Broker"] = "Information" });
        await CreateTopicAsync(cluster, Topic, 1);
        await UntilAsync("the ISR to hold all three silos after creation", TimeSpan.FromSeconds(120), cluster.Tails, () => HealthAsync(cluster, Topic, 1));

        // Ten records at the first leader's epoch; nothing is written after them, so every later leader's epoch is empty.
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Bootstrap(cluster), EnableIdempotence = true, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(new Confluent.Kafka.TopicPartition(Topic, 0), new Message<Null, string> { Value = $"v{i}" });
            }
        }

        // A new leader: SIGKILL the first one and restart it (it comes back as a follower).
        var first = (await StatesAsync(cluster, Topic, 1))[0];
        var firstLeader = cluster.Silo(first.Leader!);
        output.WriteLine($"SIGKILL {firstLeader.Name} (leader at epoch {first.LeaderEpoch}) and restart");
        firstLeader.Kill();
        firstLeader.Start();
        var second = await LeadingAsync(cluster, s => s.LeaderEpoch > first.LeaderEpoch && s.Leader != firstLeader.Name, "a new leader after the SIGKILL");
        await UntilAsync("the ISR to hold all three silos again", TimeSpan.FromSeconds(120), cluster.Tails, () => HealthAsync(cluster, Topic, 1));

        // The new leader began its epoch and appended nothing in it. Stop it past failure detection: a third leader.
        var victim = cluster.Silo(second.Leader!);
        output.WriteLine($"SIGSTOP {victim.Name} (leader at epoch {second.LeaderEpoch}, no append in it)");
        victim.Freeze();
        var third = await LeadingAsync(cluster, s => s.LeaderEpoch > second.LeaderEpoch && s.Leader is not null && s.Leader != victim.Name && !s.Isr.Contains(victim.Name),
            $"a leader other than the stopped {victim.Name}, and {victim.Name} out of the ISR");
        output.WriteLine($"SIGCONT {victim.Name}; {third.Leader} leads at epoch {third.LeaderEpoch}");
        victim.Thaw();

        await UntilBackInIsrAsync(cluster, victim, Topic, 1, output.WriteLine, TimeSpan.FromSeconds(90));
    }

    /// <summary>Waits until the controller's state of the partition satisfies <paramref name="wanted"/> and the named
    /// leader serves at that epoch (so it has begun the epoch in its log).</summary>
    private static Task<PartitionState> LeadingAsync(ProcessCluster cluster, Func<PartitionState, bool> wanted, string what) =>
        UntilAsync<PartitionState>(what, TimeSpan.FromSeconds(90), cluster.Tails, async () =>
        {
            var state = await cluster.Controller.GetPartitionStateAsync(new BrokerTopicPartition(Topic, 0));
            if (!wanted(state))
            {
                return (false, state, Describe([state]));
            }

            var status = await cluster.Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new BrokerTopicPartition(Topic, 0))).GetStatusAsync();
            return (status.Error == ErrorCode.None && status.State?.LeaderEpoch == state.LeaderEpoch, state,
                $"{Describe([state])}; the partition grain answers {status.Error} at epoch {status.State?.LeaderEpoch}");
        });
}
