using System.Diagnostics;
using System.Globalization;
using Actors.Broker;
using Actors.Testing;

namespace Actors.Bench;

/// <summary>
/// <c>failover</c>: three real Actors.Silo processes, a topic with RF 3 and min.insync.replicas 2, and one idempotent
/// acks=all producer sending small batches without pause. The leader's silo is SIGKILLed; the figure is the time from
/// the signal to the first produce acknowledged by the new leader (the producer retries the same batch, as a Kafka
/// producer does). The killed silo is restarted and rejoins the ISR before the next kill; at the end every
/// acknowledged record is read back, in order and without duplicates. The limit beside the figure is the detection
/// budget the silo's failure-detection defaults are chosen for (10 s). Options: <c>--kills N</c> (default 5).
/// </summary>
public sealed class FailoverBenchmark : IBenchmarkSuite
{
    private const string Topic = "failover";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    public string Name => "failover";

    public string Description => "time from SIGKILL of the leader's silo to the first acks=all produce acknowledged by the new leader (3 silo processes, RF 3)";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var i = Array.IndexOf(args, "--kills");
        var kills = i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 5;
        await using var cluster = await ProcessCluster.StartAsync(3, _ => { });
        var tp = new TopicPartition(Topic, 0);
        await Retry(() => cluster.Controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = Topic, NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
        }), "topic creation", cluster);
        await WaitInSync(cluster, tp);
        var pid = await Retry(() => cluster.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest()), "a producer id", cluster);
        var partition = cluster.Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));
        var acknowledged = 0;
        var sequence = 0;
        var timings = new List<double>();
        for (var kill = 0; kill < kills && !cancellationToken.IsCancellationRequested; kill++)
        {
            // Some traffic on the current leader first.
            for (var n = 0; n < 20; n++)
            {
                await ProduceUntilAcknowledgedAsync(partition, pid, acknowledged, sequence, cluster);
                acknowledged++;
                sequence++;
            }

            var state = await cluster.Controller.GetPartitionStateAsync(tp);
            var victim = cluster.Silo(state.Leader!);
            var clock = Stopwatch.StartNew();
            victim.Kill();
            await ProduceUntilAcknowledgedAsync(partition, pid, acknowledged, sequence, cluster);
            var ms = clock.Elapsed.TotalMilliseconds;
            acknowledged++;
            sequence++;
            timings.Add(ms);
            var after = await cluster.Controller.GetPartitionStateAsync(tp);
            Console.WriteLine(Inv($"kill {kill + 1}: leader {state.Leader} (epoch {state.LeaderEpoch}) killed; first acks=all produce acknowledged by {after.Leader} (epoch {after.LeaderEpoch}) after {ms:F0} ms"));
            victim.Start();
            await Wait.UntilAsync(() => victim.Started, TimeSpan.FromSeconds(90), $"{victim.Name} to restart", cluster.Tails);
            await WaitInSync(cluster, tp);
        }

        var read = await ReadAllAsync(partition, acknowledged, cluster);
        var expected = Enumerable.Range(0, acknowledged).Select(n => $"v{n}");
        var intact = read.SequenceEqual(expected);
        timings.Sort();
        var median = timings.Count == 0 ? 0 : timings.Count % 2 == 1 ? timings[timings.Count / 2] : (timings[(timings.Count / 2) - 1] + timings[timings.Count / 2]) / 2;
        Console.WriteLine(Inv($"failover kill-to-produce value={median:F0} unit=ms max={timings.LastOrDefault():F0} kills={timings.Count} limit={Budget.TotalMilliseconds:F0} ratio={median / Budget.TotalMilliseconds:F3} acknowledged={acknowledged} read_back={read.Count} intact={intact}"));
        if (!intact)
        {
            throw new InvalidOperationException($"Acknowledged records were lost or duplicated: {acknowledged} acknowledged, {read.Count} read back.");
        }
    }

    private static async Task ProduceUntilAcknowledgedAsync(IPartitionGrain partition, InitProducerIdResponse pid, int value, int sequence, ProcessCluster cluster)
    {
        var request = new ProduceRequest { Records = TextRecords.Batch([$"v{value}"], pid.ProducerId, pid.ProducerEpoch, sequence), Acks = -1, TimeoutMs = 5_000 };
        var deadline = Stopwatch.StartNew();
        var last = string.Empty;
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                var r = await partition.ProduceAsync(request);
                if (r.Error == ErrorCode.None)
                {
                    return;
                }

                if (!r.Error.IsRetriable())
                {
                    throw new InvalidOperationException($"produce of v{value} failed with the non-retriable {r.Error}: {r.ErrorMessage}");
                }

                last = $"{r.Error} {r.ErrorMessage}";
            }
            catch (Exception e) when (Transient.Is(e))
            {
                last = $"{e.GetType().Name}: {e.Message}";
            }

            // retry.backoff.ms
            await Task.Delay(50);
        }

        throw new TimeoutException($"v{value} not acknowledged within 60 s; last: {last}{Environment.NewLine}{cluster.Tails()}");
    }

    private static async Task<List<string>> ReadAllAsync(IPartitionGrain partition, int expected, ProcessCluster cluster)
    {
        var values = new List<string>();
        await Wait.UntilAsync(async () =>
        {
            try
            {
                var r = await partition.FetchAsync(new FetchRequest { FetchOffset = values.Count, MaxWaitMs = 100 });
                if (r.Error == ErrorCode.None)
                {
                    values.AddRange(TextRecords.Read(r.Records.Span, values.Count).Select(record => record.Value));
                }
            }
            catch (Exception e) when (Transient.Is(e))
            {
                // Retried.
            }

            return values.Count >= expected;
        }, TimeSpan.FromSeconds(60), $"{expected} records read back", cluster.Tails);
        return values;
    }

    private static Task WaitInSync(ProcessCluster cluster, TopicPartition tp) =>
        Wait.UntilAsync(async () =>
        {
            try
            {
                var s = await cluster.Controller.GetPartitionStateAsync(tp);
                return s.Isr.Length == 3 && s.Leader is not null;
            }
            catch (Exception e) when (Transient.Is(e))
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90), $"{tp}: all 3 replicas in sync", cluster.Tails);

    private static async Task<T> Retry<T>(Func<Task<T>> call, string what, ProcessCluster cluster)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (Transient.Is(e) && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }
            catch (Exception e) when (Transient.Is(e))
            {
                throw new TimeoutException($"{what} kept failing: {e.Message}{Environment.NewLine}{cluster.Tails()}", e);
            }
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
