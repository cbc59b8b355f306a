using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Compressed batches from clients other than Confluent.Kafka, against three real silo processes: Debian's
/// python3-confluent-kafka (librdkafka 2.0.2) produces gzip keyed records and reads them back in a consumer group with
/// a manual commit (python/group_produce_consume.py); kcat (librdkafka 2.0.2) produces gzip and snappy batches that
/// are stored as sent and read back by Confluent.Kafka 2.16 with identical keys and values.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CompressedForeignClientTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private const int Partitions = 3;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private string Bootstrap => string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

    [PythonConfluentKafkaFact]
    public async Task Python_gzip_keyed_records_are_consumed_once_each_in_key_order_by_a_group_whose_commit_is_the_end_of_each_partition()
    {
        const int Records = 600;
        const int Keys = 20;
        var topic = await CreateTopicAsync("py-gzip", Partitions);
        var group = $"py-group-{Guid.NewGuid():N}"[..20];
        var script = Path.Combine(RepositoryRoot.Path, "tests", "Actors.Integration.Tests", "Kafka", "Clients", "python", "group_produce_consume.py");

        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await ClientProcess.RunAsync(PythonConfluentKafkaFactAttribute.Python,
            [script, Bootstrap, topic, group, Records.ToString(CultureInfo.InvariantCulture), Keys.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(90));
        output.WriteLine($"group_produce_consume.py ran {clock.ElapsedMilliseconds} ms; stderr: {stderr}");

        Assert.True(exit == 0, $"group_produce_consume.py exited with {exit}: {stdout} {stderr}{Environment.NewLine}{fixture.Cluster.Tails()}");
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        output.WriteLine($"client {root.GetProperty("client")}");
        Assert.Equal(0, root.GetProperty("unflushed").GetInt32());
        Assert.Equal(0, root.GetProperty("delivery_errors").GetArrayLength());
        var delivered = root.GetProperty("delivered").EnumerateObject()
            .ToDictionary(p => int.Parse(p.Name, CultureInfo.InvariantCulture), p => (Partition: p.Value[0].GetInt32(), Offset: p.Value[1].GetInt64()));
        Assert.Equal(Enumerable.Range(0, Records), delivered.Keys.Order());

        var consumed = root.GetProperty("consumed").EnumerateArray()
            .Select(r => (Partition: r[0].GetInt32(), Offset: r[1].GetInt64(), Key: r[2].GetString()!, Value: r[3].GetString()!))
            .ToList();
        Assert.Equal(Records, consumed.Count);
        Assert.Equal(
            Enumerable.Range(0, Records).Select(i => $"key-{i % Keys}=value-{i}").Order(StringComparer.Ordinal),
            consumed.Select(r => $"{r.Key}={r.Value}").Order(StringComparer.Ordinal));
        Assert.All(consumed, r => Assert.Equal(delivered[Number(r.Value)], (r.Partition, r.Offset)));
        foreach (var key in consumed.GroupBy(r => r.Key))
        {
            Assert.Single(key.Select(r => r.Partition).Distinct());
            var numbers = key.Select(r => Number(r.Value)).ToList();
            Assert.Equal(numbers.Order(), numbers);
        }

        // The commit is each partition's end, as the script saw it, as the coordinator returns it, and as AdminClient lists it.
        using var consumer = new ConsumerBuilder<Null, Null>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = $"watermarks-{Guid.NewGuid():N}" }).Build();
        var ends = Enumerable.Range(0, Partitions).ToDictionary(
            p => p.ToString(CultureInfo.InvariantCulture), p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), Deadline).High.Value);
        output.WriteLine($"high watermarks {string.Join(", ", ends.Select(e => $"{e.Key}={e.Value}"))}; committed {root.GetProperty("committed")}");
        Assert.Equal(Records, ends.Values.Sum());
        Assert.Equal(Enumerable.Range(0, Partitions), root.GetProperty("assignment").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, root.GetProperty("commit_errors").GetArrayLength());
        Assert.Equal(ends, root.GetProperty("commit_answer").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        Assert.Equal(ends, root.GetProperty("committed").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        var listed = Assert.Single(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)]));
        Assert.Equal(ends, listed.Partitions.ToDictionary(p => p.Partition.Value.ToString(CultureInfo.InvariantCulture), p => p.Offset.Value));

        // librdkafka 2.0.2 sends these batches uncompressed (docs/formats/kafka-protocol.md, "Older clients and compression").
        output.WriteLine($"stored batches' codecs of partition 0: [{string.Join(',', await StoredCompressionCodecsAsync(topic, 0))}]");
    }

    [KcatFact]
    public Task Kcat_gzip_batches_are_read_back_by_Confluent_with_identical_keys_and_values() => KcatCompressedAsync("gzip", storedCodec: null);

    [KcatFact]
    public Task Kcat_snappy_batches_are_read_back_by_Confluent_with_identical_keys_and_values() => KcatCompressedAsync("snappy", storedCodec: null);

    [Theory]
    [InlineData(CompressionType.Gzip, 1)]
    [InlineData(CompressionType.Snappy, 2)]
    public async Task Confluent_compressed_batches_are_stored_with_their_codec(CompressionType compression, int storedCodec)
    {
        var topic = await CreateTopicAsync($"stored-{compression}".ToLowerInvariant(), 1);
        var config = new ProducerConfig { BootstrapServers = Bootstrap, Acks = Acks.Leader, CompressionType = compression, LingerMs = 20 };
        using (var producer = new ProducerBuilder<string, string>(config).Build())
        {
            for (var i = 0; i < 200; i++)
            {
                producer.Produce(new TopicPartition(topic, 0), new Message<string, string> { Key = $"k{i % 7}", Value = $"{compression} {i} {new string('x', 100)}" });
            }

            Assert.Equal(0, producer.Flush(Deadline));
        }

        Assert.Equal(new[] { storedCodec }, await StoredCompressionCodecsAsync(topic, 0));
    }

    /// <summary>kcat writes <paramref name="codec"/> batches; Confluent reads them back; when <paramref name="storedCodec"/>
    /// is given, every stored batch must carry it.</summary>
    private async Task KcatCompressedAsync(string codec, int? storedCodec)
    {
        const int Records = 400;
        var topic = await CreateTopicAsync($"kcat-{codec}", 1);
        // Values long and repetitive enough that the codec has something to do; one record a line, key and value split at '|'.
        var lines = Enumerable.Range(0, Records).Select(i => (Key: $"{codec}-key-{i % 17}", Value: $"{codec} value {i} {new string((char)('a' + (i % 26)), 80 + (i % 50))}")).ToList();
        var input = string.Concat(lines.Select(l => $"{l.Key}|{l.Value}\n"));

        var (exit, stdout, stderr) = await ClientProcess.RunAsync(KcatFactAttribute.Path!,
            ["-P", "-b", Bootstrap, "-t", topic, "-p", "0", "-z", codec, "-K", "|", "-X", "linger.ms=50", "-X", "acks=all"], Deadline, stdin: input);
        output.WriteLine($"kcat -P -z {codec}: exit {exit} {stdout} {stderr}");
        Assert.True(exit == 0, $"kcat -P -z {codec} exited with {exit}: {stderr}{Environment.NewLine}{fixture.Cluster.Tails()}");

        var read = Read(topic, Records);

        Assert.Equal(lines, read.OrderBy(r => r.Offset.Value).Select(r => (r.Message.Key, r.Message.Value)));
        Assert.Equal(Enumerable.Range(0, Records).Select(i => (long)i), read.Select(r => r.Offset.Value).Order());
        var codecs = await StoredCompressionCodecsAsync(topic, 0);
        output.WriteLine($"{read.Count} records read back; stored batches' codecs [{string.Join(',', codecs)}]");
        if (storedCodec is { } expected)
        {
            Assert.Equal(new[] { expected }, codecs);
        }
    }

    private static int Number(string value) => int.Parse(value.AsSpan("value-".Length), CultureInfo.InvariantCulture);

    /// <summary>The compression codecs (attributes &amp; 7 of each record batch) of the batches stored in the partition,
    /// read through the partition grain, so what is checked is the log, not a client's view of it.</summary>
    private async Task<int[]> StoredCompressionCodecsAsync(string topic, int partition)
    {
        var grain = fixture.Cluster.Client.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new Actors.Broker.TopicPartition(topic, partition)));
        var fetched = await ClusterPolling.UntilAsync($"a fetch of {topic}-{partition} from offset 0", Deadline, fixture.Cluster.Tails, async () =>
        {
            var r = await grain.FetchAsync(new FetchRequest { FetchOffset = 0, MaxWaitMs = 0 });
            return (r.Error == ErrorCode.None && r.Records.Length > 0, r.Records, $"{r.Error} {r.ErrorMessage}, {r.Records.Length} bytes");
        });
        var codecs = new SortedSet<int>();
        var bytes = fetched.Span;
        // A record batch: baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc int32, attributes int16, ...
        for (var at = 0; at + 23 <= bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes[(at + 8)..]);
            codecs.Add(BinaryPrimitives.ReadInt16BigEndian(bytes[(at + 21)..]) & 7);
            at += 12 + length;
        }

        return [.. codecs];
    }

    private async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await ClusterPolling.CreateTopicAsync(fixture.Cluster, topic, partitions, replicationFactor: 3, minInsyncReplicas: 2);
        return topic;
    }

    private List<ConsumeResult<string, string>> Read(string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var read = new List<ConsumeResult<string, string>>();
        var clock = Stopwatch.StartNew();
        while (read.Count < count)
        {
            Assert.True(clock.Elapsed < Deadline, $"read {read.Count} of {count} records of {topic} within {Deadline.TotalSeconds} s{Environment.NewLine}{fixture.Cluster.Tails()}");
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
            {
                read.Add(result);
            }
        }

        consumer.Close();
        return read;
    }
}
