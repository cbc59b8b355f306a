using System.Security.Cryptography;
using System.Text;
using Actors.Broker;
using Actors.Broker.Security;

namespace Actors.Kafka.Security;

/// <summary>Looks up a user's SCRAM credential (the cluster's store, or a dictionary in unit tests).</summary>
public delegate Task<ScramCredential?> ScramCredentialLookup(string user, ScramMechanism mechanism);

/// <summary>One step of a SASL exchange: the bytes to send back, and whether it ended (with a principal, or failed).</summary>
/// <param name="Response">The server's token (empty when there is none).</param>
/// <param name="Complete">The exchange is over.</param>
/// <param name="Principal">The authenticated user once complete and successful.</param>
/// <param name="Failure">Why authentication failed; the client is told this and the connection is closed.</param>
public sealed record SaslStep(byte[] Response, bool Complete, string? Principal, string? Failure)
{
    public static SaslStep Continue(byte[] response) => new(response, false, null, null);

    public static SaslStep Done(byte[] response, string principal) => new(response, true, principal, null);

    public static SaslStep Fail(string failure) => new([], true, null, failure);
}

/// <summary>The server side of one SASL mechanism for one connection.</summary>
public interface ISaslServer
{
    string Mechanism { get; }

    /// <summary>Takes the client's next token; bad or unexpected input is a failed step, never an exception.</summary>
    Task<SaslStep> EvaluateAsync(byte[] token);
}

/// <summary>The mechanisms the listener serves, by Kafka's names.</summary>
public static class SaslMechanisms
{
    public const string Plain = "PLAIN";
    public const string ScramSha256 = "SCRAM-SHA-256";
    public const string ScramSha512 = "SCRAM-SHA-512";

    public static IReadOnlyList<string> Served { get; } = [ScramSha256, ScramSha512, Plain];

    /// <summary>A server for <paramref name="mechanism"/>, or null when it is not one we serve.</summary>
    public static ISaslServer? Create(string mechanism, ScramCredentialLookup credentials) => mechanism switch
    {
        Plain => new PlainSaslServer(credentials),
        ScramSha256 => new ScramSaslServer(ScramMechanism.ScramSha256, credentials),
        ScramSha512 => new ScramSaslServer(ScramMechanism.ScramSha512, credentials),
        _ => null,
    };
}

/// <summary>
/// SASL/PLAIN (RFC 4616): one message "authzid NUL authcid NUL password". The password is checked against the user's
/// SCRAM credential (SHA-256 first, then SHA-512), so PLAIN and SCRAM share one store and no password is kept
/// anywhere. Meant for TLS listeners only: the password crosses the wire.
/// </summary>
public sealed class PlainSaslServer(ScramCredentialLookup credentials) : ISaslServer
{
    /// <summary>Bounds the message: user, authorization id and password of at most this many bytes together.</summary>
    public const int MaxMessageBytes = 4096;

    private bool used;

    public string Mechanism => SaslMechanisms.Plain;

