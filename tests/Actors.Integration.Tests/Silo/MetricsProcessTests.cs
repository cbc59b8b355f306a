using System.Globalization;
using System.Net;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Integration.Tests.Silo;

/// <summary>A real silo process: /health answers 200 with its JSON status, and /metrics (scraped and parsed as
/// Prometheus text) shows the consumer lag a consumer-groups describe computes (high watermark minus committed
/// offset), records and bytes in and out per topic, and request latency per Kafka API.</summary>
[Collection(ProcessCollection.Name)]
public sealed class MetricsProcessTests(ITestOutputHelper output)
{
    private const string Topic = "metered";
    private const string Group = "lag-group";
    private const int Records = 30;

    /// <summary>Series that appear only once an ISR changes or a leader is elected.</summary>
    private static readonly HashSet<string> EventCounters =
        new(["actors_broker_isr_shrinks_total", "actors_broker_isr_expands_total", "actors_broker_leader_elections_total"], StringComparer.Ordinal);

    [Fact]
    public async Task Metrics_show_the_lag_consumer_groups_describe_computes_and_health_is_ok()
    {
        await using var cluster = await ProcessCluster.StartAsync(1, output.WriteLine, args: ["--metrics.refresh.ms", "200"]);
        var silo = cluster.Silos[0];
        var bootstrap = $"127.0.0.1:{silo.KafkaPort}";
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };

        var health = await http.GetAsync(new Uri("/health", UriKind.Relative));
        var healthBody = await health.Content.ReadAsStringAsync();
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"/health answered {(int)health.StatusCode}: {healthBody}");
        Assert.Contains("\"status\":\"ok\"", healthBody, StringComparison.Ordinal);
        Assert.Contains("\"membership\":\"Active\"", healthBody, StringComparison.Ordinal);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 3, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < Records; i++)
            {
                // Explicit partitions: 10 records each.
                await producer.ProduceAsync(new TopicPartition(Topic, new Partition(i % 3)), new Message<string, string> { Key = $"k{i}", Value = $"value {i}" });
            }
        }

        // Commit 2, 5 and 0 records' worth on partitions 0, 1, 2 (the third stays at 0 committed) after reading some.
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = Group, EnableAutoCommit = false }).Build())
        {
            consumer.Assign([new TopicPartitionOffset(Topic, 0, Offset.Beginning)]);
            for (var read = 0; read < 4;)
            {
                read += consumer.Consume(TimeSpan.FromSeconds(10)) is null ? throw new TimeoutException("no record fetched from partition 0 within 10 s") : 1;
            }

            consumer.Commit([new TopicPartitionOffset(Topic, 0, 2), new TopicPartitionOffset(Topic, 1, 5), new TopicPartitionOffset(Topic, 2, 0)]);
        }

        // What consumer-groups --describe computes: LOG-END-OFFSET (the high watermark) minus CURRENT-OFFSET.
        var expected = new Dictionary<int, long>();
        var committed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(Group, null)]);
        using (var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "probe" }).Build())
        {
            foreach (var offset in committed.Single().Partitions)
            {
                var high = probe.QueryWatermarkOffsets(offset.TopicPartition, TimeSpan.FromSeconds(10)).High.Value;
                expected[offset.Partition.Value] = high - offset.Offset.Value;
            }
        }

        Assert.Equal([8L, 5L, 10L], expected.OrderBy(e => e.Key).Select(e => e.Value));
        List<PrometheusSample> samples = [];
        await Wait.UntilAsync(async () =>
        {
            samples = PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            return expected.All(e => Lag(samples, e.Key) == e.Value);
        }, TimeSpan.FromSeconds(30), $"the lag gauge to show {string.Join(", ", expected.Select(e => $"partition {e.Key}: {e.Value}"))}",
            () => string.Join("; ", samples.Where(s => s.Name == "actors_broker_consumer_lag").Select(s => $"{string.Join(',', s.Labels.Select(l => $"{l.Key}={l.Value}"))} {s.Value}")));

        Assert.Equal(Records, Single(samples, "actors_kafka_messages_in_total", Topic));
        Assert.True(Single(samples, "actors_kafka_in_bytes_total", Topic) > Records * 10, "bytes in should count every produced batch");
        Assert.True(Single(samples, "actors_kafka_messages_out_total", Topic) >= 4, "messages out should count the records fetched");
        Assert.True(Single(samples, "actors_kafka_out_bytes_total", Topic) > 0, "bytes out should count the records fetched");
        Assert.Contains(samples, s => s.Name == "actors_kafka_request_duration_seconds_count" && s.Labels.GetValueOrDefault("api") == "Produce" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "actors_kafka_request_duration_seconds_bucket" && s.Labels.GetValueOrDefault("api") == "Fetch" && s.Labels.GetValueOrDefault("le") == "+Inf");
        Assert.Equal(0, samples.Single(s => s.Name == "actors_broker_under_replicated_partitions").Value);
        Assert.Equal(0, samples.Single(s => s.Name == "actors_broker_offline_partitions").Value);

        // The Grafana dashboard's series are ones this silo exports (those counted only when an ISR changes or a
        // leader is elected appear with the first such event: ClusterHealthMetricsProcessTests shows them).
        var exported = samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var missing = GrafanaDashboard.SeriesNames().Where(n => !EventCounters.Contains(n) && !exported.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"deploy/grafana/actors-cluster.json queries series /metrics does not have: {string.Join(", ", missing)}");
    }

    private static double? Lag(List<PrometheusSample> samples, int partition) =>
        samples.SingleOrDefault(s => s.Name == "actors_broker_consumer_lag"
            && s.Labels.GetValueOrDefault("group") == Group
            && s.Labels.GetValueOrDefault("topic") == Topic
            && s.Labels.GetValueOrDefault("partition") == partition.ToString(CultureInfo.InvariantCulture))?.Value;

    private static double Single(List<PrometheusSample> samples, string name, string topic) =>
        samples.SingleOrDefault(s => s.Name == name && s.Labels.GetValueOrDefault("topic") == topic)?.Value
        ?? throw new Xunit.Sdk.XunitException($"/metrics has no {name}{{topic=\"{topic}\"}}");
}
