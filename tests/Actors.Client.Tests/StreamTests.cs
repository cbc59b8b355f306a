using System.Collections.Concurrent;
using Actors.Broker.Partitioning;
using Actors.Streams;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using Orleans.Streams.Core;
using TopicPartition = Confluent.Kafka.TopicPartition;

namespace Actors.Client.Tests;

/// <summary>Orleans streams on Actors topics, through Orleans' own stream API: grains and the cluster client produce,
/// implicit and explicit subscribers receive, tokens rewind, and the records are on the topic for any consumer.</summary>
[Collection(ClientClusterCollection.Name)]
public class StreamTests(ClientCluster cluster)
{
    public const string Provider = "actors";
    public const string ImplicitNamespace = "implicit-recorded";
    public const string ExplicitNamespace = "explicit";
    private const string Topic = "orleans.streams.actors";
    private const int Partitions = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>The provider's settings on every silo and client of the client tests' clusters. The cache is small, so
    /// a rewinding subscriber reads most of its events from the log.</summary>
    internal static void Configure(ActorsStreamOptions o)
    {
        o.Partitions = Partitions;
        o.ReplicationFactor = 3;
        o.CacheSize = 16;
        o.CommitInterval = TimeSpan.FromMilliseconds(200);
    }

    [Fact]
    public async Task A_grain_produces_and_an_implicit_subscriber_receives_every_event_in_order_across_its_deactivations()
    {
        var key = $"implicit-{Guid.NewGuid():N}";
        await cluster.Client.GetGrain<IStreamProducerGrain>(key).ProduceAsync(ImplicitNamespace, key, 0, 200);

        await Wait.UntilAsync(() => StreamRecords.Of(key).Count >= 200, Patience, $"200 events of stream {key} at its implicit subscriber", () => $"{StreamRecords.Of(key).Count} received");
        var got = StreamRecords.Of(key).ToArray();
        Assert.Equal(Enumerable.Range(0, 200), got.Select(e => e.Value));
        Assert.True(got.Zip(got.Skip(1)).All(p => p.First.Offset < p.Second.Offset), "the tokens (offsets) of one stream's events increase");
        Assert.True(StreamRecords.Activations(key) > 1, "the subscriber deactivates every 25 events and is activated again");
    }

    [Fact]
    public async Task An_explicit_subscriber_receives_in_order_and_a_subscription_from_an_older_token_replays_from_that_offset()
    {
        var key = $"explicit-{Guid.NewGuid():N}";
        var stream = cluster.ClusterClient.GetStreamProvider(Provider).GetStream<int>(StreamId.Create(ExplicitNamespace, key));
        var live = new ConcurrentQueue<(int Value, long Offset)>();
        var handle = await stream.SubscribeAsync((v, t) =>
        {
            live.Enqueue((v, t!.SequenceNumber));
            return Task.CompletedTask;
        });

        await cluster.Client.GetGrain<IStreamProducerGrain>(key).ProduceAsync(ExplicitNamespace, key, 0, 100);
        await Wait.UntilAsync(() => live.Count >= 100, Patience, $"100 events of stream {key} at the explicit subscriber", () => $"{live.Count} received");
        Assert.Equal(Enumerable.Range(0, 100), live.Select(e => e.Value));

        // Rewind: a new subscription from the token of event 40 gets 40..99 again, most of them (the cache keeps 16
        // events of the partition) read back from the log.
        var from = live.ElementAt(40).Offset;
        var replayed = new ConcurrentQueue<(int Value, long Offset)>();
        var rewound = await stream.SubscribeAsync(
            (v, t) =>
            {
                replayed.Enqueue((v, t!.SequenceNumber));
                return Task.CompletedTask;
            },
            new ActorsStreamSequenceToken(from));
        await Wait.UntilAsync(() => replayed.Count >= 60, Patience, $"the 60 events of stream {key} from offset {from}", () => $"{replayed.Count} replayed: {string.Join(",", replayed.Select(e => e.Value))}");
        Assert.Equal(Enumerable.Range(40, 60), replayed.Select(e => e.Value));
        Assert.Equal(live.Skip(40).Select(e => e.Offset), replayed.Select(e => e.Offset));

        // Both subscriptions then get new events once.
        await cluster.Client.GetGrain<IStreamProducerGrain>(key).ProduceAsync(ExplicitNamespace, key, 100, 10);
        await Wait.UntilAsync(() => live.Count >= 110 && replayed.Count >= 70, Patience, $"events 100..109 of stream {key} at both subscriptions", () => $"{live.Count} live, {replayed.Count} rewound");
        Assert.Equal(Enumerable.Range(0, 110), live.Select(e => e.Value));
        Assert.Equal(Enumerable.Range(40, 70), replayed.Select(e => e.Value));
        await handle.UnsubscribeAsync();
        await rewound.UnsubscribeAsync();
    }