    public async Task<SaslStep> EvaluateAsync(byte[] token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (used)
        {
            return SaslStep.Fail("SASL/PLAIN takes one message.");
        }

        used = true;
        if (token.Length > MaxMessageBytes)
        {
            return SaslStep.Fail($"The SASL/PLAIN message is {token.Length} bytes, more than {MaxMessageBytes}.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(token);
        }
        catch (DecoderFallbackException)
        {
            return SaslStep.Fail("The SASL/PLAIN message is not UTF-8.");
        }

        var parts = text.Split('\0');
        if (parts.Length != 3)
        {
            return SaslStep.Fail("The SASL/PLAIN message must be: authorization id, NUL, user, NUL, password.");
        }

        var (authorizationId, user, password) = (parts[0], parts[1], parts[2]);
        if (user.Length == 0 || password.Length == 0)
        {
            return SaslStep.Fail("SASL/PLAIN needs a user name and a password.");
        }

        if (authorizationId.Length > 0 && !string.Equals(authorizationId, user, StringComparison.Ordinal))
        {
            return SaslStep.Fail("SASL/PLAIN: the authorization id must be empty or the user's own name.");
        }

        foreach (var mechanism in new[] { ScramMechanism.ScramSha256, ScramMechanism.ScramSha512 })
        {
            var credential = await credentials(user, mechanism).ConfigureAwait(false);
            if (credential is not null)
            {
                return Scram.Matches(credential, password)
                    ? SaslStep.Done([], user)
                    : SaslStep.Fail(InvalidCredentials(SaslMechanisms.Plain));
            }
        }

        return SaslStep.Fail(InvalidCredentials(SaslMechanisms.Plain));
    }

    /// <summary>Kafka's words for a wrong user or password; they do not say which.</summary>
    internal static string InvalidCredentials(string mechanism) =>
        $"Authentication failed: Invalid username or password (mechanism {mechanism}).";
}

/// <summary>
/// SASL/SCRAM-SHA-256 and -512 (RFC 5802, RFC 7677) as Kafka serves them: client-first, server-first (nonce, salt,
/// iterations), client-final with the proof, server-final with the server's signature. No channel binding ("n" or
/// "y" GS2 flags only). An unknown user gets a salt derived from its name and fails at the proof, so the exchange
/// does not tell which users exist. Kafka's delegation-token extension is refused.
/// </summary>
/// <param name="mechanism">SCRAM-SHA-256 or SCRAM-SHA-512.</param>
/// <param name="credentials">Where users' credentials are looked up.</param>
/// <param name="serverNonce">The server's part of the nonce; random (24 bytes, base64) unless a test fixes it.</param>
public sealed class ScramSaslServer(ScramMechanism mechanism, ScramCredentialLookup credentials, Func<string>? serverNonce = null) : ISaslServer
{
    /// <summary>Bounds each client message.</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>Salts for unknown users come from this per-process key, so they look stable and real.</summary>
    private static readonly byte[] UnknownUserKey = RandomNumberGenerator.GetBytes(32);

    private Stage stage = Stage.ClientFirst;
    private string? user;
    private string? clientFirstBare;
    private string? serverFirst;
    private string? nonce;
    private string? gs2Header;
    private ScramCredential? credential;
    private ScramCredential? decoy;

    private enum Stage
    {
        ClientFirst,
        ClientFinal,
        Done,
    }

    public string Mechanism => Scram.Name(mechanism);

    public async Task<SaslStep> EvaluateAsync(byte[] token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length > MaxMessageBytes)
        {
            stage = Stage.Done;
            return SaslStep.Fail($"The {Mechanism} message is {token.Length} bytes, more than {MaxMessageBytes}.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(token);
        }
        catch (DecoderFallbackException)
        {
            stage = Stage.Done;
            return SaslStep.Fail($"The {Mechanism} message is not UTF-8.");
        }

        switch (stage)
        {
            case Stage.ClientFirst:
                return await ClientFirstAsync(text).ConfigureAwait(false);
            case Stage.ClientFinal:
                stage = Stage.Done;
                return ClientFinal(text);
            default:
                return SaslStep.Fail($"The {Mechanism} exchange is already over.");
        }
    }

