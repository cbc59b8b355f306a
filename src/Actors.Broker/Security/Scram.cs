using System.Security.Cryptography;
using System.Text;

namespace Actors.Broker.Security;

/// <summary>
/// SCRAM's key derivation (RFC 5802 section 3, with SHA-256 and SHA-512 as RFC 7677 and Kafka use them):
/// SaltedPassword = Hi(password, salt, i) (PBKDF2 with HMAC), ClientKey = HMAC(SaltedPassword, "Client Key"),
/// StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key").
/// </summary>
public static class Scram
{
    /// <summary>Kafka's lower bound on iterations (and RFC 7677's recommended minimum).</summary>
    public const int MinIterations = 4096;

    /// <summary>Kafka's upper bound on iterations.</summary>
    public const int MaxIterations = 16384;

    /// <summary>Kafka's mechanism names.</summary>
    public static string Name(ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => "SCRAM-SHA-256",
        ScramMechanism.ScramSha512 => "SCRAM-SHA-512",
        _ => "UNKNOWN",
    };

    /// <summary>The mechanism named <paramref name="name"/> (case-insensitive), or <see cref="ScramMechanism.Unknown"/>.</summary>
    public static ScramMechanism Parse(string? name) => name?.ToUpperInvariant() switch
    {
        "SCRAM-SHA-256" => ScramMechanism.ScramSha256,
        "SCRAM-SHA-512" => ScramMechanism.ScramSha512,
        _ => ScramMechanism.Unknown,
    };

    public static HashAlgorithmName Hash(ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => HashAlgorithmName.SHA256,
        ScramMechanism.ScramSha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "Not a SCRAM mechanism."),
    };

    /// <summary>The hash's output size in bytes.</summary>
    public static int KeyBytes(ScramMechanism mechanism) => mechanism == ScramMechanism.ScramSha512 ? 64 : 32;

    /// <summary>Hi(password, salt, i): PBKDF2 over the UTF-8 password (SASLprep is not applied: Kafka's clients
    /// send the password as it is typed).</summary>
    public static byte[] SaltedPassword(ScramMechanism mechanism, string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, Hash(mechanism), KeyBytes(mechanism));

    public static byte[] Hmac(ScramMechanism mechanism, byte[] key, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => HMACSHA256.HashData(key, data),
        ScramMechanism.ScramSha512 => HMACSHA512.HashData(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "Not a SCRAM mechanism."),
    };

    public static byte[] H(ScramMechanism mechanism, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => SHA256.HashData(data),
        ScramMechanism.ScramSha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "Not a SCRAM mechanism."),
    };

    /// <summary>The credential to store for a salted password.</summary>
    public static ScramCredential Credential(ScramMechanism mechanism, byte[] saltedPassword, byte[] salt, int iterations)
    {
        var clientKey = Hmac(mechanism, saltedPassword, "Client Key"u8);
        return new ScramCredential(mechanism, salt, iterations, H(mechanism, clientKey), Hmac(mechanism, saltedPassword, "Server Key"u8));
    }

    /// <summary>The credential for a password, with a fresh random salt.</summary>
    public static ScramCredential FromPassword(ScramMechanism mechanism, string password, int iterations = MinIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(32);
        return Credential(mechanism, SaltedPassword(mechanism, password, salt, iterations), salt, iterations);
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="credential"/> (SASL/PLAIN checked against
    /// the SCRAM store), in time independent of where the keys differ.</summary>
    public static bool Matches(ScramCredential credential, string password)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var salted = SaltedPassword(credential.Mechanism, password, credential.Salt, credential.Iterations);
        var stored = H(credential.Mechanism, Hmac(credential.Mechanism, salted, "Client Key"u8));
        return CryptographicOperations.FixedTimeEquals(stored, credential.StoredKey);
    }
}
