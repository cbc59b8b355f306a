using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Actors.Broker;
using Actors.Broker.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Actors.Silo;

/// <summary>Who may use the silo's HTTP port besides <c>/health</c> (<c>http.auth</c>).</summary>
internal enum HttpAuthMode
{
    /// <summary>Anyone who reaches the port.</summary>
    None,

    /// <summary>HTTP Basic authentication with a user and password of the cluster's SASL users (the SCRAM store).</summary>
    Sasl,
}

/// <summary>
/// HTTP Basic authentication (RFC 7617) for <c>/metrics</c> and the console, checked against the same users as the
/// Kafka listener's SASL: the password is checked as SASL/PLAIN checks it, by deriving the SCRAM salted password with
/// the user's stored salt and iterations and comparing the stored key (SCRAM-SHA-256 first, then SCRAM-SHA-512). No
/// password is kept; a verified (user, password) pair is remembered by a hash that covers the stored credential, so a
/// changed or deleted credential takes effect at the next request and a poll does not redo the key derivation.
/// <c>/health</c> stays open (load balancers and systemd ask it; it says only the silo's name, status and Kafka endpoint).
/// </summary>
/// <remarks>Thread-safe: requests run concurrently; the only state is a bounded concurrent set of hashes.</remarks>
internal sealed partial class HttpAuthentication(IGrainFactory grains, ILogger logger)
{
    /// <summary>The configuration key of <c>http.auth</c>.</summary>
    public const string ConfigKey = "Actors:Http:Auth";

    /// <summary>The challenge sent with every 401.</summary>
    public const string Challenge = "Basic realm=\"Actors\", charset=\"UTF-8\"";

    /// <summary>Bounds the Authorization header read (user and password of a few hundred bytes fit many times).</summary>
    private const int MaxHeaderChars = 4096;

    /// <summary>Bounds the remembered verifications; the set is emptied when full.</summary>
    private const int MaxRemembered = 1024;

    private readonly ConcurrentDictionary<string, bool> verified = new(StringComparer.Ordinal);

    /// <summary>Reads <c>http.auth</c>: sasl or none; unset means sasl when a Kafka listener uses SASL.</summary>
    /// <exception cref="ArgumentException">The value is neither; the message names the setting.</exception>
    public static HttpAuthMode ReadMode(IConfiguration configuration, bool listenerUsesSasl)
    {
        var value = configuration[ConfigKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return listenerUsesSasl ? HttpAuthMode.Sasl : HttpAuthMode.None;
        }

        return value.Trim().ToUpperInvariant() switch
        {
            "SASL" => HttpAuthMode.Sasl,
            "NONE" => HttpAuthMode.None,
            _ => throw new ArgumentException($"http.auth ({ConfigKey}) '{value}' is not one of: sasl, none."),
        };
    }

    /// <summary>Lets <c>/health</c> and authenticated requests through; answers 401 with a Basic challenge otherwise.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length > 0 && await AuthenticateAsync(header, context.Request.Path).ConfigureAwait(false) is { } user)
        {
            context.Items[Actors.WebConsole.ConsoleAccess.UserItem] = user;
            await next(context).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = Challenge;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("Authentication required: a user and password of the cluster's SASL users (http.auth=sasl).\n").ConfigureAwait(false);
    }

    /// <summary>The user of a valid <c>Authorization: Basic</c> header, or null (malformed, unknown user, wrong password).</summary>
    public async Task<string?> AuthenticateAsync(string header, string path)
    {
        if (!TryParseBasic(header, out var user, out var password))
        {
            return null;
        }

        foreach (var mechanism in new[] { ScramMechanism.ScramSha256, ScramMechanism.ScramSha512 })
        {
            var credential = await grains.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials)
                .GetAsync(user, mechanism).ConfigureAwait(false);
            if (credential is null)
            {
                continue;
            }

            if (Verify(user, password, credential))
            {
                return user;
            }

            LogRefused(logger, path, user);
            return null;
        }

        LogRefused(logger, path, user);
        return null;
    }

    /// <summary>"Basic " and base64 of UTF-8 "user:password" (the user has no colon); false when anything else.</summary>
    internal static bool TryParseBasic(string header, out string user, out string password)
    {
        user = password = string.Empty;
        const string Scheme = "Basic ";
        if (header.Length > MaxHeaderChars || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(header[Scheme.Length..].Trim()));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == decoded.Length - 1)
        {
            return false;
        }

        user = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }

    private bool Verify(string user, string password, ScramCredential credential)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{user}\0{password}\0{(int)credential.Mechanism}\0{credential.Iterations}\0{Convert.ToBase64String(credential.Salt)}\0{Convert.ToBase64String(credential.StoredKey)}")));
        if (verified.ContainsKey(key))
        {
            return true;
        }

        if (!Scram.Matches(credential, password))
        {
            return false;
        }

        if (verified.Count >= MaxRemembered)
        {
            verified.Clear();
        }

        verified[key] = true;
        return true;
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning,
        Message = "Refused an HTTP request for {Path}: wrong password or unknown user '{User}' (http.auth=sasl checks the cluster's SASL users)")]
    private static partial void LogRefused(ILogger logger, string path, string user);
}
