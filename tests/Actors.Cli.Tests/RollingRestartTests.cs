using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Testing;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Actors.Cli.Tests;

/// <summary>
/// The rolling restart of docs/deploy.md on three real silo processes: while <c>actors producer-perf-test</c> sends
/// with acks=all and idempotence, each silo in turn gets SIGTERM (as systemd stops it), is started again over its
/// data, and is back in every ISR before the next one goes. Every acknowledged record must be there afterwards.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed partial class RollingRestartTests(ITestOutputHelper output)
{
    private const int Records = 40_000;

    [Fact]
    public async Task A_rolling_restart_under_producer_perf_test_with_acks_all_loses_no_acknowledged_record()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        string Bootstrap() => string.Join(',', cluster.Silos.Where(s => s.Running).Select(s => $"127.0.0.1:{s.KafkaPort}"));
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", Bootstrap(), "--topic", "rolling", "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
        Assert.True(created.Exit == 0, created.ToString());
        await UntilFullIsrAsync(cluster, Bootstrap);

        var perf = Cli.RunAsync(["producer-perf-test", "--bootstrap-server", Bootstrap(), "--topic", "rolling",
            "--num-records", Records.ToString(CultureInfo.InvariantCulture), "--record-size", "100", "--throughput", "1000",
            "--producer-props", "acks=all", "enable.idempotence=true"]);
        foreach (var silo in cluster.Silos)
        {
            output.WriteLine($"rolling: SIGTERM {silo.Name}");
            await silo.TerminateAsync(TimeSpan.FromSeconds(60));
            silo.Start();
            await Wait.UntilAsync(() => silo.Started, TimeSpan.FromSeconds(120), $"{silo.Name} to be Active again", cluster.Tails);
            await UntilFullIsrAsync(cluster, Bootstrap);
            output.WriteLine($"rolling: {silo.Name} is back in every ISR; perf test still running: {!perf.IsCompleted}");
        }

        var produced = await perf;
        output.WriteLine(produced.ToString());
        Assert.True(produced.Exit == 0, produced.ToString());
        var total = Regex.Match(produced.OutLines[^1], @"^(\d+) records sent,");
        Assert.True(total.Success, produced.ToString());
        Assert.Equal(Records, int.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture));

        // Every acknowledged record is in the log, once (the producer is idempotent), and a consumer reads them all.
        var described = await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", Bootstrap(), "--topic", "rolling"]);
        Assert.True(described.Exit == 0, described.ToString());
        var consumed = await Cli.RunAsync(["consumer-perf-test", "--bootstrap-server", Bootstrap(), "--topic", "rolling",
            "--messages", Records.ToString(CultureInfo.InvariantCulture), "--timeout", "60000", "--hide-header"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        Assert.Equal(Records.ToString(CultureInfo.InvariantCulture), consumed.OutLines.Single().Split(", ")[4]);
        Assert.Equal(Records, LogEndOffsets(Bootstrap()));
    }

    /// <summary>Waits until all three partitions have three in-sync replicas.</summary>
    private static Task UntilFullIsrAsync(ProcessCluster cluster, Func<string> bootstrap)
    {
        var last = string.Empty;
        return Wait.UntilAsync(async () =>
        {
            var run = await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", bootstrap(), "--topic", "rolling"]);
            last = run.ToString();
            return run.Exit == 0 && run.OutLines.Count(l => IsrOfThree().IsMatch(l)) == 3;
        }, TimeSpan.FromSeconds(120), "every partition of 'rolling' to have 3 in-sync replicas", () => last + cluster.Tails());
    }

    /// <summary>The sum of the partitions' log end offsets (high watermarks).</summary>
    private static long LogEndOffsets(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "watermarks" }).Build();
        return Enumerable.Range(0, 3).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition("rolling", p), TimeSpan.FromSeconds(30)).High.Value);
    }

    [GeneratedRegex(@"\tIsr: \d+,\d+,\d+$")]
    private static partial Regex IsrOfThree();
}
