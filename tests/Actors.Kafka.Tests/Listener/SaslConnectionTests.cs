using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Kafka.Listener;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using Actors.Kafka.Tests.Security;

namespace Actors.Kafka.Tests.Listener;

/// <summary>A SASL_PLAINTEXT <see cref="KafkaConnection"/> on a loopback socket pair: the SASL exchange on the wire,
/// what is refused before it, and what a failure does to the connection.</summary>
public sealed class SaslConnectionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static readonly ListenerSecurity SaslPlaintext =
        new("SASL_PLAINTEXT", "SASL_PLAINTEXT", false, true, [SaslMechanisms.ScramSha256, SaslMechanisms.ScramSha512, SaslMechanisms.Plain], null);

    private static readonly ScramCredential Alice = Scram.FromPassword(ScramMechanism.ScramSha256, "alice-secret");

    [Fact]
    public async Task A_request_before_authentication_closes_the_connection_unanswered()
    {
        var (client, run) = await ConnectAsync();
        using (client)
        {
            await client.GetStream().WriteAsync(MetadataFrame(1));

            Assert.Equal(0, await client.GetStream().ReadAsync(new byte[4]).AsTask().WaitAsync(Deadline));
        }

        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Scram_over_SaslAuthenticate_then_requests_are_served()
    {
        var (client, run) = await ConnectAsync();
        using (client)
        {
            var versions = await AskAsync(client, ApiKeys.ApiVersions, 3, 1, (ref KafkaWriter w) => ApiVersionsCodec.WriteRequest(ref w, new ApiVersionsRequest(), 3));
            Assert.True(versions.Length > 0, "ApiVersions is answered before authentication");

            var handshake = Read<SaslHandshakeResponseData>(await AskAsync(client, ApiKeys.SaslHandshake, 1, 2,
                (ref KafkaWriter w) => new SaslHandshakeRequestData { Mechanism = "SCRAM-SHA-256" }.Write(ref w, 1)), ApiKeys.SaslHandshake, 1);
            Assert.Equal(0, handshake.ErrorCode);
            Assert.Equal(["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"], handshake.Mechanisms);

            var scram = new ScramClient(ScramMechanism.ScramSha256, "alice", "alice-secret", "nonce1");
            var first = await AuthenticateAsync(client, 3, scram.ClientFirst());
            Assert.Equal(0, first.ErrorCode);
            var last = await AuthenticateAsync(client, 4, scram.ClientFinal(first.AuthBytes));
            Assert.Equal(0, last.ErrorCode);
            Assert.True(scram.ServerIsAuthentic(last.AuthBytes));

            await client.GetStream().WriteAsync(MetadataFrame(5));
            Assert.Equal(5, await KafkaConnectionTests.ReadCorrelationIdAsync(client));
        }

        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_wrong_password_is_answered_SASL_AUTHENTICATION_FAILED_and_the_connection_closed()
    {
        var (client, run) = await ConnectAsync();
        using (client)
        {
            await AskAsync(client, ApiKeys.SaslHandshake, 1, 1, (ref KafkaWriter w) => new SaslHandshakeRequestData { Mechanism = "PLAIN" }.Write(ref w, 1));
            var answer = await AuthenticateAsync(client, 2, "\0alice\0guess"u8.ToArray());

            Assert.Equal((short)ErrorCode.SaslAuthenticationFailed, answer.ErrorCode);
            Assert.Contains("Invalid username or password", answer.ErrorMessage, StringComparison.Ordinal);
            Assert.Equal(0, await client.GetStream().ReadAsync(new byte[4]).AsTask().WaitAsync(Deadline));
        }

        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task An_unknown_mechanism_is_answered_with_the_enabled_ones_and_the_connection_closed()
    {
        var (client, run) = await ConnectAsync();
        using (client)
        {
            var handshake = Read<SaslHandshakeResponseData>(await AskAsync(client, ApiKeys.SaslHandshake, 1, 1,
                (ref KafkaWriter w) => new SaslHandshakeRequestData { Mechanism = "GSSAPI" }.Write(ref w, 1)), ApiKeys.SaslHandshake, 1);

            Assert.Equal((short)ErrorCode.UnsupportedSaslMechanism, handshake.ErrorCode);
            Assert.Contains("PLAIN", handshake.Mechanisms);
            Assert.Equal(0, await client.GetStream().ReadAsync(new byte[4]).AsTask().WaitAsync(Deadline));
        }

        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_version_0_handshake_takes_the_tokens_as_bare_frames()
    {
        var (client, run) = await ConnectAsync();
        using (client)
        {
            await AskAsync(client, ApiKeys.SaslHandshake, 0, 1, (ref KafkaWriter w) => new SaslHandshakeRequestData { Mechanism = "PLAIN" }.Write(ref w, 0));
            var token = "\0alice\0alice-secret"u8.ToArray();
            var frame = new byte[4 + token.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, token.Length);
            token.CopyTo(frame, 4);
            await client.GetStream().WriteAsync(frame);
            var prefix = new byte[4];
            await client.GetStream().ReadExactlyAsync(prefix).AsTask().WaitAsync(Deadline);
            Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(prefix));

            await client.GetStream().WriteAsync(MetadataFrame(2));
            Assert.Equal(2, await KafkaConnectionTests.ReadCorrelationIdAsync(client));
        }

        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Malformed_sasl_messages_never_authenticate_a_connection()
    {
        var random = new Random(1203);
        for (var i = 0; i < 200; i++)
        {
            var (client, run) = await ConnectAsync();
            using (client)
            {
                var mechanism = SaslPlaintext.Mechanisms[i % 3];
                await AskAsync(client, ApiKeys.SaslHandshake, 1, 1, (ref KafkaWriter w) => new SaslHandshakeRequestData { Mechanism = mechanism }.Write(ref w, 1));
                var junk = new byte[random.Next(0, 300)];
                random.NextBytes(junk);
                var answer = await AuthenticateAsync(client, 2, junk);
                if (answer.ErrorCode == 0)
                {
                    // A SCRAM first step goes on; its final step must fail.
                    random.NextBytes(junk);
                    answer = await AuthenticateAsync(client, 3, junk);
                }

                Assert.Equal((short)ErrorCode.SaslAuthenticationFailed, answer.ErrorCode);
                await client.GetStream().WriteAsync(MetadataFrame(4));
                Assert.Equal(0, await client.GetStream().ReadAsync(new byte[4]).AsTask().WaitAsync(Deadline));
            }

            await run.WaitAsync(Deadline);
        }
    }

    private static async Task<SaslAuthenticateResponseData> AuthenticateAsync(TcpClient client, int correlationId, byte[] token) =>
        Read<SaslAuthenticateResponseData>(
            await AskAsync(client, ApiKeys.SaslAuthenticate, 2, correlationId, (ref KafkaWriter w) => new SaslAuthenticateRequestData { AuthBytes = token }.Write(ref w, 2)),
            ApiKeys.SaslAuthenticate, 2);

    private static T Read<T>(byte[] payload, KafkaApi api, short version)
        where T : IKafkaMessage<T>
    {
        var reader = new KafkaReader(payload);
        ResponseHeader.Read(ref reader, api.ResponseHeaderVersion(version));
        return T.Read(ref reader, version);
    }

    private static byte[] MetadataFrame(int correlationId) =>
        KafkaConnectionTests.Frame(ApiKeys.Metadata, 12, correlationId, (ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, new Actors.Kafka.Protocol.MetadataRequest { Topics = [] }, 12));

    private static Task<(TcpClient Client, Task Run)> ConnectAsync() =>
        KafkaConnectionTests.ConnectAsync(
            KafkaConnectionTests.Handler(_ => Task.FromResult(new Actors.Broker.MetadataResponse())),
            maxInFlight: 8,
            new ConnectionSession(SaslPlaintext, (user, mechanism) => Task.FromResult(user == "alice" && mechanism == ScramMechanism.ScramSha256 ? Alice : null)));

    /// <summary>Sends one request and returns its answer's payload (after the size prefix).</summary>
    private static async Task<byte[]> AskAsync(TcpClient client, KafkaApi api, short version, int correlationId, KafkaConnectionTests.BodyWriter body)
    {
        await client.GetStream().WriteAsync(KafkaConnectionTests.Frame(api, version, correlationId, body));
        var prefix = new byte[4];
        await client.GetStream().ReadExactlyAsync(prefix).AsTask().WaitAsync(Deadline);
        var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        await client.GetStream().ReadExactlyAsync(payload).AsTask().WaitAsync(Deadline);
        Assert.Equal(correlationId, BinaryPrimitives.ReadInt32BigEndian(payload));
        return payload;
    }
}
