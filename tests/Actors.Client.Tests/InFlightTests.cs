using System.Globalization;
using System.Text;
using Actors.Broker;

namespace Actors.Client.Tests;

/// <summary>
/// The producer with several batches in flight per partition (max.in.flight.requests.per.connection, 5 by default):
/// order and exactly-once writes with the idempotent producer, also when a batch overtakes an earlier one on its
/// way to the partition grain (forced through the producer's transport hook) and when a batch fails for good.
/// </summary>
[Collection(ClientClusterCollection.Name)]
public class InFlightTests(ClientCluster cluster)
{
    private static string Text(byte[]? bytes) => Encoding.UTF8.GetString(bytes!);

    private IProducer<TKey, TValue> Producer<TKey, TValue>(Dictionary<string, string> config, ProduceTransport transport) =>
        new ActorsProducerBuilder<TKey, TValue>(config, cluster.Client) { Transport = transport }.Build();

    [Fact]
    public async Task Per_key_order_holds_with_five_batches_in_flight()
    {
        var topic = await cluster.TopicAsync("inflight", 2);

        // Small batches, so each partition has many, and a count of the calls out at once per partition.
        var outNow = new int[2];
        var mostOut = new int[2];
        using var producer = Producer<string, string>(new() { ["linger.ms"] = "1", ["batch.size"] = "2000" }, async (attempt, send) =>
        {
            var now = Interlocked.Increment(ref outNow[attempt.Partition]);
            InterlockedMax(ref mostOut[attempt.Partition], now);
            try
            {
                return await send();
            }
            finally
            {
                Interlocked.Decrement(ref outNow[attempt.Partition]);
            }
        });

        var sends = new List<Task<DeliveryResult<string, string>>>();
        for (var i = 0; i < 5_000; i++)
        {
            sends.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = $"key-{i % 7}", Value = i.ToString(CultureInfo.InvariantCulture) }));
        }

        var results = await Task.WhenAll(sends);
        Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        Assert.True(mostOut.Max() > 1, $"at most {mostOut.Max()} batch was in flight per partition; the test needs several");

        var total = 0;
        for (var p = 0; p < 2; p++)
        {
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var r in await cluster.RecordsAsync(topic, p))
            {
                var key = Text(r.Key);
                var value = int.Parse(Text(r.Value), CultureInfo.InvariantCulture);
                Assert.True(!last.TryGetValue(key, out var before) || before < value, $"{key}: {value} stored after {before} in partition {p}");
                last[key] = value;
                total++;
            }
        }

        Assert.Equal(5_000, total);
        foreach (var group in results.GroupBy(r => r.Message.Key))
        {
            var offsets = group.Select(r => r.Offset.Value).ToArray();
            Assert.Equal(offsets.Order(), offsets);
        }
    }

    [Fact]
    public async Task A_batch_that_overtakes_an_earlier_one_is_refused_sent_again_and_lands_once_in_order()
    {
        var topic = await cluster.TopicAsync("overtake", 1);
        var overtake = new Overtake();

        // batch.size 1: every record is a batch of its own.
        using var producer = Producer<Null, string>(OvertakeConfig(), overtake.SendAsync);
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "first" });

        overtake.Arm();
        var sends = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" })).ToArray();
        var results = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(60));

        // The overtaking batch really reached the partition first: it was refused for its sequence.
        Assert.Equal(BrokerErrorCode.OutOfOrderSequenceNumber, overtake.SecondAnswer);

        var stored = await cluster.RecordsAsync(topic, 0);
        Assert.Equal(new[] { "first" }.Concat(Enumerable.Range(0, 10).Select(i => $"v{i}")), stored.Select(r => Text(r.Value)));
        foreach (var r in results)
        {
            Assert.Equal(PersistenceStatus.Persisted, r.Status);
            Assert.Equal(r.Message.Value, Text(stored.Single(s => s.Offset == r.Offset.Value).Value));
        }
    }

    [Fact]
    public async Task A_retried_batch_among_others_in_flight_is_written_once_and_reports_its_original_offset()
    {
        var topic = await cluster.TopicAsync("resend", 1);

        // Every third batch's first answer is lost after the partition wrote it, while the batches after it are in flight.
        var lost = 0;
        var calls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var producer = Producer<Null, string>(new() { ["linger.ms"] = "1", ["batch.size"] = "1" }, async (attempt, send) =>
        {
            var answer = await send();
            calls.Enqueue($"{attempt.Number}.{attempt.Attempt}:{answer.Error}");
            if (attempt.Attempt == 0 && attempt.Number % 3 == 1)
            {
                Interlocked.Increment(ref lost);
                throw new TimeoutException($"Test hook: the answer for batch {attempt.Number} was lost.");
            }

            return answer;
        });
        var sends = Enumerable.Range(0, 60).Select(i => producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" })).ToArray();
        await Task.WhenAny(Task.WhenAll(sends), Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(sends.All(s => s.IsCompleted), $"{sends.Count(s => s.IsCompleted)} of 60 deliveries reported within 60 s; {lost} answers dropped; calls: {string.Join(' ', calls)}");
        var results = await Task.WhenAll(sends);
        Assert.True(lost >= 10, $"only {lost} answers were dropped");

        var stored = await cluster.RecordsAsync(topic, 0);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"v{i}"), stored.Select(r => Text(r.Value)));
        foreach (var r in results)
        {
            Assert.Equal(PersistenceStatus.Persisted, r.Status);
            Assert.Equal(r.Message.Value, Text(stored.Single(s => s.Offset == r.Offset.Value).Value));
        }
    }

    [Fact]
    public async Task When_a_batch_fails_for_good_the_later_ones_are_resequenced_and_land_once_in_order()
    {
        var topic = await cluster.TopicAsync("gap", 1);
        var overtake = new Overtake { FailFirst = true };
        using var producer = Producer<Null, string>(OvertakeConfig(), overtake.SendAsync);
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "first" });

        overtake.Arm();
        var sends = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" })).ToArray();
        await Task.WhenAny(Task.WhenAll(sends), Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.All(sends, s => Assert.True(s.IsCompleted, "a delivery was not reported within 60 s"));

        // v0 was held until v1 was refused (its sequence follows v0's), then its call failed without reaching the
        // partition: v0 fails, and v1…v9 go again under the producer's next id.
        Assert.Equal(BrokerErrorCode.OutOfOrderSequenceNumber, overtake.SecondAnswer);
        var failed = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => sends[0]);
        Assert.Contains("Test hook", failed.Message + failed.InnerException?.Message, StringComparison.Ordinal);
        var stored = await cluster.RecordsAsync(topic, 0);
        Assert.Equal(new[] { "first" }.Concat(Enumerable.Range(1, 9).Select(i => $"v{i}")), stored.Select(r => Text(r.Value)));
        foreach (var r in await Task.WhenAll(sends.Skip(1)))
        {
            Assert.Equal(PersistenceStatus.Persisted, r.Status);
            Assert.Equal(r.Message.Value, Text(stored.Single(s => s.Offset == r.Offset.Value).Value));
        }
    }

    /// <summary>One record per batch; and a short request timeout, because the partition holds a batch that arrives
    /// ahead of its producer's earlier one until the request's deadline before it refuses it as out of order (the
    /// earlier one usually arrives meanwhile), and the hook holds the earlier one until that refusal.</summary>
    private static Dictionary<string, string> OvertakeConfig() => new() { ["linger.ms"] = "1", ["batch.size"] = "1", ["request.timeout.ms"] = "2000" };

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    /// <summary>Once armed, holds the first call until the answer to the second call is back, so the second batch
    /// reaches the partition first; then sends the first (or, with <see cref="FailFirst"/>, fails it unsent).</summary>
    private sealed class Overtake
    {
        private readonly TaskCompletionSource secondAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int armed;
        private int seen;

        public bool FailFirst { get; init; }

        public BrokerErrorCode? SecondAnswer { get; private set; }

        public void Arm() => Volatile.Write(ref armed, 1);

        public async Task<ProduceResponse> SendAsync(SendAttempt attempt, Func<Task<ProduceResponse>> send)
        {
            if (Volatile.Read(ref armed) == 0 || attempt.Attempt > 0)
            {
                return await send();
            }

            var place = Interlocked.Increment(ref seen);
            if (place == 1)
            {
                await secondAnswered.Task.WaitAsync(TimeSpan.FromSeconds(30));
                if (FailFirst)
                {
                    throw new InvalidOperationException("Test hook: the held call failed before it reached the partition.");
                }

                return await send();
            }

            var answer = await send();
            if (place == 2)
            {
                SecondAnswer = answer.Error;
                secondAnswered.TrySetResult();
            }

            return answer;
        }
    }
}
