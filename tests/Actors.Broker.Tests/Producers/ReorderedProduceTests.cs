using Actors.Broker.Tests.Replication;
using Actors.Broker.Tests.Support;

namespace Actors.Broker.Tests.Producers;

/// <summary>
/// An idempotent producer's batches that reach the partition leader out of the order they were sent. A client
/// pipelines up to five produce requests per connection; the Kafka listener hands each to the partition grain as an
/// Orleans call, and those calls are not ordered as a connection is (an earlier one can wait for placement or be
/// rerouted while a later one arrives). Answering the later batch OUT_OF_ORDER_SEQUENCE_NUMBER at once made the client
/// see the earlier batch acknowledged first and the refusal after it, which it takes for a lost sequence: a fatal
/// error of the idempotent producer (seen in the chaos runs after leader moves).
/// </summary>
[Collection(Actors.Broker.Tests.Cluster.BrokerClusterCollection.Name)]
public class ReorderedProduceTests
{
    private const long ProducerId = 4242;

    private static ProduceRequest Produce(int firstSequence, int count, int timeoutMs = 30_000) => new()
    {
        Records = Batches.Values(firstSequence, count, ProducerId, 0, firstSequence),
        Acks = -1,
        TimeoutMs = timeoutMs,
    };

    private static async Task<List<string>> ReadAllAsync(ReplicationHarness h)
    {
        var r = await h.Leader!.FetchAsync(new FetchRequest { FetchOffset = 0, MaxWaitMs = 0, MaxBytes = 1 << 20 });
        Assert.Equal(ErrorCode.None, r.Error);
        return Batches.Read(r.Records.Span).Select(x => x.Value).ToList();
    }

    [Fact]
    public async Task A_batch_that_overtook_its_producers_earlier_batch_waits_for_it_and_both_are_appended_in_order()
    {
        await using var h = new ReplicationHarness(minInsync: 2);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(0, 2))).Error);

        // Sequences 4-5 arrive before 2-3, which the producer sent first.
        var overtaking = h.Leader.ProduceAsync(Produce(4, 2));
        var earlier = await h.Leader.ProduceAsync(Produce(2, 2));
        var later = await overtaking;

        Assert.True(earlier.Error == ErrorCode.None, $"sequences 2-3 were answered {earlier.Error}: {earlier.ErrorMessage}");
        Assert.True(later.Error == ErrorCode.None,
            $"sequences 4-5, which arrived before 2-3, were answered {later.Error} ({later.ErrorMessage}) instead of waiting for 2-3 and being appended after them");
        Assert.Equal((2L, 4L), (earlier.BaseOffset, later.BaseOffset));
        Assert.Equal(["v0", "v1", "v2", "v3", "v4", "v5"], await ReadAllAsync(h));
    }

    [Fact]
    public async Task A_gap_that_is_never_filled_is_refused_out_of_order_when_the_request_times_out()
    {
        await using var h = new ReplicationHarness(minInsync: 2);
        await h.StartRolesAsync();
        Assert.Equal(ErrorCode.None, (await h.Leader!.ProduceAsync(Produce(0, 2))).Error);

        var gap = await h.Leader.ProduceAsync(Produce(4, 2, timeoutMs: 300));

        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Contains("expected 2", gap.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(["v0", "v1"], await ReadAllAsync(h));

        // A retry older than the remembered batches is refused at once (nothing can fill that gap).
        for (var i = 2; i < 14; i += 2)
        {
            Assert.Equal(ErrorCode.None, (await h.Leader.ProduceAsync(Produce(i, 2))).Error);
        }

        var stale = h.Leader.ProduceAsync(Produce(0, 2));
        Assert.True(stale.IsCompleted, "a batch older than the five remembered ones waited instead of being refused at once");
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, (await stale).Error);
    }
}
