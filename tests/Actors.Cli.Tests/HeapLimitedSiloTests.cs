using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Cli.Tests;

/// <summary>
/// The seeds run Kafka with -Xmx400m on small VMs; a silo runs with a 400 MiB GC heap limit
/// (DOTNET_GCHeapHardLimit, as deploy/actors-silo.service sets it) and must stay up under
/// <c>actors producer-perf-test</c> load and serve everything back.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class HeapLimitedSiloTests(ITestOutputHelper output)
{
    private const int Records = 300_000;

    /// <summary>400 MiB.</summary>
    private const string HeapLimit = "0x19000000";

    [Fact]
    public async Task A_silo_with_a_400_MiB_heap_stays_up_under_producer_perf_test_and_serves_every_record()
    {
        await using var cluster = await ProcessCluster.StartAsync(1, output.WriteLine, environment: new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = HeapLimit });
        var silo = cluster.Silos[0];
        var bootstrap = $"127.0.0.1:{silo.KafkaPort}";
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", bootstrap, "--topic", "heap", "--partitions", "3", "--replication-factor", "1"]);
        Assert.True(created.Exit == 0, created.ToString());

        var produced = await Cli.RunAsync(["producer-perf-test", "--bootstrap-server", bootstrap, "--topic", "heap",
            "--num-records", Records.ToString(CultureInfo.InvariantCulture), "--record-size", "100", "--throughput", "-1",
            "--producer-props", "acks=1", "linger.ms=5"]);
        output.WriteLine(produced.Out);
        Assert.True(produced.Exit == 0, produced.ToString() + cluster.Tails());
        Assert.Matches($@"^{Records} records sent,", produced.OutLines[^1]);
        Assert.True(silo.Running, $"the silo exited under load{Environment.NewLine}{cluster.Tails()}");

        var consumed = await Cli.RunAsync(["consumer-perf-test", "--bootstrap-server", bootstrap, "--topic", "heap",
            "--messages", Records.ToString(CultureInfo.InvariantCulture), "--timeout", "60000"]);
        output.WriteLine(consumed.Out);
        Assert.True(consumed.Exit == 0, consumed.ToString() + cluster.Tails());
        Assert.Equal(Records.ToString(CultureInfo.InvariantCulture), consumed.OutLines[^1].Split(", ")[4]);
        Assert.True(silo.Running, $"the silo exited while serving the consumer{Environment.NewLine}{cluster.Tails()}");
        output.WriteLine($"silo peak resident set: {PeakResidentKiB(silo.Pid) / 1024} MiB (heap limit {Convert.ToInt64(HeapLimit, 16) / (1024 * 1024)} MiB)");
    }

    /// <summary>VmHWM of a process, in KiB (0 where /proc has none).</summary>
    private static long PeakResidentKiB(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return 0;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
    }
}
