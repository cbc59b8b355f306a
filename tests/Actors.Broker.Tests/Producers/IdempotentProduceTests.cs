using Actors.Broker.Logs;
using Actors.Broker.Tests.Cluster;
using Actors.Broker.Tests.Support;

namespace Actors.Broker.Tests.Producers;

/// <summary>Idempotent produce through the partition grain of a real (in-process) silo: what the leader makes of
/// retries and of requests that carry several batches.</summary>
[Collection(BrokerClusterCollection.Name)]
public class IdempotentProduceTests
{
    private static ProduceRequest Produce(byte[] records) => new() { Records = records, Acks = -1, TimeoutMs = 10_000 };

    private static async Task<InitProducerIdResponse> NewProducerAsync(BrokerCluster c) =>
        await c.Client.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());

    private static long LogEnd(BrokerCluster c, string topic) =>
        BrokerCluster.Service<LogManager>(c.Silos[0]).TryGet(new TopicPartition(topic, 0))!.LogEndOffset;

    [Fact]
    public async Task A_retry_with_a_corrupt_crc_is_refused_as_corrupt_not_answered_as_a_duplicate()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "retried", NumPartitions = 1, ReplicationFactor = 1 });
        var pid = await NewProducerAsync(c);
        var batch = Batches.Values(0, 3, pid.ProducerId, pid.ProducerEpoch, 0);
        var first = await c.ProduceAsync("retried", 0, batch);
        Assert.Equal((ErrorCode.None, 0L), (first.Error, first.BaseOffset));

        // The same producer, epoch and sequences, but the last value byte flipped: the header still names a batch the
        // leader remembers, the CRC-32C no longer matches.
        var corrupt = (byte[])batch.Clone();
        corrupt[^2] ^= 0x5a;
        var retry = await c.Partition("retried", 0).ProduceAsync(Produce(corrupt));
        Assert.True(retry.Error == ErrorCode.CorruptMessage,
            $"a corrupt retry of producer {pid.ProducerId} sequence 0 was answered {retry.Error} (base offset {retry.BaseOffset}, {retry.ErrorMessage}), not CORRUPT_MESSAGE");
        Assert.Contains("CRC", retry.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(3, LogEnd(c, "retried"));

        // The intact retry is still a duplicate answered with the original offset, and nothing was written twice.
        var intact = await c.Partition("retried", 0).ProduceAsync(Produce(batch));
        Assert.Equal((ErrorCode.None, 0L), (intact.Error, intact.BaseOffset));
        Assert.Equal(["v0", "v1", "v2"], (await c.ConsumeAsync("retried", 0, 0, 3)).Select(r => r.Value));
        Assert.Equal(3, LogEnd(c, "retried"));
    }

    [Fact]
    public async Task Two_consecutive_batches_of_one_producer_in_one_request_are_both_appended()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "paired", NumPartitions = 1, ReplicationFactor = 1 });
        var pid = await NewProducerAsync(c);
        byte[] Batch(int first, int count) => Batches.Values(first, count, pid.ProducerId, pid.ProducerEpoch, first);

        // The leader knows the producer (sequences 0-1), then one request carries sequences 2-3 and 4-6.
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync("paired", 0, Batch(0, 2))).Error);
        var pair = await c.Partition("paired", 0).ProduceAsync(Produce([.. Batch(2, 2), .. Batch(4, 3)]));
        Assert.True(pair.Error == ErrorCode.None,
            $"two consecutive batches (sequences 2-3, 4-6) of producer {pid.ProducerId} in one request were answered {pair.Error}: {pair.ErrorMessage}");
        Assert.Equal(2, pair.BaseOffset);

        // Producer state took both: the next sequence is 7, and a retry of the pair's second batch is a duplicate.
        Assert.Equal((ErrorCode.None, 7L), await ErrorAndOffsetAsync(c, Batch(7, 1)));
        Assert.Equal((ErrorCode.None, 4L), await ErrorAndOffsetAsync(c, Batch(4, 3)));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"v{i}"), (await c.ConsumeAsync("paired", 0, 0, 8)).Select(r => r.Value));

        // Within a request a gap is still a gap: sequences 8 then 10 are refused, and nothing of the request is written.
        var gap = await c.Partition("paired", 0).ProduceAsync(Produce([.. Batch(8, 1), .. Batch(10, 1)]));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Equal(8, LogEnd(c, "paired"));
    }

    private static async Task<(ErrorCode, long)> ErrorAndOffsetAsync(BrokerCluster c, byte[] batch)
    {
        var r = await c.Partition("paired", 0).ProduceAsync(Produce(batch));
        return (r.Error, r.BaseOffset);
    }
}