    [Fact]
    public async Task Stream_events_are_records_of_the_topic_keyed_by_the_stream_in_one_partition()
    {
        var key = $"records-{Guid.NewGuid():N}";
        var stream = cluster.ClusterClient.GetStreamProvider(Provider).GetStream<string>(StreamId.Create("plain", key));
        for (var i = 0; i < 20; i++)
        {
            await stream.OnNextAsync($"e{i}");
        }

        var serializer = cluster.ClusterClient.ServiceProvider.GetRequiredService<Serializer>();
        var partition = Murmur2Partitioner.Partition(System.Text.Encoding.UTF8.GetBytes(key), Partitions);
        using var consumer = new ActorsConsumerBuilder<string, byte[]>(new Dictionary<string, string> { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "earliest" }, cluster.Client).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)));
        var mine = new List<ConsumeResult<string, byte[]>>();
        await Wait.UntilAsync(() =>
        {
            while (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r)
            {
                if (r.Message.Key == key)
                {
                    mine.Add(r);
                }
            }

            return mine.Count >= 20;
        }, Patience, $"20 records keyed {key} on {Topic}", () => $"{mine.Count} read");

        Assert.All(mine, r => Assert.Equal(partition, r.Partition.Value));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"e{i}"), mine.Select(r => serializer.Deserialize<object>(r.Message.Value)));
        Assert.All(mine, r => Assert.Equal("plain", System.Text.Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("orleans.stream.namespace"))));
    }

    [Fact]
    public async Task Events_are_delivered_with_none_lost_when_a_silo_is_killed_mid_stream()
    {
        // A cluster of its own: this test kills a silo.
        var own = new ClientCluster();
        await own.InitializeAsync();
        try
        {
            // One stream per partition, so every queue (and so the agents of the killed silo) carries events.
            var keys = new Dictionary<int, string>();
            for (var i = 0; keys.Count < Partitions; i++)
            {
                var k = $"kill-{Guid.NewGuid():N}";
                keys.TryAdd(Murmur2Partitioner.Partition(System.Text.Encoding.UTF8.GetBytes(k), Partitions), k);
            }

            var streams = keys.Values.Select(k => (Key: k, Stream: own.ClusterClient.GetStreamProvider(Provider).GetStream<int>(StreamId.Create(ImplicitNamespace, k)))).ToArray();
            async Task ProduceAsync(int from, int count)
            {
                foreach (var (_, s) in streams)
                {
                    for (var i = from; i < from + count; i++)
                    {
                        await s.OnNextAsync(i);
                    }
                }
            }

            await ProduceAsync(0, 50);
            await Wait.UntilAsync(() => streams.All(s => StreamRecords.Of(s.Key).Count >= 50), Patience, "the first 50 events of each stream",
                () => string.Join(", ", streams.Select(s => StreamRecords.Of(s.Key).Count)));

            await own.Cluster.KillSiloAsync(own.Cluster.Silos[^1]);
            await ProduceAsync(50, 50);

            foreach (var (key, _) in streams)
            {
                await Wait.UntilAsync(() => StreamRecords.Of(key).Select(e => e.Value).Distinct().Count() >= 100, Patience, $"all 100 events of stream {key} after the kill",
                    () => string.Join(",", StreamRecords.Of(key).Select(e => e.Value)));

                // At least once: events after the last commit may come twice, but in order and none missing.
                var firstSeen = new List<int>();
                foreach (var e in StreamRecords.Of(key))
                {
                    if (firstSeen.Count == 0 || e.Value > firstSeen[^1])
                    {
                        firstSeen.Add(e.Value);
                    }
                }

                Assert.Equal(Enumerable.Range(0, 100), firstSeen);
            }
        }
        finally
        {
            await own.DisposeAsync();
        }
    }
}

/// <summary>What the stream tests' subscriber grains received (the silos run in the test's process).</summary>
public static class StreamRecords
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<(int Value, long Offset)>> Received = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> ActivationCounts = new(StringComparer.Ordinal);

    public static IReadOnlyCollection<(int Value, long Offset)> Of(string key) => Received.GetOrAdd(key, _ => new());

    public static int Activations(string key) => ActivationCounts.GetValueOrDefault(key);

    internal static void Add(string key, int value, long offset) => Received.GetOrAdd(key, _ => new()).Enqueue((value, offset));

    internal static void Activated(string key) => ActivationCounts.AddOrUpdate(key, 1, (_, n) => n + 1);
}

public interface IStreamProducerGrain : IGrainWithStringKey
{
    Task ProduceAsync(string streamNamespace, string key, int from, int count);
}

public sealed class StreamProducerGrain : Grain, IStreamProducerGrain
{
    public async Task ProduceAsync(string streamNamespace, string key, int from, int count)
    {
        var stream = this.GetStreamProvider(StreamTests.Provider).GetStream<int>(StreamId.Create(streamNamespace, key));
        for (var i = from; i < from + count; i++)
        {
            await stream.OnNextAsync(i);
        }
    }
}

public interface IStreamRecorderGrain : IGrainWithStringKey
{
}

/// <summary>Implicitly subscribed to every stream of its namespace with its key; records each event and deactivates
/// every 25 events, so later events find a new activation.</summary>
[ImplicitStreamSubscription(StreamTests.ImplicitNamespace)]
public sealed class StreamRecorderGrain : Grain, IStreamRecorderGrain, IStreamSubscriptionObserver, IAsyncObserver<int>
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        StreamRecords.Activated(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<int>().ResumeAsync(this);

    public Task OnNextAsync(int item, StreamSequenceToken? token = null)
    {
        StreamRecords.Add(this.GetPrimaryKeyString(), item, token?.SequenceNumber ?? -1);
        if (item % 25 == 24)
        {
            DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
