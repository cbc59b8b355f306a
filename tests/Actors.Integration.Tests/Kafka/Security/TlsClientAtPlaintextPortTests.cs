using Actors.Integration.Tests.Kafka.Fuzz;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;

namespace Actors.Integration.Tests.Kafka.Security;

/// <summary>A Confluent.Kafka client set to SSL against a PLAINTEXT listener: it fails within its timeout with a
/// transport or TLS error, not a hang, and the silo logs why, naming the settings on both sides.</summary>
[Collection(ProcessCollection.Name)]
public sealed class TlsClientAtPlaintextPortTests(SingleSiloKafkaFixture fixture) : IClassFixture<SingleSiloKafkaFixture>
{
    [Fact]
    public async Task A_tls_client_at_the_plaintext_port_fails_within_its_timeout_and_the_silo_says_why()
    {
        var errors = new List<Error>();
        using var admin = new AdminClientBuilder(new AdminClientConfig
            {
                BootstrapServers = $"127.0.0.1:{fixture.Silo.KafkaPort}",
                SecurityProtocol = SecurityProtocol.Ssl,
                SocketTimeoutMs = 10_000,
            })
            .SetErrorHandler((_, e) =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            })
            .Build();

        Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(5)));
        await Wait.UntilAsync(() =>
        {
            lock (errors)
            {
                return errors.Any(e => e.Code is Confluent.Kafka.ErrorCode.Local_Transport or Confluent.Kafka.ErrorCode.Local_Ssl or Confluent.Kafka.ErrorCode.Local_AllBrokersDown);
            }
        }, TimeSpan.FromSeconds(30), "the client to report a transport or TLS error", () => string.Join("; ", errors.Select(e => $"{e.Code}: {e.Reason}")));
        await Wait.UntilAsync(() => fixture.Silo.Logged("A TLS handshake arrived at a listener without TLS").Length > 0, TimeSpan.FromSeconds(30),
            "the silo to log that a TLS client came to its plaintext listener", fixture.Silo.Tail);
        Assert.True(fixture.Silo.Running, "the silo died");
    }
}
