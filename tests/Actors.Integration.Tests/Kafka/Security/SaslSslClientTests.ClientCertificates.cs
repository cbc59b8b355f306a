using Confluent.Kafka;
using Admin = Confluent.Kafka.Admin;
using KafkaError = Confluent.Kafka.ErrorCode;

namespace Actors.Integration.Tests.Kafka.Security;

/// <summary>Mutual TLS on the fixture's SSL listener (<c>ssl.client.auth=required</c>, the client CA as
/// <c>ssl.truststore.location</c>) with Confluent.Kafka's <c>ssl.certificate.location</c>/<c>ssl.key.location</c>:
/// the certificate's subject is the principal, and a client without a trusted certificate is refused in the handshake.</summary>
public sealed partial class SaslSslClientTests
{
    [Fact]
    public async Task A_client_certificate_signed_by_the_truststore_ca_is_the_principal_on_the_ssl_listener()
    {
        var topic = await TopicAsync("mtls", 3);
        var principal = $"User:{SaslSslSiloFixture.CertificateSubject}";
        var group = Cli("mtls-readers");
        var config = new ConsumerConfig(silo.MutualTlsConfig(silo.TrustedClient)) { GroupId = group };

        // The handshake succeeds and requests are served, but no ACL names the certificate's principal yet.
        Assert.Contains(ConsumeError(config, c => c.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning))),
            new[] { KafkaError.TopicAuthorizationFailed, KafkaError.GroupAuthorizationFailed });
        Assert.Contains(silo.Cluster.Silos[0].Logged("Refused"), l => l.Contains($"to {principal} ", StringComparison.Ordinal));

        await AclsAsync(
            Allow(Admin.ResourceType.Topic, topic, Admin.AclOperation.Read, SaslSslSiloFixture.CertificateSubject),
            Allow(Admin.ResourceType.Group, group, Admin.AclOperation.Read, SaslSslSiloFixture.CertificateSubject));
        // The ACLs reach the listener's authorizer within its refresh; until then a consumer is refused and tried again.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            using var consumer = new ConsumerBuilder<string, string>(config).Build();
            consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning));
            try
            {
                Assert.Equal(["v0", "v1", "v2"], ConsumeValues(consumer, 3));
                return;
            }
            catch (ConsumeException e) when (e.Error.Code is KafkaError.TopicAuthorizationFailed or KafkaError.GroupAuthorizationFailed && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public void A_client_without_a_certificate_is_refused_by_the_ssl_listener_that_requires_one()
    {
        var errors = ConnectErrors(silo.MutualTlsConfig(null));
        var seen = string.Join("; ", errors.Select(e => $"{e.Code}: {e.Reason}"));

        Assert.True(errors.Any(e => e.Code is KafkaError.Local_Ssl or KafkaError.Local_Transport or KafkaError.Local_AllBrokersDown), seen);
        Assert.True(silo.Cluster.Silos[0].Logged("Refused the TLS client certificate").Any(l => l.Contains("no client certificate was presented", StringComparison.Ordinal)),
            $"no refusal logged for a client without a certificate; the silo logged: {silo.Cluster.Tails()}");
    }

    [Fact]
    public void A_client_certificate_no_truststore_ca_signed_is_refused()
    {
        var errors = ConnectErrors(silo.MutualTlsConfig(silo.UntrustedClient));

        Assert.Contains(errors, e => e.Code is KafkaError.Local_Ssl or KafkaError.Local_Transport or KafkaError.Local_AllBrokersDown);
        Assert.Contains(silo.Cluster.Silos[0].Logged("Refused the TLS client certificate"), l => l.Contains("'CN=mallory' is not signed by a CA of ssl.truststore.location", StringComparison.Ordinal));
    }

    /// <summary>Every error an admin client reports while its Metadata request fails.</summary>
    private static List<Error> ConnectErrors(ClientConfig config)
    {
        var errors = new List<Error>();
        using (var admin = new AdminClientBuilder(config)
            .SetErrorHandler((_, e) =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            })
            .Build())
        {
            Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(5)));
        }

        lock (errors)
        {
            Assert.True(errors.Count > 0, "the client reported no error");
            return [.. errors];
        }
    }
}
