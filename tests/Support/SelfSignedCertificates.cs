using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Actors.Testing;

/// <summary>
/// Self-signed server certificates for 127.0.0.1 and localhost, made in process, for the TLS listeners of tests and
/// benchmarks: an RSA 2048 key, CN=<c>commonName</c>, the two names as subject alternative names, not a CA, valid
/// from a day ago for <c>validDays</c> days.
/// </summary>
internal static class SelfSignedCertificates
{
    /// <summary>A certificate with its private key, as an <see cref="System.Net.Security.SslStream"/> server presents it.</summary>
    public static X509Certificate2 Create(string commonName, int validDays)
    {
        using var key = RSA.Create(2048);
        using var ephemeral = CreateSelfSigned(key, commonName, validDays);

        // Through PKCS#12, so the key is not an ephemeral one (SslStream on Windows cannot serve with an ephemeral key).
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Writes a new certificate as a listener's keystore PEM (the certificate, then its PKCS#8 key) at
    /// <paramref name="keystorePath"/> and as the clients' CA file (the same certificate) at <paramref name="caPath"/>.</summary>
    public static async Task WritePemAsync(string commonName, int validDays, string keystorePath, string caPath)
    {
        using var key = RSA.Create(2048);
        using var certificate = CreateSelfSigned(key, commonName, validDays);
        var pem = certificate.ExportCertificatePem();
        await File.WriteAllTextAsync(caPath, pem);
        await File.WriteAllTextAsync(keystorePath, pem + "\n" + key.ExportPkcs8PrivateKeyPem());
    }

    private static X509Certificate2 CreateSelfSigned(RSA key, string commonName, int validDays)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(validDays));
    }
}
