using System.Security.Cryptography.X509Certificates;
using System.Text;
using Actors.Kafka.Listener;

namespace Actors.Kafka.Security;

/// <summary>
/// Client certificates on a TLS listener that asks for them (<c>ssl.client.auth</c>): whether one is accepted, and the
/// principal it gives on an SSL listener, <c>User:</c> and its subject as Kafka writes it (RFC 2253:
/// <c>CN=alice,OU=eng,O=acme</c>, most specific first, no spaces after the commas).
/// </summary>
public static class ClientCertificates
{
    /// <summary>Why <paramref name="certificate"/> is refused on a listener with <paramref name="security"/>, or null
    /// when it is accepted: none presented where one is required, or one that does not chain to a CA of the
    /// truststore (checked whenever one is presented, as Kafka does).</summary>
    public static string? Refusal(ListenerSecurity security, X509Certificate? certificate)
    {
        ArgumentNullException.ThrowIfNull(security);
        if (certificate is null)
        {
            return security.ClientAuth == ClientAuth.Required
                ? $"no client certificate was presented; the listener {security.ListenerName} requires one (ssl.client.auth=required)"
                : null;
        }

        if (certificate is not X509Certificate2 presented)
        {
            return "the client certificate could not be read";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (security.Truststore is { } trusted)
        {
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            chain.ChainPolicy.ExtraStore.AddRange(trusted);
        }

        if (chain.Build(presented))
        {
            return null;
        }

        var problems = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"the client certificate '{Subject(presented)}' is not signed by a CA of ssl.truststore.location, or is not valid now ({problems})";
    }

    /// <summary>The certificate's subject as Kafka's principal names it (RFC 2253).</summary>
    public static string Subject(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var parts = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                // Rare (several attributes in one RDN): the platform's own rendering of the whole name.
                return certificate.SubjectName.Decode(X500DistinguishedNameFlags.UseCommas | X500DistinguishedNameFlags.DoNotUseQuotes)
                    .Replace(", ", ",", StringComparison.Ordinal);
            }

            var oid = rdn.GetSingleElementType();
            parts.Add($"{ShortName(oid.Value ?? string.Empty)}={Escape(rdn.GetSingleElementValue() ?? string.Empty)}");
        }

        return string.Join(',', parts);
    }

    private static string ShortName(string oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => oid,
    };

    /// <summary>RFC 2253's escaping of an attribute value.</summary>
    private static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' || (i == 0 && c is '#' or ' ') || (i == value.Length - 1 && c == ' '))
            {
                text.Append('\\');
            }

            text.Append(c);
        }

        return text.ToString();
    }
}
