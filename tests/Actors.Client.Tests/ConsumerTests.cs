using System.Collections.Concurrent;
using Actors.Testing;

namespace Actors.Client.Tests;

[Collection(ClientClusterCollection.Name)]
public class ConsumerTests(ClientCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private IConsumer<string, string> Consumer(Dictionary<string, string> config,
        Action<IConsumer<string, string>, List<TopicPartitionOffset>>? revoked = null)
    {
        var builder = new ActorsConsumerBuilder<string, string>(config, cluster.Client);
        if (revoked is not null)
        {
            builder.SetPartitionsRevokedHandler(revoked);
        }

        return builder.Build();
    }

    private async Task ProduceAsync(string topic, int from, int count, int? partition = null, Func<int, long>? timestamp = null)
    {
        using var producer = new ActorsProducerBuilder<string, string>(new Dictionary<string, string>(), cluster.Client).Build();
        var sends = Enumerable.Range(from, count).Select(i =>
        {
            var message = new Message<string, string> { Key = $"k{i}", Value = $"v{i}" };
            if (timestamp is not null)
            {
                message.Timestamp = new Timestamp(timestamp(i), TimestampType.CreateTime);
            }

            return partition is { } p
                ? producer.ProduceAsync(new TopicPartition(topic, new Partition(p)), message)
                : producer.ProduceAsync(topic, message);
        }).ToArray();
        await Task.WhenAll(sends);
    }

    /// <summary>A member consuming on its own thread until stopped, adding every value it gets to <paramref name="seen"/>.</summary>
    private sealed class Member : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;

        public Member(IConsumer<string, string> consumer, string topic, ConcurrentBag<string> seen)
        {
            Consumer = consumer;
            consumer.Subscribe(topic);
            loop = Task.Factory.StartNew(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var r = consumer.Consume(TimeSpan.FromMilliseconds(50));
                    if (r is not null)
                    {
                        seen.Add(r.Message.Value);
                        Interlocked.Increment(ref count);
                    }
                }

                consumer.Close();
            }, TaskCreationOptions.LongRunning);
        }

        private int count;

        public IConsumer<string, string> Consumer { get; }

        public int Count => Volatile.Read(ref count);

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await loop;
        }

        public void Dispose()
        {
            stop.Cancel();
            loop.Wait(TimeSpan.FromSeconds(30));
            Consumer.Dispose();
            stop.Dispose();
        }
    }

    [Fact]
    public async Task A_group_of_three_reads_every_record_exactly_once_while_a_member_joins_and_another_leaves()
    {
        var topic = await cluster.TopicAsync("group", 6);
        var group = $"g-{Guid.NewGuid():N}";
        var config = new Dictionary<string, string> { ["group.id"] = group, ["auto.offset.reset"] = "earliest", ["enable.auto.commit"] = "true", ["auto.commit.interval.ms"] = "200" };
        var seen = new ConcurrentBag<string>();
        var revocations = 0;
        void Revoked(IConsumer<string, string> c, List<TopicPartitionOffset> p) => Interlocked.Increment(ref revocations);

        var members = Enumerable.Range(0, 3).Select(_ => new Member(Consumer(config, Revoked), topic, seen)).ToList();
        try
        {
            await ProduceAsync(topic, 0, 1500);
            await Wait.UntilAsync(() => seen.Count >= 500, Patience, "the first three members to read 500 records", () => $"{seen.Count} read");

            // A fourth member joins: partitions move to it, each revoked (and committed) by its old owner first.
            members.Add(new Member(Consumer(config, Revoked), topic, seen));
            await Wait.UntilAsync(() => members[3].Count > 0 || seen.Count >= 1500, Patience, "the new member to read", () => $"{seen.Count} read; new member {members[3].Count}");
            await Wait.UntilAsync(() => seen.Count >= 1000, Patience, "1000 records read", () => $"{seen.Count} read");

            // The first member leaves: its partitions are committed on revoke and handed over.
            await members[0].StopAsync();
            await ProduceAsync(topic, 1500, 1500);
            await Wait.UntilAsync(() => seen.Distinct().Count() >= 3000, Patience, "every record to be read", () => $"{seen.Distinct().Count()} distinct of {seen.Count} read");
        }
        finally
        {
            foreach (var m in members)
            {
                m.Dispose();
            }
        }

        var duplicates = seen.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"read twice: {string.Join(',', duplicates.Take(20))} ({duplicates.Count} in all)");
        Assert.Equal(3000, seen.Count);
        Assert.True(revocations > 0, "no partition was revoked although a member joined and another left");
        Assert.True(members[3].Count > 0, "the member that joined read nothing");
    }

    [Fact]
    public async Task Manual_commit_is_where_the_next_member_starts()
    {
        var topic = await cluster.TopicAsync("manual", 1);
        await ProduceAsync(topic, 0, 20, partition: 0);
        var group = $"g-{Guid.NewGuid():N}";
        var config = new Dictionary<string, string> { ["group.id"] = group, ["auto.offset.reset"] = "earliest", ["enable.auto.commit"] = "false" };
        using (var consumer = Consumer(config))
        {
            consumer.Subscribe(topic);
            ConsumeResult<string, string>? last = null;
            for (var i = 0; i < 10; i++)
            {
                last = consumer.Consume(Patience);
                Assert.NotNull(last);
            }

            consumer.Commit(last!);
            Assert.Equal(10, consumer.Committed([new TopicPartition(topic, 0)], Patience).Single().Offset.Value);
            consumer.Close();
        }

        using var next = Consumer(config);
        next.Subscribe(topic);
        var first = next.Consume(Patience);
        Assert.NotNull(first);
        Assert.Equal(10, first.Offset.Value);
        Assert.Equal("v10", first.Message.Value);
        next.Close();
    }

    [Fact]
    public async Task Auto_commit_commits_what_was_consumed()
    {
        var topic = await cluster.TopicAsync("auto", 1);
        await ProduceAsync(topic, 0, 10, partition: 0);
        var config = new Dictionary<string, string> { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "earliest", ["auto.commit.interval.ms"] = "100" };
        using var consumer = Consumer(config);
        consumer.Subscribe(topic);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(consumer.Consume(Patience));
        }

        var tp = new TopicPartition(topic, 0);
        await Wait.UntilAsync(() =>
        {
            consumer.Consume(TimeSpan.FromMilliseconds(50));
            return consumer.Committed([tp], Patience).Single().Offset.Value == 10;
        }, Patience, "the auto-commit of offset 10", () => $"committed {consumer.Committed([tp], Patience).Single().Offset}");
        consumer.Close();
    }

    [Fact]
    public async Task Seek_offsets_for_times_watermarks_and_pause()
    {
        var topic = await cluster.TopicAsync("seek", 1);
        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000_000;
        await ProduceAsync(topic, 0, 100, partition: 0, timestamp: i => t0 + (i * 1000));
        var tp = new TopicPartition(topic, 0);
        using var consumer = Consumer(new() { ["group.id"] = $"g-{Guid.NewGuid():N}" });
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var first = consumer.Consume(Patience);
        Assert.Equal(0, first!.Offset.Value);
        Assert.Equal(t0, first.Message.Timestamp.UnixTimestampMs);
        Assert.Equal(1, consumer.Position(tp).Value);

        consumer.Seek(new TopicPartitionOffset(tp, 50));
        Assert.Equal("v50", consumer.Consume(Patience)!.Message.Value);
        Assert.Equal(100, consumer.GetWatermarkOffsets(tp).High.Value);

        var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(t0 + 30_500, TimestampType.CreateTime))], Patience);
        Assert.Equal(31, found.Single().Offset.Value);
        var watermarks = consumer.QueryWatermarkOffsets(tp, Patience);
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(100, watermarks.High.Value);

        consumer.Seek(found.Single());
        Assert.Equal("v31", consumer.Consume(Patience)!.Message.Value);

        consumer.Pause([tp]);
        Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(300)));
        consumer.Resume([tp]);
        Assert.Equal("v32", consumer.Consume(Patience)!.Message.Value);
    }

    [Fact]
    public async Task Auto_offset_reset_earliest_latest_and_error()
    {
        var topic = await cluster.TopicAsync("reset", 1);
        await ProduceAsync(topic, 0, 5, partition: 0);
        var tp = new TopicPartition(topic, 0);

        using (var earliest = Consumer(new() { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "earliest" }))
        {
            earliest.Assign(tp);
            Assert.Equal(0, earliest.Consume(Patience)!.Offset.Value);
        }

        using (var latest = Consumer(new() { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "latest" }))
        {
            latest.Assign(tp);
            await Wait.UntilAsync(() => latest.Consume(TimeSpan.FromMilliseconds(20)) is null && latest.Position(tp) != Offset.Unset, Patience, "the latest reset to place the consumer", () => $"position {latest.Position(tp)}");
            Assert.Equal(5, latest.Position(tp).Value);
            await ProduceAsync(topic, 5, 1, partition: 0);
            var r = latest.Consume(Patience);
            Assert.Equal(5, r!.Offset.Value);
            Assert.Equal("v5", r.Message.Value);
        }

        using var error = Consumer(new() { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "error" });
        error.Assign(tp);
        var e = Assert.Throws<ActorsException>(() => error.Consume(Patience));
        Assert.Equal(ErrorCode.Local_AutoOffsetReset, e.Error.Code);
        Assert.Contains("auto.offset.reset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_regex_subscription_reads_matching_topics_and_picks_up_one_created_later()
    {
        var prefix = $"rx{Guid.NewGuid():N}"[..10];
        var first = await cluster.TopicAsync($"{prefix}-a", 2);
        var other = await cluster.TopicAsync($"x{prefix}-b", 1);
        await ProduceAsync(first, 0, 10);
        await ProduceAsync(other, 100, 10);

        using var consumer = Consumer(new()
        {
            ["group.id"] = $"g-{Guid.NewGuid():N}",
            ["auto.offset.reset"] = "earliest",
            ["topic.metadata.refresh.interval.ms"] = "200",
        });
        consumer.Subscribe($"^{prefix}-.*");
        Assert.Equal([$"^{prefix}-.*"], consumer.Subscription);
        var seen = new List<(string Topic, string Value)>();
        void ReadUntil(int count, string what)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (seen.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; read {string.Join(",", seen)}");
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r)
                {
                    seen.Add((r.Topic, r.Message.Value));
                }
            }
        }

        ReadUntil(10, $"the 10 records of {first}, which matches");

        // A topic made after Subscribe is matched at the next refresh and read from the start.
        var later = await cluster.TopicAsync($"{prefix}-c", 1);
        await ProduceAsync(later, 200, 5);
        ReadUntil(15, $"the 5 records of {later}, created after Subscribe");

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}").Order(), seen.Where(s => s.Topic == first).Select(s => s.Value).Order());
        Assert.Equal(Enumerable.Range(200, 5).Select(i => $"v{i}"), seen.Where(s => s.Topic == later).Select(s => s.Value));
        Assert.DoesNotContain(seen, s => s.Topic == other);
    }

    [Fact]
    public void A_subscription_pattern_that_does_not_parse_is_refused_naming_it()
    {
        using var consumer = Consumer(new() { ["group.id"] = $"g-{Guid.NewGuid():N}" });
        var e = Assert.Throws<ArgumentException>(() => consumer.Subscribe("^orders-(.*"));
        Assert.Contains("^orders-(.*", e.Message, StringComparison.Ordinal);
        Assert.Empty(consumer.Subscription);
    }
}