    private async Task<SaslStep> ClientFirstAsync(string message)
    {
        stage = Stage.Done;

        // gs2-header: cbind-flag "," [authzid] ","
        var first = message.IndexOf(',', StringComparison.Ordinal);
        var second = first < 0 ? -1 : message.IndexOf(',', first + 1);
        if (second < 0)
        {
            return SaslStep.Fail($"Invalid {Mechanism} client-first message: no GS2 header.");
        }

        var flag = message[..first];
        if (flag is not ("n" or "y"))
        {
            return SaslStep.Fail($"{Mechanism}: channel binding ('{flag}') is not supported; use the GS2 flag 'n'.");
        }

        var authorizationId = message[(first + 1)..second];
        gs2Header = message[..(second + 1)];
        clientFirstBare = message[(second + 1)..];
        var attributes = Attributes(clientFirstBare);
        if (attributes is null || !attributes.TryGetValue('n', out var encodedUser) || !attributes.TryGetValue('r', out var clientNonce)
            || clientNonce.Length == 0 || clientFirstBare.StartsWith("m=", StringComparison.Ordinal))
        {
            return SaslStep.Fail($"Invalid {Mechanism} client-first message: it needs n=<user>,r=<nonce>.");
        }

        if (attributes.Keys.Any(k => k is not ('n' or 'r')) || clientFirstBare.Contains("tokenauth", StringComparison.Ordinal))
        {
            return SaslStep.Fail($"{Mechanism}: extensions (delegation tokens) are not supported.");
        }

        user = DecodeName(encodedUser);
        if (string.IsNullOrEmpty(user))
        {
            return SaslStep.Fail($"Invalid {Mechanism} user name: '=' must be written =2C or =3D.");
        }

        if (authorizationId.Length > 0)
        {
            if (!authorizationId.StartsWith("a=", StringComparison.Ordinal) || DecodeName(authorizationId[2..]) != user)
            {
                return SaslStep.Fail($"{Mechanism}: the authorization id must be empty or the user's own name.");
            }
        }

        credential = await credentials(user, mechanism).ConfigureAwait(false);
        var salt = credential?.Salt ?? HMACSHA256.HashData(UnknownUserKey, Encoding.UTF8.GetBytes(user));
        var iterations = credential?.Iterations ?? Scram.MinIterations;
        if (credential is null)
        {
            // Any proof fails against random keys, after the same steps a real user takes.
            decoy = new ScramCredential(mechanism, salt, iterations, RandomNumberGenerator.GetBytes(Scram.KeyBytes(mechanism)), RandomNumberGenerator.GetBytes(Scram.KeyBytes(mechanism)));
        }

        nonce = clientNonce + (serverNonce?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        serverFirst = $"r={nonce},s={Convert.ToBase64String(salt)},i={iterations.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        stage = Stage.ClientFinal;
        return SaslStep.Continue(Encoding.UTF8.GetBytes(serverFirst));
    }

    private SaslStep ClientFinal(string message)
    {
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            return SaslStep.Fail($"Invalid {Mechanism} client-final message: no proof.");
        }

        var withoutProof = message[..proofAt];
        var attributes = Attributes(withoutProof);
        if (attributes is null || !attributes.TryGetValue('c', out var binding) || !attributes.TryGetValue('r', out var finalNonce))
        {
            return SaslStep.Fail($"Invalid {Mechanism} client-final message: it needs c=<binding>,r=<nonce>,p=<proof>.");
        }

        if (!string.Equals(binding, Convert.ToBase64String(Encoding.UTF8.GetBytes(gs2Header!)), StringComparison.Ordinal))
        {
            return SaslStep.Fail($"{Mechanism}: the channel binding does not match the GS2 header of the first message.");
        }

        // Kafka accepts a final nonce that ends with the server's (librdkafka before 2.1 sends its own nonce again in
        // front of it); the server's random part is still what must come back.
        if (!finalNonce.EndsWith(nonce!, StringComparison.Ordinal))
        {
            return SaslStep.Fail($"{Mechanism}: the nonce of the final message is not the server's.");
        }

        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            return SaslStep.Fail($"Invalid {Mechanism} client-final message: the proof is not base64.");
        }

        var keys = credential ?? decoy!;
        var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
        var clientSignature = Scram.Hmac(mechanism, keys.StoredKey, authMessage);
        if (proof.Length != clientSignature.Length)
        {
            return SaslStep.Fail(PlainSaslServer.InvalidCredentials(Mechanism));
        }

        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        }

        if (credential is null || !CryptographicOperations.FixedTimeEquals(Scram.H(mechanism, clientKey), keys.StoredKey))
        {
            return SaslStep.Fail(PlainSaslServer.InvalidCredentials(Mechanism));
        }

        var serverSignature = Scram.Hmac(mechanism, keys.ServerKey, authMessage);
        return SaslStep.Done(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)), user!);
    }

    /// <summary>"k=v,k=v" with one-letter keys; null when malformed or a key repeats.</summary>
    private static Dictionary<char, string>? Attributes(string text)
    {
        var result = new Dictionary<char, string>();
        foreach (var part in text.Split(','))
        {
            if (part.Length < 2 || part[1] != '=' || !char.IsAsciiLetter(part[0]) || !result.TryAdd(part[0], part[2..]))
            {
                return null;
            }
        }

        return result;
    }

    /// <summary>RFC 5802's saslname: "=2C" is ',' and "=3D" is '='; any other '=' makes the name invalid (null).</summary>
    internal static string? DecodeName(string encoded)
    {
        var result = new StringBuilder(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] != '=')
            {
                result.Append(encoded[i]);
                continue;
            }

            var code = i + 3 <= encoded.Length ? encoded.Substring(i, 3) : string.Empty;
            if (code == "=2C")
            {
                result.Append(',');
            }
            else if (code == "=3D")
            {
                result.Append('=');
            }
            else
            {
                return null;
            }

            i += 2;
        }

        return result.ToString();
    }
}
