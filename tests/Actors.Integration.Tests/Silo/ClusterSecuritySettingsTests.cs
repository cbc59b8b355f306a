using System.Text;
using Actors.Silo;
using Actors.Testing;
using Microsoft.Extensions.Configuration;

namespace Actors.Integration.Tests.Silo;

/// <summary>The cluster TLS files and the http.auth setting are checked before the silo starts, and the Basic header
/// is parsed strictly.</summary>
public sealed class ClusterSecuritySettingsTests
{
    [Fact]
    public void A_certificate_the_cluster_ca_did_not_sign_stops_the_silo_naming_cluster_tls_ca()
    {
        using var folder = new TempDirectory("cluster-tls-settings");
        using var authority = Certificates.Authority("actors-test-cluster-ca");
        using var other = Certificates.Authority("actors-test-other-ca");
        var ca = Certificates.WritePem(folder, "ca", authority);
        Certificates.Issue(folder, "stranger", other);
        Certificates.Issue(folder, "member", authority);

        var refused = Assert.Throws<ArgumentException>(() => ClusterTls.Load(folder.File("stranger.pem"), folder.File("stranger.key"), null, ca));
        Assert.Contains("is not accepted by cluster.tls.ca", refused.Message, StringComparison.Ordinal);
        Assert.Contains("its chain to the cluster's CA fails", refused.Message, StringComparison.Ordinal);

        var member = ClusterTls.Load(folder.File("member.pem"), folder.File("member.key"), null, ca);
        Assert.True(member.Accepts(member.Certificate, out _));
        var missingKey = Assert.Throws<ArgumentException>(() => ClusterTls.Load(folder.File("member.pem"), folder.File("none.key"), null, ca));
        Assert.Contains("cluster.tls.key (Actors:ClusterTls:Key)", missingKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_ca_only_the_same_certificate_is_accepted()
    {
        using var folder = new TempDirectory("cluster-tls-same");
        using var authority = Certificates.Authority("actors-test-cluster-ca");
        Certificates.Issue(folder, "shared", authority);
        Certificates.Issue(folder, "another", authority);

        var shared = ClusterTls.Load(folder.File("shared.pem"), folder.File("shared.key"), null, null);
        var another = ClusterTls.Load(folder.File("another.pem"), folder.File("another.key"), null, null);

        Assert.True(shared.Accepts(shared.Certificate, out _));
        Assert.False(shared.Accepts(another.Certificate, out var reason));
        Assert.Contains("not this silo's certificate", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false, "None")]
    [InlineData(null, true, "Sasl")]
    [InlineData("none", true, "None")]
    [InlineData("SASL", false, "Sasl")]
    public void Http_auth_defaults_to_sasl_when_a_listener_uses_sasl(string? value, bool sasl, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [HttpAuthentication.ConfigKey] = value }).Build();

        Assert.Equal(expected, HttpAuthentication.ReadMode(configuration, sasl).ToString());
        Assert.Contains("http.auth", Assert.Throws<ArgumentException>(() => HttpAuthentication.ReadMode(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [HttpAuthentication.ConfigKey] = "basic" }).Build(), sasl)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic YWxpY2U6c2VjcmV0", true, "alice", "secret")]
    [InlineData("basic YWxpY2U6czpl", true, "alice", "s:e")]
    [InlineData("Bearer YWxpY2U6c2VjcmV0", false, "", "")]
    [InlineData("Basic not-base64!", false, "", "")]
    [InlineData("Basic OnNlY3JldA==", false, "", "")]
    [InlineData("Basic YWxpY2U6", false, "", "")]
    public void Basic_headers_are_parsed_strictly(string header, bool ok, string user, string password)
    {
        Assert.Equal((ok, user, password), (HttpAuthentication.TryParseBasic(header, out var u, out var p), u, p));
    }

    [Fact]
    public void An_oversized_basic_header_is_refused()
    {
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + new string('x', 5000)));

        Assert.False(HttpAuthentication.TryParseBasic(header, out _, out _));
    }
}
