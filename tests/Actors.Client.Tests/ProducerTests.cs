using System.Text;
using Actors.Broker.Partitioning;
using Actors.Log.Records;
using Actors.Testing;
using CompressionType = Actors.Log.Records.CompressionType;

namespace Actors.Client.Tests;

[Collection(ClientClusterCollection.Name)]
public class ProducerTests(ClientCluster cluster)
{
    private static readonly Dictionary<string, string> Fast = new() { ["linger.ms"] = "5" };

    private IProducer<TKey, TValue> Producer<TKey, TValue>(Dictionary<string, string>? config = null, Func<int, bool>? dropAnswer = null)
    {
        var builder = new ActorsProducerBuilder<TKey, TValue>(config ?? Fast, cluster.Client) { DropAnswer = dropAnswer };
        return builder.Build();
    }

    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_Kafkas_vectors(string key, int expected) =>
        Assert.Equal(expected, Murmur2Partitioner.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public async Task Keyed_records_land_on_the_murmur2_partition_and_null_keys_stick_to_one_partition_per_batch()
    {
        var topic = await cluster.TopicAsync("place", 6);
        using var producer = Producer<string, string>();
        foreach (var key in new[] { "21", "foobar", "abc", "k1", "k2", "k3", "k4", "k5" })
        {
            var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = "v" });
            var expected = (Murmur2Partitioner.Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % 6;
            Assert.Equal(expected, result.Partition.Value);
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }

        // Null keys without waiting: they gather in the sticky partition's open batch, so they share one partition.
        using var sticky = Producer<Null, string>(new() { ["linger.ms"] = "1000" });
        var sends = Enumerable.Range(0, 20).Select(i => sticky.ProduceAsync(topic, new Message<Null, string> { Value = $"n{i}" })).ToArray();
        sticky.Flush(TimeSpan.FromSeconds(30));
        var results = await Task.WhenAll(sends);
        Assert.Single(results.Select(r => r.Partition.Value).Distinct());
    }

