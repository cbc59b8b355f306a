using System.Text;
using Actors.Broker.Partitioning;

namespace Actors.Client.Tests;

[Collection(ClientClusterCollection.Name)]
public class ConfluentPlacementTests
{
    [Fact]
    public async Task Keys_land_where_Confluent_Kafkas_murmur2_random_partitioner_puts_them()
    {
        // A cluster of its own with the Kafka listener, so librdkafka (through Confluent.Kafka) can produce to it.
        var cluster = new ClientCluster(kafkaListener: true);
        await cluster.InitializeAsync();
        try
        {
            var topic = await cluster.TopicAsync("placement", 7);
            var keys = Enumerable.Range(0, 200).Select(i => $"key-{i}").Concat(["21", "foobar", "abc", string.Empty]).ToArray();
            var config = new ProducerConfig
            {
                BootstrapServers = string.Join(',', cluster.KafkaPorts.Select(p => $"127.0.0.1:{p}")),
                Partitioner = Partitioner.Murmur2Random,
                Acks = Acks.All,
                MessageTimeoutMs = 30_000,
            };
            var confluent = new Dictionary<string, int>(StringComparer.Ordinal);
            using (var kafka = new ProducerBuilder<string, string>(config).Build())
            {
                foreach (var key in keys)
                {
                    confluent[key] = (await kafka.ProduceAsync(topic, new Message<string, string> { Key = key, Value = "librdkafka" })).Partition.Value;
                }
            }

            using var actors = new ActorsProducerBuilder<string, string>(new Dictionary<string, string>(), cluster.Client).Build();
            foreach (var key in keys)
            {
                var ours = (await actors.ProduceAsync(topic, new Message<string, string> { Key = key, Value = "actors" })).Partition.Value;
                Assert.True(confluent[key] == ours, $"key '{key}': Confluent.Kafka chose partition {confluent[key]}, the Actors producer {ours}");
                Assert.Equal((Murmur2Partitioner.Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % 7, ours);
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
