using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Actors.Kafka.Listener;
using Actors.Kafka.Security;

namespace Actors.Kafka.Tests.Security;

/// <summary><c>ssl.client.auth</c> and <c>ssl.truststore.location</c> as the listener options resolve them, and the
/// client certificate check and principal (<see cref="ClientCertificates"/>).</summary>
public sealed class ClientCertificatesTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("actors-client-certs-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Ssl_client_auth_applies_to_ssl_listeners_and_to_a_sasl_ssl_listener_only_by_its_own_name()
    {
        var (ca, _) = Ca("CN=clients-ca");
        var options = Options(ca);
        var plain = options.ResolveAll("h");
        Assert.Equal([ClientAuth.Required, ClientAuth.None], plain.Select(l => l.Security.ClientAuth));
        Assert.Equal(ca.Thumbprint, Assert.Single(plain[0].Security.Truststore!).Thumbprint);

        options.ListenerSslClientAuth["SASL_SSL"] = "Requested";
        Assert.Equal([ClientAuth.Required, ClientAuth.Requested], options.ResolveAll("h").Select(l => l.Security.ClientAuth));
    }

    [Theory]
    [InlineData("maybe", true, "ssl.client.auth (Actors:Kafka:SslClientAuth) is 'maybe'; use none, requested or required")]
    [InlineData("required", false, "set ssl.truststore.location (Actors:Kafka:SslTruststoreLocation)")]
    public void A_bad_client_auth_setting_is_refused_naming_it(string clientAuth, bool truststore, string problem)
    {
        var (ca, _) = Ca("CN=clients-ca");
        var options = Options(ca);
        options.SslClientAuth = clientAuth;
        if (!truststore)
        {
            options.SslTruststoreLocation = null;
        }

        Assert.Contains(problem, Assert.Throws<ArgumentException>(() => options.ResolveAll("h")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_is_accepted_only_when_a_truststore_ca_signed_it_and_none_only_when_not_required()
    {
        var (ca, caKey) = Ca("CN=clients-ca");
        var (other, otherKey) = Ca("CN=other-ca");
        var security = Options(ca).ResolveAll("h")[0].Security;
        using var signed = Client("CN=carol, OU=eng, O=actors-test", ca, caKey);
        using var foreign = Client("CN=mallory", other, otherKey);

        Assert.Null(ClientCertificates.Refusal(security, signed));
        Assert.Contains("'CN=mallory' is not signed by a CA of ssl.truststore.location", ClientCertificates.Refusal(security, foreign), StringComparison.Ordinal);
        Assert.Contains("no client certificate was presented", ClientCertificates.Refusal(security, null), StringComparison.Ordinal);
        Assert.Null(ClientCertificates.Refusal(security with { ClientAuth = ClientAuth.Requested }, null));
        caKey.Dispose();
        otherKey.Dispose();
    }

    [Theory]
    [InlineData("CN=carol, OU=eng, O=actors-test", "CN=carol,OU=eng,O=actors-test")]
    [InlineData("CN=\"Smith, John\", DC=example, DC=com", "CN=Smith\\, John,DC=example,DC=com")]
    [InlineData("C=NO, L=Oslo, CN=svc", "C=NO,L=Oslo,CN=svc")]
    public void The_principal_is_the_subject_as_rfc_2253_writes_it(string subject, string expected)
    {
        var (ca, caKey) = Ca("CN=clients-ca");
        using var certificate = Client(subject, ca, caKey);

        Assert.Equal(expected, ClientCertificates.Subject(certificate));
        caKey.Dispose();
    }

    /// <summary>SSL and SASL_SSL listeners with a keystore, ssl.client.auth=required and <paramref name="ca"/> as the truststore.</summary>
    private KafkaListenerOptions Options(X509Certificate2 ca)
    {
        var (server, serverKey) = Ca("CN=listener");
        var keystore = Path.Combine(folder, $"listener-{Guid.NewGuid():N}.pem");
        File.WriteAllText(keystore, server.ExportCertificatePem() + "\n" + serverKey.ExportPkcs8PrivateKeyPem());
        serverKey.Dispose();
        var truststore = Path.Combine(folder, $"ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(truststore, ca.ExportCertificatePem());
        return new KafkaListenerOptions
        {
            Listeners = "SSL://:9093,SASL_SSL://:9094",
            SslKeystoreLocation = keystore,
            SslClientAuth = "required",
            SslTruststoreLocation = truststore,
        };
    }

    private static (X509Certificate2 Certificate, RSA Key) Ca(string subject)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)), key);
    }

    private static X509Certificate2 Client(string subject, X509Certificate2 ca, RSA caKey)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(ca.HasPrivateKey && caKey.KeySize > 0, "the CA signs with its own key");
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }
}
