using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Actors.Integration.Tests.Processes;
using Actors.Silo;
using Actors.Testing;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Orleans.Hosting;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Silo;

/// <summary>
/// TLS between silos (cluster.tls.*): two silo processes with certificates from the cluster's CA form a cluster
/// over mutual TLS, an Orleans client with a CA-signed certificate reaches their gateways, and a topic replicated on
/// both serves a produce and a consume; a third silo whose certificate comes from another CA cannot join: the
/// cluster's silos log why they refuse it, it logs why it refuses them, it never becomes Active and gives up.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ClusterTlsProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Silos_of_the_cluster_ca_serve_over_tls_and_a_silo_of_another_ca_cannot_join()
    {
        using var folder = new TempDirectory("cluster-tls");
        using var authority = Certificates.Authority("actors-test-cluster-ca");
        using var otherAuthority = Certificates.Authority("actors-test-other-ca");
        var ca = Certificates.WritePem(folder, "ca", authority);
        var otherCa = Certificates.WritePem(folder, "other-ca", otherAuthority);
        foreach (var name in new[] { "silo1", "silo2", "client" })
        {
            Certificates.Issue(folder, name, authority);
        }

        Certificates.Issue(folder, "intruder", otherAuthority);
        string[] Tls(string name, string trust) =>
            ["--cluster.tls.certificate", folder.File($"{name}.pem"), "--cluster.tls.key", folder.File($"{name}.key"), "--cluster.tls.ca", trust];
        var clientTls = ClusterTls.Load(folder.File("client.pem"), folder.File("client.key"), null, ca);

        // The client reaches the cluster only through a gateway: starting proves the gateway speaks TLS with it.
        await using var cluster = await ProcessCluster.StartAsync(2, output.WriteLine, siloArgs: name => Tls(name, ca), client: c => c.UseTls(clientTls.Configure));
        Assert.All(cluster.Silos, s => Assert.NotEmpty(s.Logged("Cluster TLS on for silo and gateway connections")));
        var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);

        // A replica on each silo: acks=all waits for the follower, which fetches over the silo-to-silo TLS link.
        var topic = $"tls-{Guid.NewGuid():N}"[..16];
        var bootstrap = $"127.0.0.1:{cluster.Silos[0].KafkaPort}";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 2 }]);
        }

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < 5; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"over tls {i}" });
            }
        }

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"over tls {i}"), Consume($"127.0.0.1:{cluster.Silos[1].KafkaPort}", topic, 5));

        // Another CA's silo, consistent with itself (it trusts its own CA), so it starts and tries to join.
        var intruder = cluster.StartSilo("intruder", Tls("intruder", otherCa),
            new Dictionary<string, string> { ["Actors__Membership__MaxJoinAttemptTime"] = "00:00:10" });
        await Wait.UntilAsync(() => !intruder.Running, TimeSpan.FromSeconds(120), "the intruder silo to give up joining and exit", cluster.Tails);

        Assert.False(intruder.Started, "The intruder silo said it was Active." + Environment.NewLine + intruder.Tail());
        Assert.Contains(cluster.Silos.Take(2), s => s.Logged("certificate CN=actors-test-intruder").Any(l => l.Contains("does not belong to this cluster", StringComparison.Ordinal)));
        Assert.True(intruder.Logged("does not belong to this cluster").Length > 0,
            "The intruder silo did not log why it refused the cluster's silos." + Environment.NewLine + intruder.Tail());
        var all = await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false);
        Assert.DoesNotContain(all, h => h.Key.Endpoint.Port == intruder.SiloPort && h.Value == SiloStatus.Active);
        Assert.Equal(2, all.Count(h => h.Value == SiloStatus.Active));
    }

    private static List<string> Consume(string bootstrap, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "tls-readers" }).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning));
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

/// <summary>Certificates made in the test, as docs/security.md makes them with openssl: a CA, and silo certificates
/// it signs for both server and client authentication.</summary>
internal static class Certificates
{
    public static X509Certificate2 Authority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Writes <paramref name="name"/>.pem (the certificate) and returns its path.</summary>
    public static string WritePem(TempDirectory folder, string name, X509Certificate2 certificate)
    {
        var path = folder.File($"{name}.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>Writes <paramref name="name"/>.pem and <paramref name="name"/>.key: a certificate for CN=actors-test-<paramref name="name"/>
    /// (127.0.0.1 and localhost) signed by <paramref name="authority"/>.</summary>
    public static void Issue(TempDirectory folder, string name, X509Certificate2 authority)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=actors-test-{name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var certificate = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(folder.File($"{name}.pem"), certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(folder.File($"{name}.key"), key.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
