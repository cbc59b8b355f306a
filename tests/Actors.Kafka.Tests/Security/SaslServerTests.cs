using System.Text;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Kafka.Security;

namespace Actors.Kafka.Tests.Security;

public class SaslServerTests
{
    private static readonly Dictionary<(string, ScramMechanism), ScramCredential> Store = new()
    {
        [("alice", ScramMechanism.ScramSha256)] = Scram.FromPassword(ScramMechanism.ScramSha256, "alice-secret"),
        [("alice", ScramMechanism.ScramSha512)] = Scram.FromPassword(ScramMechanism.ScramSha512, "alice-secret", 8192),
        [("b,o=b", ScramMechanism.ScramSha256)] = Scram.FromPassword(ScramMechanism.ScramSha256, "bob-secret"),
    };

    private static Task<ScramCredential?> Lookup(string user, ScramMechanism mechanism) =>
        Task.FromResult(Store.TryGetValue((user, mechanism), out var c) ? c : null);

    [Fact]
    public async Task Rfc7677_example_exchange_gives_the_rfcs_server_signature()
    {
        // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        var credential = Scram.Credential(ScramMechanism.ScramSha256, Scram.SaltedPassword(ScramMechanism.ScramSha256, "pencil", salt, 4096), salt, 4096);
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, (u, _) => Task.FromResult<ScramCredential?>(u == "user" ? credential : null),
            () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

        var first = await server.EvaluateAsync("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"u8.ToArray());
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", Encoding.UTF8.GetString(first.Response));
        var last = await server.EvaluateAsync(Encoding.UTF8.GetBytes(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));

        Assert.Null(last.Failure);
        Assert.True(last.Complete);
        Assert.Equal("user", last.Principal);
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Encoding.UTF8.GetString(last.Response));
    }

    [Theory]
    [InlineData(ScramMechanism.ScramSha256, "alice")]
    [InlineData(ScramMechanism.ScramSha512, "alice")]
    [InlineData(ScramMechanism.ScramSha256, "b,o=b")]
    public async Task The_right_password_authenticates_and_the_server_proves_itself(ScramMechanism mechanism, string user)
    {
        var password = user == "alice" ? "alice-secret" : "bob-secret";
        var client = new ScramClient(mechanism, user, password, "fyko+d2lbbFgONRv9qkxdawL");
        var server = new ScramSaslServer(mechanism, Lookup);

        var first = await server.EvaluateAsync(client.ClientFirst());
        var last = await server.EvaluateAsync(client.ClientFinal(first.Response));

        Assert.Null(last.Failure);
        Assert.Equal(user, last.Principal);
        Assert.True(client.ServerIsAuthentic(last.Response));
    }

    [Theory]
    [InlineData("alice", "wrong")]
    [InlineData("mallory", "alice-secret")]
    public async Task A_wrong_password_or_unknown_user_fails_at_the_proof_with_the_same_words(string user, string password)
    {
        var client = new ScramClient(ScramMechanism.ScramSha256, user, password, "abc");
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Lookup);

        var first = await server.EvaluateAsync(client.ClientFirst());
        Assert.Null(first.Failure);
        var last = await server.EvaluateAsync(client.ClientFinal(first.Response));

        Assert.Null(last.Principal);
        Assert.Equal("Authentication failed: Invalid username or password (mechanism SCRAM-SHA-256).", last.Failure);
    }

    [Fact]
    public async Task A_final_message_with_another_nonce_or_binding_fails()
    {
        var client = new ScramClient(ScramMechanism.ScramSha256, "alice", "alice-secret", "abc");
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Lookup);
        var first = await server.EvaluateAsync(client.ClientFirst());
        var final = Encoding.UTF8.GetString(client.ClientFinal(first.Response)).Replace("c=biws", "c=eSws", StringComparison.Ordinal);

        var last = await server.EvaluateAsync(Encoding.UTF8.GetBytes(final));

        Assert.Contains("channel binding", last.Failure, StringComparison.Ordinal);
        Assert.Contains("already over", (await server.EvaluateAsync(Encoding.UTF8.GetBytes(final))).Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_final_nonce_with_the_client_nonce_again_in_front_is_accepted_as_Kafka_accepts_it()
    {
        // librdkafka 2.0.2 (Debian's kcat and Python client) sends r=<client nonce><client nonce><server nonce>.
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Lookup, () => "SERVER");
        var client = new ScramClient(ScramMechanism.ScramSha256, "alice", "alice-secret", "abc");
        var first = await server.EvaluateAsync(client.ClientFirst());
        Assert.StartsWith("r=abcSERVER,", Encoding.UTF8.GetString(first.Response), StringComparison.Ordinal);

        var last = await server.EvaluateAsync(client.ClientFinal(first.Response, nonce => "abc" + nonce));

        Assert.Null(last.Failure);
        Assert.Equal("alice", last.Principal);
    }

    [Fact]
    public async Task A_final_nonce_without_the_servers_part_fails()
    {
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Lookup, () => "SERVER");
        var client = new ScramClient(ScramMechanism.ScramSha256, "alice", "alice-secret", "abc");
        var first = await server.EvaluateAsync(client.ClientFirst());
        var last = await server.EvaluateAsync(client.ClientFinal(first.Response, nonce => nonce.Replace("SERVER", "SERVEX", StringComparison.Ordinal)));

        Assert.Contains("nonce", last.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("p=tls-unique,,n=alice,r=abc", "channel binding")]
    [InlineData("n,,n=alice", "n=<user>,r=<nonce>")]
    [InlineData("n,,n=al=ice,r=abc", "=2C or =3D")]
    [InlineData("n,,n=alice,r=abc,tokenauth=true", "n=<user>,r=<nonce>")]
    [InlineData("n,a=bob,n=alice,r=abc", "authorization id")]
    [InlineData("garbage", "GS2 header")]
    public async Task A_malformed_first_message_fails_saying_what_is_wrong(string message, string problem)
    {
        var step = await new ScramSaslServer(ScramMechanism.ScramSha256, Lookup).EvaluateAsync(Encoding.UTF8.GetBytes(message));

        Assert.True(step.Complete);
        Assert.Contains(problem, step.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\0alice\0alice-secret", "alice")]
    [InlineData("alice\0alice\0alice-secret", "alice")]
    [InlineData("\0b,o=b\0bob-secret", "b,o=b")]
    public async Task Plain_checks_the_password_against_the_scram_store(string message, string principal)
    {
        var step = await new PlainSaslServer(Lookup).EvaluateAsync(Encoding.UTF8.GetBytes(message));

        Assert.Null(step.Failure);
        Assert.Equal(principal, step.Principal);
    }

    [Theory]
    [InlineData("\0alice\0wrong")]
    [InlineData("\0mallory\0x")]
    [InlineData("bob\0alice\0alice-secret")]
    [InlineData("alice\0alice-secret")]
    [InlineData("\0\0")]
    public async Task Plain_refuses_wrong_or_malformed_credentials(string message)
    {
        var step = await new PlainSaslServer(Lookup).EvaluateAsync(Encoding.UTF8.GetBytes(message));

        Assert.True(step.Complete);
        Assert.Null(step.Principal);
        Assert.NotNull(step.Failure);
    }

    [Fact]
    public async Task Random_tokens_never_authenticate_and_never_throw()
    {
        var random = new Random(20261203);
        var seeds = new[] { "n,,n=alice,r=", "c=biws,r=", "\0alice\0", "n,," };
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = random.Next(3) == 0
                ? Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Length)] + new string((char)random.Next(32, 127), random.Next(0, 40)))
                : RandomBytes(random, random.Next(0, 200));
            ISaslServer server = (i % 3) switch
            {
                0 => new PlainSaslServer(Lookup),
                1 => new ScramSaslServer(ScramMechanism.ScramSha256, Lookup),
                _ => new ScramSaslServer(ScramMechanism.ScramSha512, Lookup),
            };
            var step = await server.EvaluateAsync(bytes);
            if (!step.Complete)
            {
                step = await server.EvaluateAsync(RandomBytes(random, random.Next(0, 200)));
            }

            Assert.Null(step.Principal);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
