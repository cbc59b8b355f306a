using System.Diagnostics;
using Actors.Testing;

namespace Actors.Integration.Tests.Processes;

/// <summary>
/// What the process tests do against a <see cref="ProcessCluster"/>: poll a condition with a deadline (transient
/// failures and slow calls count as "not yet"), create a topic once every silo is Active, wait for full ISRs,
/// produce idempotently until acknowledged, and read a partition back. Every timeout names what was awaited, what
/// was seen last and the silos' output.
/// </summary>
internal static class ClusterPolling
{
    /// <summary>How long one polled call may take before the poll moves on (a call to a silo that just died would
    /// otherwise hold the poll until the client's response timeout).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Polls <paramref name="attempt"/> until it is done or <paramref name="timeout"/> passes; the failure
    /// names <paramref name="what"/>, the last thing seen and <paramref name="tails"/>().</summary>
    public static async Task<T> UntilAsync<T>(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, T Value, string Seen)>> attempt)
    {
        var clock = Stopwatch.StartNew();
        var seen = "nothing yet";
        while (true)
        {
            try
            {
                var (done, value, last) = await attempt().WaitAsync(CallTimeout);
                if (done)
                {
                    return value;
                }

                seen = last;
            }
            catch (Exception e) when (Transient.Is(e))
            {
                seen = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last seen: {seen}{Environment.NewLine}{tails()}");
            }

            await Task.Delay(50);
        }
    }

    public static Task UntilAsync(string what, TimeSpan timeout, Func<string> tails, Func<Task<(bool Done, string Seen)>> attempt) =>
        UntilAsync<bool>(what, timeout, tails, async () =>
        {
            var (done, seen) = await attempt();
            return (done, done, seen);
        });

    /// <summary>Creates the topic once the controller sees <paramref name="replicationFactor"/> Active silos, then
    /// waits until every partition has a leader and all its replicas in the ISR.</summary>
    public static async Task<PartitionState[]> CreateTopicAsync(ProcessCluster cluster, string topic, int partitions, short replicationFactor, int minInsyncReplicas)
    {
        await UntilAsync($"topic {topic} created with {partitions} partitions, replication factor {replicationFactor}", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            try
            {
                await cluster.Controller.CreateTopicAsync(new CreateTopicRequest
                {
                    Name = topic,
                    NumPartitions = partitions,
                    ReplicationFactor = replicationFactor,
                    Configs = new() { ["min.insync.replicas"] = minInsyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                });
            }
            catch (BrokerException e) when (e.Code == ErrorCode.TopicAlreadyExists)
            {
                // An earlier attempt went through but its answer was lost.
            }

            return (true, "created");
        });

        return await UntilAsync($"every partition of {topic} to have a leader and {replicationFactor} replicas in its ISR", TimeSpan.FromSeconds(60), cluster.Tails, async () =>
        {
            var states = await PartitionStatesAsync(cluster, topic, partitions);
            var done = states.All(s => s.Leader is not null && s.Isr.Length == replicationFactor);
            return (done, states, string.Join("; ", states.Select(s => s.ToString())));
        });
    }

    public static async Task<PartitionState[]> PartitionStatesAsync(ProcessCluster cluster, string topic, int partitions) =>
        await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => cluster.Controller.GetPartitionStateAsync(new TopicPartition(topic, p))));

    /// <summary>A fresh producer id (the producer-id grain may be moving after a failure).</summary>
    public static Task<InitProducerIdResponse> InitProducerIdAsync(ProcessCluster cluster) =>
        UntilAsync("a producer id", TimeSpan.FromSeconds(30), cluster.Tails, async () =>
        {
            var r = await cluster.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
            return (r.Error == ErrorCode.None, r, r.Error.ToString());
        });

    /// <summary>Reads <paramref name="partition"/> from offset 0 until <paramref name="count"/> records are read.</summary>
    public static async Task<List<(long Offset, string Value)>> ReadAsync(ProcessCluster cluster, TopicPartition partition, int count, TimeSpan timeout)
    {
        var grain = cluster.Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(partition));
        var read = new List<(long Offset, string Value)>();
        await UntilAsync($"{count} records read back from {partition}", timeout, cluster.Tails, async () =>
        {
            var from = read.Count;
            var r = await grain.FetchAsync(new FetchRequest { FetchOffset = from, MaxWaitMs = 200 });
            if (r.Error != ErrorCode.None)
            {
                Assert.True(r.Error.IsRetriable(), $"fetch of {partition} at offset {from} failed with the non-retriable {r.Error}: {r.ErrorMessage}");
                return (false, $"{r.Error} at offset {from}");
            }

            // A fetch the poll gave up on (slower than CallTimeout) may still answer after a retry from the same
            // offset did: only the answer that continues the list is kept, or its records would be added twice.
            lock (read)
            {
                if (read.Count == from)
                {
                    read.AddRange(TextRecords.Read(r.Records.Span, from));
                }
            }

            return (read.Count >= count, $"{read.Count} records, high watermark {r.HighWatermark}");
        });

        return read;
    }

    /// <summary>One idempotent record batch of UTF-8 <paramref name="values"/>.</summary>
    public static byte[] Batch(IReadOnlyList<string> values, long producerId, short producerEpoch, int baseSequence) =>
        TextRecords.Batch(values, producerId, producerEpoch, baseSequence);
}

