using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Broker;

/// <summary>
/// Crash recovery of a real silo process: records are written, the silo's periodic checkpoint moves the recovery
/// point as segments roll, the process is SIGKILLed and started again over its log.dirs. It rescans only the segment
/// after the recovery point (not the whole log, as before runtime checkpoints) and serves every record.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SiloProcessLogRecoveryTests(ITestOutputHelper output)
{
    private static readonly TopicPartition Orders = new("orders", 0);

    [Fact]
    public async Task A_SIGKILLed_silo_rescans_only_the_tail_after_its_checkpointed_recovery_point_and_keeps_every_record()
    {
        const int records = 300;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Actors__Broker__ReplicaHighWatermarkCheckpointIntervalMs"] = "200",
            ["Logging__LogLevel__Actors.Broker.Logs"] = "Information",
        };
        await using var cluster = await ProcessCluster.StartAsync(2, output.WriteLine, environment: environment);
        await ClusterPolling.UntilAsync("topic orders created (RF 1, 4 KiB segments)", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            try
            {
                await cluster.Controller.CreateTopicAsync(new CreateTopicRequest
                {
                    Name = Orders.Topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["segment.bytes"] = "4096" },
                });
            }
            catch (BrokerException e) when (e.Code == ErrorCode.TopicAlreadyExists)
            {
                // An earlier attempt went through but its answer was lost.
            }

            return (true, "created");
        });
        var state = await ClusterPolling.UntilAsync("orders-0 to have a leader", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            var s = await cluster.Controller.GetPartitionStateAsync(Orders);
            return (s.Leader is not null, s, s.ToString());
        });

        // An idempotent producer: a retry after a slow or lost answer is not written twice.
        var producer = new PartitionProducer(cluster, Orders, await ClusterPolling.InitProducerIdAsync(cluster), acks: 1);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (producer.Acknowledged.Count < records)
        {
            await producer.ProduceAsync(1, deadline, cluster.Tails);
        }

        var written = await ClusterPolling.ReadAsync(cluster, Orders, records, TimeSpan.FromSeconds(30));
        Assert.Equal(producer.Acknowledged, written.Take(records).Select(r => r.Value));

        // The rolls flush closed segments and the checkpoint loop writes the recovery point: no clean close needed.
        var victim = cluster.Silo(state.Leader!);
        var directory = Path.Combine(cluster.Folder, victim.Name, "logs", LogManagerDirectory);
        long activeBase = 0;
        await Wait.UntilAsync(() =>
            {
                activeBase = Directory.GetFiles(directory, "*.log").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)).Max();
                return activeBase > 0 && ReadOrEmpty(Path.Combine(directory, "recovery-point-offset-checkpoint")) == $"0\n{activeBase}\n";
            },
            TimeSpan.FromSeconds(30), "the recovery-point checkpoint on disk to reach the active segment",
            () => $"active segment base {activeBase}, checkpoint '{ReadOrEmpty(Path.Combine(directory, "recovery-point-offset-checkpoint")).Replace('\n', ' ')}'");
        var segments = Directory.GetFiles(directory, "*.log").Length;
        Assert.True(segments >= 3, $"expected several segments, found {segments}");

        static bool IsOpenedLine(string l) => l.Contains("Opened log", StringComparison.Ordinal) && l.Contains(LogManagerDirectory, StringComparison.Ordinal);
        var openedBefore = victim.Logged("Opened log").Count(IsOpenedLine);
        victim.Kill();
        victim.Start();
        await Wait.UntilAsync(() => victim.Logged("Opened log").Count(IsOpenedLine) > openedBefore, TimeSpan.FromSeconds(120),
            $"the restarted {victim.Name} to open orders-0", cluster.Tails);
        var opened = victim.Logged("Opened log").Where(IsOpenedLine).Last();
        output.WriteLine(opened);
        Assert.Contains("clean shutdown False", opened, StringComparison.Ordinal);
        Assert.Contains($"offsets [0, {records})", opened, StringComparison.Ordinal);
        Assert.Contains($"{segments} segments, 1 scanned", opened, StringComparison.Ordinal);

        var read = await ClusterPolling.ReadAsync(cluster, Orders, records, TimeSpan.FromSeconds(90));
        Assert.Equal(producer.Acknowledged, read.Take(records).Select(r => r.Value));
    }

    private const string LogManagerDirectory = "orders-0";

    private static string ReadOrEmpty(string path) => File.Exists(path) ? File.ReadAllText(path) : string.Empty;
}
