using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Integration.Tests.Kafka.Clients;
using Actors.Testing;
using Confluent.Kafka;
using Admin = Confluent.Kafka.Admin;
using ScramMechanism = Actors.Broker.ScramMechanism;

namespace Actors.Integration.Tests.Kafka.Security;

/// <summary>
/// One silo process with a SASL_SSL Kafka listener (a self-signed certificate made for the test, SCRAM-SHA-256,
/// SCRAM-SHA-512 and PLAIN enabled), with user "alice" created in the cluster's credential store, and an SSL listener
/// beside it that requires client certificates signed by the test's client CA (<c>ssl.client.auth=required</c>). The
/// authorizer is on and closed by default; alice is its super user, so every other principal needs ACLs.
/// </summary>
public sealed class SaslSslSiloFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "alice-secret";

    /// <summary>The subject of the client certificate the client CA signed, as Kafka's principal names it.</summary>
    public const string CertificateSubject = "CN=carol,OU=eng,O=actors-test";

    private readonly TempDirectory folder = new("sasl-ssl");
    private ProcessCluster? cluster;

    public string CaLocation => folder.File("ca.pem");

    internal ProcessCluster Cluster => cluster ?? throw new InvalidOperationException("Not started.");

    public string Bootstrap => $"127.0.0.1:{Cluster.Silos[0].KafkaPort}";

    /// <summary>The SSL listener that requires client certificates.</summary>
    public string MutualTlsBootstrap => $"127.0.0.1:{Cluster.Silos[0].KafkaPort2}";

    /// <summary>PEM files of a client certificate signed by the client CA (subject <see cref="CertificateSubject"/>) and its key.</summary>
    public (string Certificate, string Key) TrustedClient => (folder.File("carol.pem"), folder.File("carol.key"));

    /// <summary>PEM files of a self-signed client certificate no CA of the truststore signed, and its key.</summary>
    public (string Certificate, string Key) UntrustedClient => (folder.File("mallory.pem"), folder.File("mallory.key"));

    public async Task InitializeAsync()
    {
        await SelfSignedCertificates.WritePemAsync("actors-test-listener", validDays: 30, folder.File("listener.pem"), CaLocation);
        await WriteClientCertificatesAsync();

        cluster = await ProcessCluster.StartAsync(1, _ => { }, environment: new Dictionary<string, string>
        {
            ["Actors__Kafka__Listeners"] = "SASL_SSL://127.0.0.1:{kafka-port},SSL://127.0.0.1:{kafka-port-2}",
            ["Actors__Kafka__SslClientAuth"] = "required",
            ["Actors__Kafka__SslTruststoreLocation"] = folder.File("clients-ca.pem"),
            ["Actors__Kafka__SslKeystoreLocation"] = folder.File("listener.pem"),
            ["Actors__Kafka__SaslEnabledMechanisms"] = "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
            ["Actors__Kafka__AuthorizerClassName"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ["Actors__Kafka__SuperUsers"] = "User:" + User,
        });

        // The first user comes in through the cluster (an Orleans client), as Kafka's first SCRAM user comes in
        // through its storage tool: every Kafka connection needs one already.
        var store = Cluster.Client.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials);
        var results = await store.AlterAsync([],
        [
            Upsertion(ScramMechanism.ScramSha256, 4096),
            Upsertion(ScramMechanism.ScramSha512, 8192),
        ]);
        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
    }

    public ClientConfig Config(SaslMechanism mechanism, string user = User, string password = Password) => new()
    {
        BootstrapServers = Bootstrap,
        SecurityProtocol = SecurityProtocol.SaslSsl,
        SaslMechanism = mechanism,
        SaslUsername = user,
        SaslPassword = password,
        SslCaLocation = CaLocation,
        SocketTimeoutMs = 10_000,
    };

    /// <summary>Librdkafka settings of a client of the SSL listener, with the certificate and key given (or none).</summary>
    public ClientConfig MutualTlsConfig((string Certificate, string Key)? client) => new()
    {
        BootstrapServers = MutualTlsBootstrap,
        SecurityProtocol = SecurityProtocol.Ssl,
        SslCaLocation = CaLocation,
        SslCertificateLocation = client?.Certificate,
        SslKeyLocation = client?.Key,
        SocketTimeoutMs = 10_000,
    };

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        folder.Dispose();
    }

    /// <summary>The client CA (its certificate is the SSL listener's truststore), carol's certificate signed by it, and
    /// mallory's self-signed one.</summary>
    private async Task WriteClientCertificatesAsync()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=actors-test-clients-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await File.WriteAllTextAsync(folder.File("clients-ca.pem"), ca.ExportCertificatePem());

        using var carolKey = RSA.Create(2048);
        var carolRequest = new CertificateRequest("CN=carol, OU=eng, O=actors-test", carolKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        carolRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        using var carol = carolRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
        await File.WriteAllTextAsync(folder.File("carol.pem"), carol.ExportCertificatePem());
        await File.WriteAllTextAsync(folder.File("carol.key"), carolKey.ExportPkcs8PrivateKeyPem());

        using var malloryKey = RSA.Create(2048);
        var malloryRequest = new CertificateRequest("CN=mallory", malloryKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var mallory = malloryRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await File.WriteAllTextAsync(folder.File("mallory.pem"), mallory.ExportCertificatePem());
        await File.WriteAllTextAsync(folder.File("mallory.key"), malloryKey.ExportPkcs8PrivateKeyPem());
    }

    private static ScramUpsertion Upsertion(ScramMechanism mechanism, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return new ScramUpsertion(User, mechanism, iterations, salt, Scram.SaltedPassword(mechanism, Password, salt, iterations));
    }
}

