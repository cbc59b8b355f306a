using Actors.Broker;
using TopicPartition = Confluent.Kafka.TopicPartition;

namespace Actors.Client.Tests;

[Collection(ClientClusterCollection.Name)]
public class FailoverTests
{
    [Fact]
    public async Task Producer_and_consumer_keep_working_through_a_leader_failover()
    {
        // A cluster of its own: this test kills a silo.
        var cluster = new ClientCluster();
        await cluster.InitializeAsync();
        try
        {
            var topic = await cluster.TopicAsync("failover", 1, configs: new() { ["min.insync.replicas"] = "2" });
            var tp = new TopicPartition(topic, 0);
            var errorsSeen = new List<Error>();
            using var producer = new ActorsProducerBuilder<Null, string>(new Dictionary<string, string> { ["acks"] = "all" }, cluster.Client).Build();
            using var consumer = new ActorsConsumerBuilder<Ignore, string>(new Dictionary<string, string> { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "earliest" }, cluster.Client)
                .SetErrorHandler((_, e) => errorsSeen.Add(e))
                .Build();
            consumer.Assign(tp);
            var read = new List<string>();

            async Task ProduceAndReadAsync(int from, int count)
            {
                for (var chunk = from; chunk < from + count; chunk += 50)
                {
                    var results = await Task.WhenAll(Enumerable.Range(chunk, 50).Select(i => producer.ProduceAsync(tp, new Message<Null, string> { Value = $"v{i}" })));
                    Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
                }

                while (read.Count < from + count)
                {
                    var r = consumer.Consume(TimeSpan.FromSeconds(60));
                    Assert.True(r is not null, $"no record within 60 s after {read.Count} were read");
                    read.Add(r.Message.Value);
                }
            }

            await ProduceAndReadAsync(0, 500);

            // Kill the partition's leader: the producer's retries and the consumer's fetches find the new one.
            var leader = (await cluster.Controller.GetPartitionStateAsync(new Broker.TopicPartition(topic, 0))).Leader!;
            await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.Single(s => s.Name == leader));
            await ProduceAndReadAsync(500, 500);

            Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"v{i}"), read);
            Assert.All(errorsSeen, e => Assert.True(e.Code == ErrorCode.Local_Transport || ((BrokerErrorCode)(short)(int)e.Code).IsRetriable(), $"the consumer saw a non-retriable error: {e.Code} {e.Reason}"));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
