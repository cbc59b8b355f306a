using System.Security.Cryptography;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Testing;
using static Actors.Bench.BenchArgs;

namespace Actors.Bench;

/// <summary>
/// <c>kafka --security sasl_ssl [--silos N]</c>: the cost of TLS. The same silo(s) run two Kafka listeners,
/// <c>SASL_SSL://127.0.0.1:p1,PLAINTEXT://127.0.0.1:p2</c> (a certificate made for the run, SCRAM-SHA-256, one user);
/// the Confluent.Kafka client process produces (then consumes) alternately over each, the same settings otherwise
/// (RF N, acks=1 on one silo, acks=all on more). Printed: each run, then the SASL_SSL medians with the plaintext
/// medians as the limit and their ratio (target at least 0.70).
/// </summary>
public sealed partial class KafkaBenchmark
{
    private const double TlsRatioTarget = 0.70;
    private const string BenchUser = "bench";
    private const string BenchPassword = "bench-secret";

    private static async Task SecurityAsync(string security, int silos, Settings o, CancellationToken ct)
    {
        if (!string.Equals(security, "sasl_ssl", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--security takes sasl_ssl (SASL_SSL beside PLAINTEXT on the same silos), not '{security}'.");
        }

        if (silos is < 1 or > 3)
        {
            throw new ArgumentException($"--silos takes 1 to 3, not {silos}.");
        }

        var rf = (short)silos;
        var acks = silos == 1 ? "1" : "all";
        using var folder = new TempDirectory("bench-tls");
        var (keystore, ca) = await WriteCertificateAsync(folder);
        Console.WriteLine(Inv($"kafka sasl_ssl: {silos} silo(s), RF {rf}, acks={acks}; listeners SASL_SSL (SCRAM-SHA-256, TLS via SslStream) and PLAINTEXT on the same silos; {o.Runs} run(s) each, alternating; produce {o.Records} records of {RecordSize} bytes (or {o.Seconds} s); target ratio >= {TlsRatioTarget:F2}"));
        await using var cluster = await BenchCluster.StartAsync("sasl_ssl", silos, new Dictionary<string, string>
        {
            ["Actors__Kafka__Listeners"] = "SASL_SSL://127.0.0.1:{kafka-port},PLAINTEXT://127.0.0.1:{kafka-port-2}",
            ["Actors__Kafka__SslKeystoreLocation"] = keystore,
            ["Actors__Kafka__SaslEnabledMechanisms"] = "SCRAM-SHA-256",
        });
        var salt = RandomNumberGenerator.GetBytes(16);
        var created = await cluster.Processes.Client.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials).AlterAsync([],
            [new ScramUpsertion(BenchUser, ScramMechanism.ScramSha256, 4096, salt, Scram.SaltedPassword(ScramMechanism.ScramSha256, BenchPassword, salt, 4096))]);
        if (created.FirstOrDefault(r => r.Error != ErrorCode.None) is { } failed)
        {
            throw new InvalidOperationException($"Creating the SCRAM user {BenchUser} failed: {failed.Error}");
        }

        await cluster.CreateTopicAsync("plain", rf);
        await cluster.CreateTopicAsync("tls", rf);
        var plain = new Endpoint("plaintext", string.Join(',', cluster.Processes.Silos.Select(s => Inv($"127.0.0.1:{s.KafkaPort2}"))), []);
        var tls = new Endpoint("sasl_ssl", cluster.Bootstrap,
        [
            "--config", "security.protocol=SASL_SSL", "--config", "sasl.mechanism=SCRAM-SHA-256",
            "--config", $"sasl.username={BenchUser}", "--config", $"sasl.password={BenchPassword}", "--config", $"ssl.ca.location={ca}",
        ]);

        // Produce: each over its own topic; the order within a run alternates, so neither side always goes first.
        var produced = new Dictionary<Endpoint, List<double>> { [plain] = [], [tls] = [] };
        long inPlain = 0;
        for (var run = 1; run <= o.Runs && !ct.IsCancellationRequested; run++)
        {
            foreach (var side in run % 2 == 1 ? new[] { plain, tls } : [tls, plain])
            {
                var k = await KafkaClientProcess.RunAsync(
                    ["produce", "--bootstrap", side.Bootstrap, "--topic", side == plain ? "plain" : "tls", "--acks", acks, "--idempotence", acks == "all" ? o.Idempotence : "false",
                     "--records", Inv($"{o.Records}"), "--seconds", Inv($"{o.Seconds}"), "--warmup-seconds", Inv($"{(run == 1 ? o.WarmUp.TotalSeconds : 1)}"), "--size", Inv($"{RecordSize}"), .. side.Config],
                    cluster.Processes.Tails, ct, cluster.SiloCpuSeconds);
                produced[side].Add(k.Number("records_per_s"));
                if (side == plain)
                {
                    inPlain += (long)k.Number("total_delivered");
                }

                Console.WriteLine(Inv($"  run {run} produce {side.Name}: {k.Line}"));
            }
        }

        Report("sasl_ssl-produce", produced[tls], produced[plain]);

        // Consume: both read the same records of the plaintext side's topic from the beginning.
        var records = Math.Min(inPlain, o.Records);
        var consumed = new Dictionary<Endpoint, List<double>> { [plain] = [], [tls] = [] };
        for (var run = 1; run <= o.Runs && !ct.IsCancellationRequested; run++)
        {
            foreach (var side in run % 2 == 1 ? new[] { plain, tls } : [tls, plain])
            {
                var k = await KafkaClientProcess.RunAsync(
                    ["consume", "--bootstrap", side.Bootstrap, "--topic", "plain", "--records", Inv($"{records}"), .. side.Config],
                    cluster.Processes.Tails, ct, cluster.SiloCpuSeconds);
                consumed[side].Add(k.Number("records_per_s"));
                Console.WriteLine(Inv($"  run {run} consume {side.Name}: {k.Line}"));
            }
        }

        Report("sasl_ssl-consume", consumed[tls], consumed[plain]);
    }

    private static void Report(string figure, List<double> tls, List<double> plain)
    {
        var (value, limit) = (Median(tls), Median(plain));
        Console.WriteLine(Inv($"kafka {figure} value={value:F0} unit=records/s limit={limit:F0} ratio={value / limit:F3} target_ratio={TlsRatioTarget:F2} mb_per_s={value * RecordSize / 1e6:F1} min={tls.Min():F0} max={tls.Max():F0} plaintext_min={plain.Min():F0} plaintext_max={plain.Max():F0} runs={tls.Count}"));
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost: the listener's PEM (certificate and key) and the
    /// clients' CA file (the same certificate).</summary>
    private static async Task<(string Keystore, string Ca)> WriteCertificateAsync(TempDirectory folder)
    {
        var (keystore, ca) = (folder.File("listener.pem"), folder.File("ca.pem"));
        await SelfSignedCertificates.WritePemAsync("actors-bench-listener", validDays: 7, keystore, ca);
        return (keystore, ca);
    }

    private sealed record Endpoint(string Name, string Bootstrap, string[] Config);
}