/// <summary>Confluent.Kafka (librdkafka 2.16) against a SASL_SSL listener: each mechanism, wrong credentials, a
/// plaintext client at the TLS port, and SCRAM users managed through the admin API.</summary>
public sealed partial class SaslSslClientTests(SaslSslSiloFixture silo) : IClassFixture<SaslSslSiloFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Produce_and_consume_over_tls_with_each_sasl_mechanism()
    {
        var topic = $"secure-{Guid.NewGuid():N}"[..20];
        using (var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build())
        {
            await admin.CreateTopicsAsync([new Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig(silo.Config(SaslMechanism.ScramSha512)) { Acks = Acks.All }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"secret {i}" });
            }
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(silo.Config(SaslMechanism.Plain))
        {
            GroupId = "secure-readers",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + Deadline;
        while (values.Count < 10 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } message })
            {
                values.Add(message.Value);
            }
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"secret {i}"), values);
    }

    [Theory]
    [InlineData(SaslMechanism.ScramSha256, "alice", "wrong")]
    [InlineData(SaslMechanism.ScramSha512, "mallory", "alice-secret")]
    [InlineData(SaslMechanism.Plain, "alice", "wrong")]
    public void Wrong_credentials_fail_with_an_authentication_error(SaslMechanism mechanism, string user, string password)
    {
        var errors = new List<Error>();
        using var admin = new AdminClientBuilder(silo.Config(mechanism, user, password))
            .SetErrorHandler((_, e) =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            })
            .Build();

        Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(10)));
        lock (errors)
        {
            Assert.Contains(errors, e => e.Code == ErrorCode.SaslAuthenticationFailed.ToConfluent() || e.Reason.Contains("Authentication failed", StringComparison.OrdinalIgnoreCase));
        }

        Assert.NotEmpty(silo.Cluster.Silos[0].Logged("Authentication of a Kafka client"));
    }

    [Fact]
    public void A_plaintext_client_at_the_tls_port_fails_within_its_timeout_with_a_transport_error()
    {
        var errors = new List<Error>();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = silo.Bootstrap, SocketTimeoutMs = 10_000 })
            .SetErrorHandler((_, e) =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }
            })
            .Build();

        Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(5)));
        lock (errors)
        {
            Assert.Contains(errors, e => e.Code is Confluent.Kafka.ErrorCode.Local_Transport or Confluent.Kafka.ErrorCode.Local_AllBrokersDown);
        }
    }

    [Fact]
    public async Task Scram_users_are_added_described_and_used_through_the_admin_api()
    {
        using var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build();
        await admin.AlterUserScramCredentialsAsync(
        [
            new Admin.UserScramCredentialUpsertion
            {
                User = "bob",
                ScramCredentialInfo = new Admin.ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha256.ToConfluent(), Iterations = 8192 },
                Password = System.Text.Encoding.UTF8.GetBytes("bob-secret"),
            },
        ]);

        var described = await admin.DescribeUserScramCredentialsAsync(["bob"]);
        var bob = Assert.Single(described.UserScramCredentialsDescriptions);
        Assert.Equal(8192, Assert.Single(bob.ScramCredentialInfos).Iterations);

        using var asBob = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256, "bob", "bob-secret")).Build();
        Assert.Contains(asBob.GetMetadata(TimeSpan.FromSeconds(10)).Brokers, b => b.Port == silo.Cluster.Silos[0].KafkaPort);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/console/cluster")]
    public async Task The_http_port_asks_for_the_sasl_users_password_because_the_listener_uses_sasl(string path)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{silo.Cluster.Silos[0].HttpPort}"), Timeout = TimeSpan.FromSeconds(20) };

        using var anonymous = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");

        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, path, SaslSslSiloFixture.User, SaslSslSiloFixture.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, path, SaslSslSiloFixture.User, "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, path, "mallory", SaslSslSiloFixture.Password));
        await Wait.UntilAsync(() => silo.Cluster.Silos[0].Logged("Refused an HTTP request for " + path).Length > 0, TimeSpan.FromSeconds(10),
            $"the silo to log the refused request for {path}", () => silo.Cluster.Silos[0].Tail());

        // The console's address redirects, once authenticated, to its Cluster page.
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, "/console/", SaslSslSiloFixture.User, "wrong"));
        Assert.Equal(HttpStatusCode.Redirect, await GetAsync(http, "/console/", SaslSslSiloFixture.User, SaslSslSiloFixture.Password));

        // /health stays open for load balancers and systemd.
        using var health = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, string path, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [KcatFact]
    public async Task Kcat_produces_and_consumes_over_sasl_ssl_with_scram_and_is_refused_a_wrong_password()
    {
        var topic = $"kcat-secure-{Guid.NewGuid():N}"[..24];
        using (var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha512)).Build())
        {
            await admin.CreateTopicsAsync([new Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        string[] Secure(string password) =>
        [
            "-b", silo.Bootstrap, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-256",
            "-X", $"sasl.username={SaslSslSiloFixture.User}", "-X", $"sasl.password={password}", "-X", $"ssl.ca.location={silo.CaLocation}",
        ];
        var produced = await ClientProcess.RunAsync(KcatFactAttribute.Path!, [.. Secure(SaslSslSiloFixture.Password), "-t", topic, "-P"], Deadline, stdin: "one\ntwo\n");
        Assert.True(produced.Exit == 0, $"kcat -P exited {produced.Exit}: {produced.Stderr}");
        var consumed = await ClientProcess.RunAsync(KcatFactAttribute.Path!, [.. Secure(SaslSslSiloFixture.Password), "-t", topic, "-C", "-o", "beginning", "-e", "-q"], Deadline);
        Assert.True(consumed.Exit == 0, $"kcat -C exited {consumed.Exit}: {consumed.Stderr}");
        Assert.Equal(["one", "two"], consumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var refused = await ClientProcess.RunAsync(KcatFactAttribute.Path!, [.. Secure("wrong"), "-L", "-m", "5"], Deadline);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("Authentication failed", refused.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [PythonConfluentKafkaFact]
    public async Task Debians_python_client_authenticates_with_scram_sha_512_over_tls()
    {
        const string Script = """
            import sys
            from confluent_kafka.admin import AdminClient
            admin = AdminClient({"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512",
                                 "sasl.username": sys.argv[2], "sasl.password": sys.argv[3], "ssl.ca.location": sys.argv[4]})
            metadata = admin.list_topics(timeout=20)
            print(",".join(str(b.port) for b in metadata.brokers.values()))
            """;
        var run = await ClientProcess.RunAsync(PythonConfluentKafkaFactAttribute.Python,
            ["-c", Script, silo.Bootstrap, SaslSslSiloFixture.User, SaslSslSiloFixture.Password, silo.CaLocation], Deadline);

        Assert.True(run.Exit == 0, $"python exited {run.Exit}: {run.Stderr}");
        Assert.Equal(silo.Cluster.Silos[0].KafkaPort.ToString(System.Globalization.CultureInfo.InvariantCulture), run.Stdout.Trim());
    }
}

internal static class ConfluentNames
{
    public static Confluent.Kafka.ErrorCode ToConfluent(this ErrorCode code) => (Confluent.Kafka.ErrorCode)(int)code;

    public static Confluent.Kafka.Admin.ScramMechanism ToConfluent(this ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => Confluent.Kafka.Admin.ScramMechanism.ScramSha256,
        _ => Confluent.Kafka.Admin.ScramMechanism.ScramSha512,
    };
}