    [Fact]
    public async Task Per_key_order_holds_across_ten_thousand_records()
    {
        var topic = await cluster.TopicAsync("order", 4);
        using var producer = Producer<string, string>();
        var sends = new List<Task<DeliveryResult<string, string>>>();
        for (var i = 0; i < 10_000; i++)
        {
            var key = $"key-{i % 17}";
            sends.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        }

        var results = await Task.WhenAll(sends);
        Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));

        var total = 0;
        for (var p = 0; p < 4; p++)
        {
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var r in await cluster.RecordsAsync(topic, p))
            {
                var key = Encoding.UTF8.GetString(r.Key!);
                var value = int.Parse(Encoding.UTF8.GetString(r.Value!), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(!last.TryGetValue(key, out var before) || before < value, $"{key}: {value} stored after {before} in partition {p}");
                last[key] = value;
                total++;
            }
        }

        Assert.Equal(10_000, total);

        // The delivery reports agree: per key, offsets grow in the order the records were produced.
        foreach (var group in results.GroupBy(r => r.Message.Key))
        {
            var offsets = group.Select(r => r.Offset.Value).ToArray();
            Assert.Equal(offsets.Order(), offsets);
        }
    }

    [Fact]
    public async Task Batches_fill_to_batch_size_under_load()
    {
        var topic = await cluster.TopicAsync("batches", 1);
        using var producer = Producer<Null, byte[]>(new() { ["linger.ms"] = "5", ["batch.size"] = "16384" });
        var value = new byte[100];
        var sends = Enumerable.Range(0, 20_000).Select(_ => producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = value })).ToArray();
        await Task.WhenAll(sends);

        var sizes = (await cluster.BatchesAsync(topic, 0)).Select(b => b.Length).ToList();
        Assert.Equal(20_000, sizes.Count == 0 ? 0 : (await cluster.RecordsAsync(topic, 0)).Count);
        Assert.All(sizes, s => Assert.True(s <= 16_384, $"a stored batch of {s} bytes exceeds batch.size"));

        // Under load every batch but the stragglers is full: within two records' room of batch.size.
        var full = sizes.Count(s => s >= 16_384 - (2 * 136));
        Assert.True(full >= sizes.Count * 0.9, $"{full} of {sizes.Count} batches are full; sizes: {string.Join(',', sizes)}");
    }

    [Fact]
    public async Task A_full_buffer_blocks_until_space_frees_and_fails_after_max_block_ms()
    {
        var topic = await cluster.TopicAsync("buffer", 1);

        // linger.ms and batch.size keep records waiting in the open batch, so buffer.memory fills and stays full.
        var waiting = new Dictionary<string, string> { ["linger.ms"] = "600000", ["batch.size"] = "1000000", ["buffer.memory"] = "10000", ["max.block.ms"] = "60000" };
        using var producer = (ActorsProducer<Null, byte[]>)Producer<Null, byte[]>(waiting);
        var value = new byte[1000];
        var sent = new List<Task<DeliveryResult<Null, byte[]>>>();
        for (var i = 0; i < 9; i++)
        {
            sent.Add(producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = value }));
        }

        var blocked = producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = value });
        await Wait.UntilAsync(() => producer.BufferedBytes > 9_000, TimeSpan.FromSeconds(10), "nine records to fill the buffer", () => $"{producer.BufferedBytes} bytes buffered");
        Assert.False(blocked.IsCompleted, "the tenth record went through although buffer.memory was full");

        // A flush sends what waits; its acknowledgement frees the buffer and the blocked record goes in.
        await producer.FlushAsync();
        var result = await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        await producer.FlushAsync();
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Equal(10, (await cluster.RecordsAsync(topic, 0)).Count);

        // With max.block.ms short, the blocked record fails with a clear error.
        waiting["max.block.ms"] = "200";
        using var impatient = Producer<Null, byte[]>(waiting);
        for (var i = 0; i < 9; i++)
        {
            _ = impatient.ProduceAsync(topic, new Message<Null, byte[]> { Value = value });
        }

        var error = await Assert.ThrowsAsync<ActorsException>(() => impatient.ProduceAsync(topic, new Message<Null, byte[]> { Value = value }));
        Assert.Equal(ErrorCode.Local_QueueFull, error.Error.Code);
        Assert.Contains("buffer.memory", error.Message, StringComparison.Ordinal);
        Assert.Contains("max.block.ms", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsRetriable);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_retried_batch_is_written_once_by_the_idempotent_producer(bool idempotent)
    {
        var topic = await cluster.TopicAsync("idem", 1);

        // Every batch's first answer is dropped after the broker wrote it, as when an ack is lost: the batch is sent again.
        var config = new Dictionary<string, string> { ["linger.ms"] = "2", ["enable.idempotence"] = idempotent ? "true" : "false", ["acks"] = idempotent ? "all" : "1" };
        using var producer = Producer<Null, string>(config, dropAnswer: attempt => attempt == 0);
        for (var round = 0; round < 5; round++)
        {
            var sends = Enumerable.Range(round * 20, 20).Select(i => producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" })).ToArray();
            await Task.WhenAll(sends);
        }

        var values = (await cluster.RecordsAsync(topic, 0)).Select(r => Encoding.UTF8.GetString(r.Value!)).ToList();
        if (idempotent)
        {
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"v{i}"), values);
        }
        else
        {
            // Without idempotence the same injection writes every batch twice: the check above is not vacuous.
            Assert.True(values.Count > 100, $"expected duplicates without idempotence, got {values.Count} records");
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Compressed_batches_are_stored_compressed_and_read_back(string codec)
    {
        var topic = await cluster.TopicAsync($"z{codec}", 1);
        using var producer = Producer<string, string>(new() { ["compression.type"] = codec, ["linger.ms"] = "20" });
        var sends = Enumerable.Range(0, 200).Select(i => producer.ProduceAsync(topic, new Message<string, string>
        {
            Key = $"k{i}",
            Value = new string('x', 50) + i,
            Headers = new Headers { { "h", Encoding.UTF8.GetBytes($"{i}") } },
        })).ToArray();
        await Task.WhenAll(sends);

        var batches = await cluster.BatchesAsync(topic, 0);
        var expected = codec switch { "gzip" => CompressionType.Gzip, "snappy" => CompressionType.Snappy, "lz4" => CompressionType.Lz4, "zstd" => CompressionType.Zstd, _ => CompressionType.None };
        Assert.All(batches, b => Assert.Equal(expected, new RecordBatch(b).Compression));
        var records = await cluster.RecordsAsync(topic, 0);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => new string('x', 50) + i), records.Select(r => Encoding.UTF8.GetString(r.Value!)));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"{i}"), records.Select(r => Encoding.UTF8.GetString(r.Headers.Single().Value!)));
    }
}
