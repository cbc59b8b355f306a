using System.Security.Cryptography;
using Actors.Broker.Security;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;
using ScramMechanism = Actors.Broker.ScramMechanism;

namespace Actors.Integration.Tests.Kafka;

/// <summary>
/// Two silo processes, each with two Kafka listeners as Kafka names them (<c>listeners=PLAINTEXT://…,SASL_PLAINTEXT://…</c>):
/// a client bootstrapped on either listener is told every silo's address on that same listener, and clients on both
/// produce and consume the same topic.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class MultipleListenersProcessTests(ITestOutputHelper output)
{
    private const string User = "lister";
    private const string Password = "lister-secret";

    [Fact]
    public async Task A_client_on_each_listener_is_told_the_brokers_on_its_own_listener_and_both_produce_and_consume()
    {
        await using var cluster = await ProcessCluster.StartAsync(2, output.WriteLine, environment: new Dictionary<string, string>
        {
            ["Actors__Kafka__Listeners"] = "PLAINTEXT://127.0.0.1:{kafka-port},SASL_PLAINTEXT://127.0.0.1:{kafka-port-2}",
        });
        var salt = RandomNumberGenerator.GetBytes(16);
        var created = await cluster.Client.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials).AlterAsync([],
            [new ScramUpsertion(User, ScramMechanism.ScramSha256, 4096, salt, Scram.SaltedPassword(ScramMechanism.ScramSha256, Password, salt, 4096))]);
        Assert.All(created, r => Assert.Equal(ErrorCode.None, r.Error));

        var plain = new ClientConfig { BootstrapServers = $"127.0.0.1:{cluster.Silos[0].KafkaPort}", SocketTimeoutMs = 10_000 };
        var sasl = new ClientConfig
        {
            BootstrapServers = $"127.0.0.1:{cluster.Silos[1].KafkaPort2}",
            SecurityProtocol = SecurityProtocol.SaslPlaintext,
            SaslMechanism = SaslMechanism.ScramSha256,
            SaslUsername = User,
            SaslPassword = Password,
            SocketTimeoutMs = 10_000,
        };

        // Metadata asked on each listener lists both silos at their ports of that listener.
        var expectedPlain = cluster.Silos.Select(s => s.KafkaPort).Order().ToArray();
        var expectedSasl = cluster.Silos.Select(s => s.KafkaPort2).Order().ToArray();
        await Wait.UntilAsync(() => BrokerPorts(plain).SequenceEqual(expectedPlain) && BrokerPorts(sasl).SequenceEqual(expectedSasl),
            TimeSpan.FromSeconds(30), $"metadata to list ports {string.Join(",", expectedPlain)} on PLAINTEXT and {string.Join(",", expectedSasl)} on SASL_PLAINTEXT",
            () => $"PLAINTEXT {string.Join(",", BrokerPorts(plain))}; SASL_PLAINTEXT {string.Join(",", BrokerPorts(sasl))}");

        var topic = $"two-listeners-{Guid.NewGuid():N}"[..24];
        using (var admin = new AdminClientBuilder(plain).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        }

        await ProduceAsync(plain, topic, "plain");
        await ProduceAsync(sasl, topic, "sasl");
        var expected = new[] { "plain 0", "plain 1", "plain 2", "sasl 0", "sasl 1", "sasl 2" };
        Assert.Equal(expected, Consume(sasl, topic, expected.Length).Order(StringComparer.Ordinal));
        Assert.Equal(expected, Consume(plain, topic, expected.Length).Order(StringComparer.Ordinal));
    }

    private static int[] BrokerPorts(ClientConfig config)
    {
        using var admin = new AdminClientBuilder(config).Build();
        try
        {
            return admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => b.Port).Order().ToArray();
        }
        catch (KafkaException)
        {
            return [];
        }
    }

    private static async Task ProduceAsync(ClientConfig config, string topic, string prefix)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig(config) { Acks = Acks.All }).Build();
        for (var i = 0; i < 3; i++)
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = $"{prefix}{i}", Value = $"{prefix} {i}" });
        }
    }

    private static List<string> Consume(ClientConfig config, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(config) { GroupId = $"readers-{Guid.NewGuid():N}" }).Build();
        consumer.Assign([new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning), new Confluent.Kafka.TopicPartitionOffset(topic, 1, Offset.Beginning)]);
        var values = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (values.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } message })
            {
                values.Add(message.Value);
            }
        }

        return values;
    }
}
