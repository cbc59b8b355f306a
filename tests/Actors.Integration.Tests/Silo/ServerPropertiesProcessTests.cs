using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Silo;

/// <summary>A real silo process started with <c>--config server.properties</c>: the file's <c>listeners</c> port is where
/// Kafka clients connect, a topic auto-created by a produce gets the file's <c>num.partitions</c>, and the file's
/// <c>zookeeper.connect</c> is logged as not needed rather than refused.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ServerPropertiesProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Listeners_and_num_partitions_from_server_properties_take_effect()
    {
        using var folder = new TempDirectory("server-properties");
        var kafkaPort = Ports.GetFreeTcpPort();
        var file = folder.File("server.properties");
        await File.WriteAllTextAsync(file,
            "# as in Kafka's config/server.properties\n" +
            $"listeners=PLAINTEXT://127.0.0.1:{kafkaPort}\n" +
            "num.partitions=5\n" +
            "auto.create.topics.enable=true\n" +
            "zookeeper.connect=localhost:2181\n");
        await using var cluster = await ProcessCluster.StartAsync(1, output.WriteLine, args: ["--config", file]);
        var silo = cluster.Silos[0];
        var bootstrap = $"127.0.0.1:{kafkaPort}";

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 30_000 }).Build())
        {
            var delivered = await producer.ProduceAsync("auto-created", new Message<Null, string> { Value = "hello" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var metadata = admin.GetMetadata("auto-created", TimeSpan.FromSeconds(10));
        var topic = Assert.Single(metadata.Topics);
        Assert.Equal(5, topic.Partitions.Count);
        Assert.All(metadata.Brokers, b => Assert.Equal(kafkaPort, b.Port));

        var zookeeper = silo.Logged("zookeeper.connect");
        Assert.True(zookeeper.Length > 0 && zookeeper[0].Contains("not needed: membership is Orleans cluster membership", StringComparison.Ordinal),
            $"the silo should log that zookeeper.connect is not needed; it logged:{Environment.NewLine}{silo.Tail()}");
    }
}
