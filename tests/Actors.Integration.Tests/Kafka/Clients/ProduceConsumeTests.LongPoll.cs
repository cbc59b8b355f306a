using Confluent.Kafka;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>A consumer's parked Fetch (long poll) is answered as soon as a new record is committed (the high
/// watermark moves after the followers fetched it, RF 3 acks=all), not when its max wait ends.</summary>
public sealed partial class ProduceConsumeTests
{
    [Fact]
    public async Task A_parked_fetch_returns_the_record_appended_while_it_waits_long_before_its_max_wait()
    {
        var topic = await CreateTopicAsync("parked", 1);
        var partition = new TopicPartition(topic, 0);

        // The consumer asks for 60 s of waiting per fetch; the broker caps a wait at 30 s (FetchApi.MaxWaitCapMs).
        // Each record must arrive within 20 s: only a fetch woken by the append can deliver it in time.
        var config = ConsumerConfig();
        config.FetchWaitMaxMs = 60_000;
        config.FetchMinBytes = 1;
        config.SocketTimeoutMs = 90_000; // above the fetch wait, as librdkafka asks
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        using var producer = new ProducerBuilder<string, string>(ProducerConfig(Acks.All, idempotent: true)).Build();
        var start = consumer.QueryWatermarkOffsets(partition, Deadline).High;
        consumer.Assign(new TopicPartitionOffset(partition, start));

        for (var i = 0; i < 3; i++)
        {
            // The consumer is at the end: its fetch is parked on the leader when the record is appended (the first
            // one possibly not yet; each later one is, since the consumer fetched again right after the last record).
            var value = $"parked-{i}";
            var sent = await producer.ProduceAsync(partition, new Message<string, string> { Key = "k", Value = value });
            var got = consumer.Consume(TimeSpan.FromSeconds(20));
            Assert.True(got is not null, $"record {i} (offset {sent.Offset.Value}) did not arrive within 20 s although the consumer's fetch was parked on the leader: the long poll was not woken by the commit of the new record");
            Assert.Equal((sent.Offset.Value, value), (got.Offset.Value, got.Message.Value));
        }
    }
}
