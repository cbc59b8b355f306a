using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace Actors.Silo;

/// <summary>
/// TLS between silos and on the Orleans client gateway (<c>cluster.tls.*</c>, section "Actors:ClusterTls"), through
/// Orleans' connection middleware (Microsoft.Orleans.Connections.Security). Off unless <c>cluster.tls.certificate</c>
/// is set. Every connection is mutual TLS: each side presents its certificate and accepts the other's only when it
/// chains to one of the cluster's authorities (<c>cluster.tls.ca</c>), or, without one, when it is the very
/// certificate this silo has (one certificate shared by the cluster). Host names are not checked: silos dial each
/// other by IP address, and membership in the cluster is what the certificate proves.
/// </summary>
/// <remarks>Immutable once read, but for <see cref="UseLogger"/>, called once before the host starts. The check runs
/// on connection threads, concurrently; it only reads the certificates and the throttle dictionary.</remarks>
internal sealed partial class ClusterTls
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Actors:ClusterTls";

    /// <summary>A refused peer certificate is logged at most once per this period (peers retry every second or so).</summary>
    private static readonly TimeSpan RefusalLogPeriod = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, DateTime> lastRefusalLogged = new(StringComparer.Ordinal);
    private ILogger logger = NullLogger.Instance;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection authorities, string source)
    {
        Certificate = certificate;
        Authorities = authorities;
        Source = source;
    }

    /// <summary>This silo's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificates a peer's must chain to; empty when peers must present <see cref="Certificate"/> itself.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>Where the trust comes from, for log lines: the CA file, or "the same certificate".</summary>
    public string Source { get; }

    /// <summary>The cluster TLS settings, or null when <c>cluster.tls.certificate</c> is not set (TLS off).</summary>
    /// <exception cref="ArgumentException">A file is missing or unreadable, or the certificate cannot be used for
    /// mutual TLS; the message names the setting.</exception>
    public static ClusterTls? Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var certificatePath = section["Certificate"];
        if (string.IsNullOrWhiteSpace(certificatePath))
        {
            Require(string.IsNullOrWhiteSpace(section["Key"]) && string.IsNullOrWhiteSpace(section["Ca"]),
                "cluster.tls.key or cluster.tls.ca is set without cluster.tls.certificate (Actors:ClusterTls:Certificate): set the silo's certificate too, or neither.");
            return null;
        }

        return Load(certificatePath, section["Key"], section["KeyPassword"], section["Ca"]);
    }

    /// <summary>Loads the certificate, its key and the authorities from PEM files.</summary>
    /// <param name="certificatePath">PEM: the certificate (and, when <paramref name="keyPath"/> is null, its key).</param>
    /// <param name="keyPath">PEM: the private key, or null when it is in the certificate's file.</param>
    /// <param name="keyPassword">The password of an encrypted key, or null.</param>
    /// <param name="authorityPath">PEM: one or more CA certificates, or null to trust only the same certificate.</param>
    /// <exception cref="ArgumentException">As <see cref="Read"/>.</exception>
    public static ClusterTls Load(string certificatePath, string? keyPath, string? keyPassword, string? authorityPath)
    {
        RequireFile(certificatePath, "cluster.tls.certificate (Actors:ClusterTls:Certificate)");
        keyPath = string.IsNullOrWhiteSpace(keyPath) ? null : keyPath;
        if (keyPath is not null)
        {
            RequireFile(keyPath, "cluster.tls.key (Actors:ClusterTls:Key)");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = string.IsNullOrEmpty(keyPassword)
                ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, keyPassword, keyPath);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException(
                $"cluster.tls.certificate '{certificatePath}' with cluster.tls.key '{keyPath ?? "(the same file)"}' could not be read as a PEM certificate and its private key ({e.Message}); an encrypted key needs cluster.tls.key.password.", e);
        }

        Require(certificate.HasPrivateKey, $"cluster.tls.certificate '{certificatePath}': no private key for the certificate; set cluster.tls.key to its key file.");
        Require(AllowsUsage(certificate, ServerAuthentication) && AllowsUsage(certificate, ClientAuthentication),
            $"cluster.tls.certificate '{certificatePath}' ({certificate.Subject}) limits its extended key usage without both serverAuth and clientAuth; silos use it both ways (openssl: extendedKeyUsage = serverAuth, clientAuth).");
        var now = DateTime.Now;
        Require(certificate.NotBefore <= now && now <= certificate.NotAfter,
            $"cluster.tls.certificate '{certificatePath}' ({certificate.Subject}) is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now.");

        var authorities = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(authorityPath))
        {
            RequireFile(authorityPath, "cluster.tls.ca (Actors:ClusterTls:Ca)");
            try
            {
                authorities.ImportFromPemFile(authorityPath);
            }
            catch (CryptographicException e)
            {
                throw new ArgumentException($"cluster.tls.ca '{authorityPath}' could not be read as PEM certificates ({e.Message}).", e);
            }

            Require(authorities.Count > 0, $"cluster.tls.ca '{authorityPath}' holds no certificate (expected -----BEGIN CERTIFICATE----- blocks).");
        }

        var tls = new ClusterTls(certificate, authorities,
            authorities.Count > 0 ? $"the authorities in {authorityPath}" : $"the same certificate as {certificatePath}");
        Require(tls.Accepts(certificate, out var own),
            $"cluster.tls.certificate '{certificatePath}' ({certificate.Subject}) is not accepted by cluster.tls.ca '{authorityPath}' ({own}): other silos would refuse it; give a certificate the cluster's CA signed.");
        return tls;
    }

    /// <summary>Where refusals are logged; call once, before the host starts.</summary>
    public void UseLogger(ILoggerFactory loggers) => logger = loggers.CreateLogger<ClusterTls>();

    /// <summary>Turns TLS on for the silo's inbound silo and gateway connections and its outbound silo connections.</summary>
    public void Apply(ISiloBuilder silo) => silo.UseTls(Certificate, Configure);

    /// <summary>Orleans' TLS options for either end: present <see cref="Certificate"/>, require the peer's, and check
    /// it with <see cref="Accepts"/>. A client (<c>IClientBuilder.UseTls</c>) configured the same way reaches a
    /// gateway of a TLS cluster.</summary>
    public void Configure(TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = Validate;
    }

    /// <summary>Whether <paramref name="peer"/> belongs to the cluster: it chains to one of <see cref="Authorities"/>
    /// (within its validity, with no revocation check), or, without authorities, it is <see cref="Certificate"/>.</summary>
    /// <param name="peer">The certificate the other end presented.</param>
    /// <param name="reason">Why it is refused (empty when accepted).</param>
    public bool Accepts(X509Certificate2 peer, out string reason)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (Authorities.Count == 0)
        {
            var same = peer.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span);
            reason = same ? string.Empty : $"it is not this silo's certificate {Certificate.Subject} ({Certificate.Thumbprint}), and no cluster.tls.ca is set";
            return same;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var accepted = chain.Build(peer);
        reason = accepted
            ? string.Empty
            : "its chain to the cluster's CA fails: " + string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status} ({s.StatusInformation.Trim()})"));
        foreach (var element in chain.ChainElements)
        {
            if (!ReferenceEquals(element.Certificate, peer))
            {
                element.Certificate.Dispose();
            }
        }

        return accepted;
    }

    private bool Validate(X509Certificate2 peer, X509Chain? chain, SslPolicyErrors errors)
    {
        if (Accepts(peer, out var reason))
        {
            return true;
        }

        var now = DateTime.UtcNow;
        var thumbprint = peer.Thumbprint;
        if (!lastRefusalLogged.TryGetValue(thumbprint, out var last) || now - last >= RefusalLogPeriod)
        {
            if (lastRefusalLogged.Count > 1024)
            {
                lastRefusalLogged.Clear();
            }

            lastRefusalLogged[thumbprint] = now;
            LogRefused(logger, peer.Subject, peer.Issuer, thumbprint, reason, Source);
        }

        return false;
    }

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>True when the certificate has no extended key usage (any use) or lists <paramref name="oid"/>.</summary>
    private static bool AllowsUsage(X509Certificate2 certificate, string oid)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return usages.Count == 0 || usages.Any(u => u.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == oid));
    }

    private static void RequireFile(string path, string setting) =>
        Require(File.Exists(path), $"{setting} '{path}' does not exist.");

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning,
        Message = "Refused a silo or client TLS connection: its certificate {Subject} (issuer {Issuer}, thumbprint {Thumbprint}) does not belong to this cluster: {Reason}. This silo trusts {Trust} (cluster.tls.ca, cluster.tls.certificate)")]
    private static partial void LogRefused(ILogger logger, string subject, string issuer, string thumbprint, string reason, string trust);
}