/// <summary>An idempotent producer for one partition of values "{partition}-{n}": each batch is retried with the same
/// sequence until it is acknowledged (a batch not acknowledged by one call's deadline is the first one the next call
/// sends), so a retry after a lost answer is not a duplicate.</summary>
internal sealed class PartitionProducer(ProcessCluster cluster, TopicPartition partition, InitProducerIdResponse producerId, short acks)
{
    private readonly IPartitionGrain grain = cluster.Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(partition));
    private (string[] Values, byte[] Batch)? pending;
    private int sequence;

    public TopicPartition Partition => partition;

    /// <summary>The values acknowledged so far, in order.</summary>
    public List<string> Acknowledged { get; } = [];

    /// <summary>Attempts that failed (an error answer, a transient exception or a slow answer) and were retried.</summary>
    public int Retries { get; private set; }

    public string LastError { get; private set; } = "none";

    /// <summary>Produces the next <paramref name="count"/> values as one batch (or the batch still pending from an
    /// earlier call), retrying until acknowledged; false if <paramref name="deadline"/> passed first.</summary>
    public async Task<bool> TryProduceAsync(int count, DateTime deadline)
    {
        if (pending is null)
        {
            var values = Enumerable.Range(Acknowledged.Count, count).Select(i => $"{partition.Partition}-{i}").ToArray();
            pending = (values, ClusterPolling.Batch(values, producerId.ProducerId, producerId.ProducerEpoch, sequence));
        }

        var (pendingValues, pendingBatch) = pending.Value;

        while (true)
        {
            try
            {
                var r = await grain.ProduceAsync(new ProduceRequest { Records = pendingBatch, Acks = acks, TimeoutMs = 2_000 }).WaitAsync(TimeSpan.FromSeconds(3));
                if (r.Error == ErrorCode.None)
                {
                    Acknowledged.AddRange(pendingValues);
                    sequence += pendingValues.Length;
                    pending = null;
                    return true;
                }

                Assert.True(r.Error.IsRetriable(), $"produce to {partition} at sequence {sequence} failed with the non-retriable {r.Error}: {r.ErrorMessage}");
                LastError = $"{r.Error} {r.ErrorMessage}";
            }
            catch (Exception e) when (Transient.Is(e))
            {
                LastError = $"{e.GetType().Name}: {e.Message}";
            }

            Retries++;
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            // Retry backoff, as a producer's retry.backoff.ms.
            await Task.Delay(50);
        }
    }

    /// <summary>As <see cref="TryProduceAsync"/>, failing the test at the deadline.</summary>
    public async Task ProduceAsync(int count, DateTime deadline, Func<string> tails)
    {
        if (!await TryProduceAsync(count, deadline))
        {
            Assert.Fail($"Timed out waiting for a produce to {partition} at sequence {sequence} to be acknowledged ({Acknowledged.Count} acknowledged); last error: {LastError}{Environment.NewLine}{tails()}");
        }
    }
}
