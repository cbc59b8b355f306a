using System.Diagnostics;
using System.Text;
using Actors.Broker.Partitioning;
using Actors.Integration.Tests.Processes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;
using KafkaErrorCode = Confluent.Kafka.ErrorCode;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Produce and Fetch end to end: three real silo processes spoken to by Confluent.Kafka (librdkafka) and by kcat.
/// Each test makes its own topics, so they share the three-silo fixture.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class ProduceConsumeTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private string Bootstrap => string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

    [Fact]
    public async Task Keyed_idempotent_records_are_read_back_in_key_order_on_the_murmur2_partition()
    {
        const int Keys = 20;
        const int Records = 1000;
        var topic = await CreateTopicAsync("keyed", 3);
        using (var producer = new ProducerBuilder<string, string>(ProducerConfig(Acks.All, idempotent: true)).Build())
        {
            var sent = Enumerable.Range(0, Records)
                .Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = $"key-{i % Keys}", Value = $"{i / Keys}" }))
                .ToArray();
            var results = await Task.WhenAll(sent).WaitAsync(Deadline);
            foreach (var r in results)
            {
                Assert.Equal(Murmur2Partitioner.Partition(Encoding.UTF8.GetBytes(r.Message.Key), 3), r.Partition.Value);
                Assert.Equal(PersistenceStatus.Persisted, r.Status);
            }
        }

        var read = await ReadAsync(topic, 3, Records);

        foreach (var key in read.GroupBy(r => r.Message.Key))
        {
            Assert.Equal(Records / Keys, key.Count());
            Assert.Single(key.Select(r => r.Partition.Value).Distinct());
            Assert.Equal(Murmur2Partitioner.Partition(Encoding.UTF8.GetBytes(key.Key), 3), key.First().Partition.Value);
            Assert.Equal(Enumerable.Range(0, Records / Keys).Select(i => $"{i}"), key.OrderBy(r => r.Offset.Value).Select(r => r.Message.Value));
        }
    }

    [Theory]
    [InlineData(Acks.None)]
    [InlineData(Acks.Leader)]
    public async Task Records_produced_with_acks_0_or_1_are_read_back(Acks acks)
    {
        const int Records = 200;
        var topic = await CreateTopicAsync($"acks{(int)acks}", 3);
        using (var producer = new ProducerBuilder<string, string>(ProducerConfig(acks, idempotent: false)).Build())
        {
            var sent = Enumerable.Range(0, Records).Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" }));
            await Task.WhenAll(sent).WaitAsync(Deadline);
        }

        var read = await ReadAsync(topic, 3, Records);

        Assert.Equal(Enumerable.Range(0, Records).Select(i => $"k{i}=v{i}").Order(), read.Select(r => $"{r.Message.Key}={r.Message.Value}").Order());
    }

    [Fact]
    public async Task A_value_near_message_max_bytes_is_stored_and_one_above_it_is_refused_MESSAGE_TOO_LARGE()
    {
        var topic = await CreateTopicAsync("large", 1);
        var near = RandomBytes(1_000_000, 1);
        var over = RandomBytes(1_100_000, 2);
        var config = ProducerConfig(Acks.Leader, idempotent: false);
        // Above the broker's message.max.bytes (1048588), so the broker, not the client, refuses the larger one.
        config.MessageMaxBytes = 4_000_000;
        using (var producer = new ProducerBuilder<Null, byte[]>(config).Build())
        {
            await producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = near }).WaitAsync(Deadline);
            var refused = await Assert.ThrowsAsync<ProduceException<Null, byte[]>>(() => producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = over }).WaitAsync(Deadline));
            Assert.Equal(KafkaErrorCode.MsgSizeTooLarge, refused.Error.Code);
            Assert.False(refused.Error.IsLocalError);
        }

        var read = await ReadAsync<Null, byte[]>(topic, 1, 1);

        Assert.Equal(near, Assert.Single(read).Message.Value);
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Compressed_batches_are_stored_and_served_unchanged(CompressionType compression)
    {
        const int Records = 300;
        var topic = await CreateTopicAsync($"compressed-{compression}".ToLowerInvariant(), 1);
        var config = ProducerConfig(Acks.All, idempotent: true);
        config.CompressionType = compression;
        config.LingerMs = 20;
        var values = Enumerable.Range(0, Records).Select(i => $"{compression} record {i} {new string((char)('a' + (i % 26)), 100)}").ToArray();
        using (var producer = new ProducerBuilder<Null, string>(config).Build())
        {
            await Task.WhenAll(values.Select(v => producer.ProduceAsync(topic, new Message<Null, string> { Value = v }))).WaitAsync(Deadline);
        }

        var read = await ReadAsync<Null, string>(topic, 1, Records);

        Assert.Equal(values, read.OrderBy(r => r.Offset.Value).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task Watermarks_offsets_for_times_and_the_largest_timestamp_are_answered()
    {
        var topic = await CreateTopicAsync("times", 1);
        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 100_000;
        // Timestamps t0, t0+1s, ... except record 3, which carries the largest.
        long Time(int i) => i == 3 ? t0 + 50_000 : t0 + (i * 1000L);
        using (var producer = new ProducerBuilder<Null, string>(ProducerConfig(Acks.All, idempotent: true)).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<Null, string> { Value = $"{i}", Timestamp = new Timestamp(Time(i), TimestampType.CreateTime) })
                    .WaitAsync(Deadline);
            }
        }

        using var consumer = new ConsumerBuilder<Null, string>(ConsumerConfig()).Build();
        var tp = new TopicPartition(topic, 0);
        var watermarks = consumer.QueryWatermarkOffsets(tp, Deadline);
        Assert.Equal((0L, 10L), (watermarks.Low.Value, watermarks.High.Value));

        var byTime = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(t0 + 1500, TimestampType.CreateTime))], Deadline);
        Assert.Equal(2, Assert.Single(byTime).Offset.Value);
        // The first offset whose timestamp is at least the one asked: record 3 (t0 + 50 s), not record 6.
        var afterOutOfOrder = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(t0 + 5500, TimestampType.CreateTime))], Deadline);
        Assert.Equal(3, Assert.Single(afterOutOfOrder).Offset.Value);
        var late = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(t0 + 90_000, TimestampType.CreateTime))], Deadline);
        Assert.Equal(Offset.End, Assert.Single(late).Offset);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        var max = await admin.ListOffsetsAsync([new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.MaxTimestamp() }]).WaitAsync(Deadline);
        var info = Assert.Single(max.ResultInfos);
        Assert.Equal(3, info.TopicPartitionOffsetError.Offset.Value);
        Assert.Equal(t0 + 50_000, info.Timestamp);
    }

    [Fact]
    public async Task A_record_written_by_kcat_is_read_byte_identical_by_Confluent_and_the_reverse()
    {
        var topic = await CreateTopicAsync("kcat", 1);
        var port = fixture.Cluster.Silos[0].KafkaPort;
        var (code, _, error) = await RunKcatAsync($"-P -b 127.0.0.1:{port} -t {topic} -p 0 -k from-kcat -H h1=v1 -H h2=v2", "kcat value\n");
        Assert.True(code == 0, $"kcat -P exited {code}: {error}");

        var fromKcat = Assert.Single(await ReadAsync<string, string>(topic, 1, 1));
        Assert.Equal("from-kcat", fromKcat.Message.Key);
        Assert.Equal("kcat value", fromKcat.Message.Value);
        Assert.Equal(["h1=v1", "h2=v2"], fromKcat.Message.Headers.Select(h => $"{h.Key}={Encoding.UTF8.GetString(h.GetValueBytes())}"));

        using (var producer = new ProducerBuilder<string, string>(ProducerConfig(Acks.All, idempotent: true)).Build())
        {
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<string, string>
            {
                Key = "from-confluent",
                Value = "confluent value",
                Headers = [new Header("h3", Encoding.UTF8.GetBytes("v3"))],
            }).WaitAsync(Deadline);
        }

        var (readCode, text, readError) = await RunKcatAsync($"-C -b 127.0.0.1:{port} -t {topic} -p 0 -e -o beginning -f %k|%s|%h\\n", null);
        Assert.True(readCode == 0, $"kcat -C exited {readCode}: {readError}");
        Assert.Equal(["from-kcat|kcat value|h1=v1,h2=v2", "from-confluent|confluent value|h3=v3"], text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_producer_not_allowed_to_create_topics_gets_UNKNOWN_TOPIC_OR_PARTITION()
    {
        var config = ProducerConfig(Acks.All, idempotent: false);
        config.AllowAutoCreateTopics = false;
        config.MessageTimeoutMs = 5000;
        config.Set("topic.metadata.propagation.max.ms", "500");
        using var producer = new ProducerBuilder<Null, string>(config).Build();

        var refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(() =>
            producer.ProduceAsync($"missing-{Guid.NewGuid():N}", new Message<Null, string> { Value = "x" }).WaitAsync(Deadline));

        output.WriteLine($"{refused.Error.Code}: {refused.Error.Reason}");
        Assert.Equal(KafkaErrorCode.UnknownTopicOrPart, refused.Error.Code);
        Assert.False(refused.Error.IsLocalError);
    }

    private ProducerConfig ProducerConfig(Acks acks, bool idempotent) => new()
    {
        BootstrapServers = Bootstrap,
        Acks = acks,
        EnableIdempotence = idempotent,
        Partitioner = Partitioner.Murmur2Random,
        LingerMs = 5,
        MessageTimeoutMs = 20_000,
    };

    private ConsumerConfig ConsumerConfig() => new()
    {
        BootstrapServers = Bootstrap,
        GroupId = $"reader-{Guid.NewGuid():N}",
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
    };

    private async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 9, 60)];
        await ClusterPolling.CreateTopicAsync(fixture.Cluster, topic, partitions, replicationFactor: 3, minInsyncReplicas: 1);
        return topic;
    }

    private Task<List<ConsumeResult<string, string>>> ReadAsync(string topic, int partitions, int count) => ReadAsync<string, string>(topic, partitions, count);

    /// <summary>Reads <paramref name="count"/> records from every partition of <paramref name="topic"/> from the start
    /// (manual assignment), failing after the deadline.</summary>
    private Task<List<ConsumeResult<TKey, TValue>>> ReadAsync<TKey, TValue>(string topic, int partitions, int count) => Task.Run(() =>
    {
        using var consumer = new ConsumerBuilder<TKey, TValue>(ConsumerConfig()).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var read = new List<ConsumeResult<TKey, TValue>>();
        var clock = Stopwatch.StartNew();
        while (read.Count < count)
        {
            Assert.True(clock.Elapsed < Deadline, $"Read {read.Count} of {count} records of {topic} within {Deadline.TotalSeconds} s{Environment.NewLine}{fixture.Cluster.Tails()}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is not null && !result.IsPartitionEOF)
            {
                read.Add(result);
            }
        }

        consumer.Close();
        return read;
    });

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<(int Code, string Output, string Error)> RunKcatAsync(string arguments, string? input)
    {
        var start = new ProcessStartInfo("/usr/bin/kcat")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in SplitArguments(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kcat did not start");
        try
        {
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(Deadline);
            return (process.ExitCode, (await stdout).Replace("\r", string.Empty, StringComparison.Ordinal), await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Splits on spaces; the format argument keeps its "\n" escape for kcat to expand.</summary>
    private static IEnumerable<string> SplitArguments(string arguments) => arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
