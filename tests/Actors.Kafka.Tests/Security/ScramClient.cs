using System.Text;
using Actors.Broker;
using Actors.Broker.Security;

namespace Actors.Kafka.Tests.Security;

/// <summary>The client side of SCRAM (RFC 5802), written for the tests from the RFC, to drive the listener's server.</summary>
internal sealed class ScramClient(ScramMechanism mechanism, string user, string password, string clientNonce)
{
    private string? clientFirstBare;
    private byte[]? expectedServerSignature;

    public byte[] ClientFirst()
    {
        clientFirstBare = $"n={user.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal)},r={clientNonce}";
        return Encoding.UTF8.GetBytes("n,," + clientFirstBare);
    }

    /// <summary>The client-final message for the server-first message, with the proof; <paramref name="finalNonce"/>
    /// replaces the nonce sent back (as some clients send it).</summary>
    public byte[] ClientFinal(byte[] serverFirstBytes, Func<string, string>? finalNonce = null)
    {
        var serverFirst = Encoding.UTF8.GetString(serverFirstBytes);
        var fields = serverFirst.Split(',').ToDictionary(f => f[0], f => f[2..]);
        var salt = Convert.FromBase64String(fields['s']);
        var iterations = int.Parse(fields['i'], System.Globalization.CultureInfo.InvariantCulture);
        var salted = Scram.SaltedPassword(mechanism, password, salt, iterations);
        var clientKey = Scram.Hmac(mechanism, salted, "Client Key"u8);
        var storedKey = Scram.H(mechanism, clientKey);
        var withoutProof = $"c=biws,r={finalNonce?.Invoke(fields['r']) ?? fields['r']}";
        var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
        var signature = Scram.Hmac(mechanism, storedKey, authMessage);
        var proof = clientKey.Select((b, i) => (byte)(b ^ signature[i])).ToArray();
        expectedServerSignature = Scram.Hmac(mechanism, Scram.Hmac(mechanism, salted, "Server Key"u8), authMessage);
        return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}");
    }

    /// <summary>Whether the server-final message proves the server knows the user's keys.</summary>
    public bool ServerIsAuthentic(byte[] serverFinal) =>
        Encoding.UTF8.GetString(serverFinal) == "v=" + Convert.ToBase64String(expectedServerSignature!);
}
