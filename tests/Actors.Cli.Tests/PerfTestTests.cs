using System.Globalization;
using System.Text.RegularExpressions;

namespace Actors.Cli.Tests;

[Collection(SiloCollection.Name)]
public sealed partial class PerfTestTests(SiloFixture silo)
{
    [Fact]
    public async Task Producer_perf_test_then_consumer_perf_test_report_Kafkas_summary_lines()
    {
        var topic = Cli.Unique("perf");
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", silo.Bootstrap, "--partitions", "2", "--replication-factor", "1", "--topic", topic]);
        Assert.True(created.Exit == 0, created.ToString());

        const int Records = 20_000;
        var produced = await Cli.RunAsync(["producer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", topic,
            "--num-records", Records.ToString(CultureInfo.InvariantCulture), "--record-size", "100", "--throughput", "-1",
            "--producer-props", "acks=all", "linger.ms=5"]);
        Assert.True(produced.Exit == 0, produced.ToString());
        var total = ProducerTotal().Match(produced.OutLines[^1]);
        Assert.True(total.Success, produced.ToString());
        Assert.Equal(Records, long.Parse(total.Groups["records"].Value, CultureInfo.InvariantCulture));
        var percentiles = new[] { "p50", "p95", "p99", "p999" }.Select(g => int.Parse(total.Groups[g].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(percentiles.Order(), percentiles);
        Assert.True(percentiles[^1] <= double.Parse(total.Groups["max"].Value, CultureInfo.InvariantCulture), produced.ToString());
        // Every line before the total is one of Kafka's five-second window lines.
        Assert.All(produced.OutLines[..^1], line => Assert.Matches(ProducerWindow(), line));

        var consumed = await Cli.RunAsync(["consumer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", topic,
            "--messages", Records.ToString(CultureInfo.InvariantCulture), "--group", Cli.Unique("perf-group")]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        Assert.Equal("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", consumed.OutLines[0]);
        var fields = consumed.OutLines[1].Split(", ");
        Assert.Equal(10, fields.Length);
        Assert.Equal(Records.ToString(CultureInfo.InvariantCulture), fields[4]);
        Assert.Equal(Records * 100 / (1024.0 * 1024.0), double.Parse(fields[2], CultureInfo.InvariantCulture), 3);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}$", fields[0]);
    }

    [Fact]
    public async Task Consumer_perf_test_that_runs_out_of_records_warns_and_fails()
    {
        var topic = Cli.Unique("perf-short");
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", silo.Bootstrap, "--partitions", "1", "--replication-factor", "1", "--topic", topic]);
        Assert.True(created.Exit == 0, created.ToString());
        var produced = await Cli.RunAsync(["producer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--num-records", "10", "--record-size", "10"]);
        Assert.True(produced.Exit == 0, produced.ToString());

        // As in Kafka's tool, the timeout counts from the start, so it must cover joining the group (the broker's
        // group.initial.rebalance.delay.ms is 3 s).
        var consumed = await Cli.RunAsync(["consumer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--messages", "11", "--timeout", "8000", "--hide-header"]);
        Assert.Equal(1, consumed.Exit);
        Assert.StartsWith("WARNING: Exiting before consuming the expected number of messages: timeout (8000 ms) exceeded.", consumed.Error, StringComparison.Ordinal);
        Assert.Equal("10", Assert.Single(consumed.OutLines).Split(", ")[4]);
    }

    [Fact]
    public async Task Perf_tests_refuse_an_unknown_topic_and_bad_numbers_in_one_line()
    {
        var unknown = await Cli.RunAsync(["producer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", "no-such-perf-topic", "--num-records", "10", "--record-size", "10"]);
        Assert.Equal(1, unknown.Exit);
        Assert.StartsWith("Error: Topic 'no-such-perf-topic' does not exist.", unknown.Error, StringComparison.Ordinal);

        var zero = await Cli.RunAsync(["producer-perf-test", "--bootstrap-server", silo.Bootstrap, "--topic", "t", "--num-records", "0", "--record-size", "10"]);
        Assert.Equal(2, zero.Exit);
        Assert.Equal("Error: --num-records must be a positive number, not 0.\n", zero.Error);

        var missing = await Cli.RunAsync(["consumer-perf-test", "--topic", "t"]);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("--messages", missing.Error, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<records>\d+) records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, (?<max>[\d.]+) ms max latency, (?<p50>\d+) ms 50th, (?<p95>\d+) ms 95th, (?<p99>\d+) ms 99th, (?<p999>\d+) ms 99\.9th\.$")]
    private static partial Regex ProducerTotal();

    [GeneratedRegex(@"^\d+ records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.$")]
    private static partial Regex ProducerWindow();
}
