using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Integration.Tests.Silo;
using Actors.Testing;

namespace Actors.Cli.Tests;

/// <summary>The consumer-lag gauge a silo exports on /metrics (computed on the broker) is what
/// <c>actors consumer-groups --describe</c> prints in its LAG column for the same group, partition by partition.</summary>
[Collection(SiloCollection.Name)]
public sealed class MetricsLagCliTests(SiloFixture silo)
{
    [Fact]
    public async Task The_lag_gauge_on_metrics_equals_the_LAG_column_of_consumer_groups_describe()
    {
        var topic = Cli.Unique("lagged");
        var group = Cli.Unique("lg");
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", silo.Bootstrap, "--partitions", "2", "--replication-factor", "1", "--topic", topic]);
        Assert.True(created.Exit == 0, created.ToString());
        var lines = string.Concat(Enumerable.Range(0, 30).Select(i => $"key{i}:value{i}\n"));
        var produced = await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:", "--producer-property", "acks=all"], lines);
        Assert.True(produced.Exit == 0, produced.ToString());

        // The group reads and commits some of the records; the rest is its lag.
        var consumed = await Cli.RunAsync(["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "30", "--timeout-ms", "60000"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        var more = await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic], string.Concat(Enumerable.Range(0, 7).Select(i => $"more{i}\n")));
        Assert.True(more.Exit == 0, more.ToString());

        // The CLI's LAG per partition, once it shows all 7 new records.
        Dictionary<int, long> described = [];
        await Wait.UntilAsync(async () =>
        {
            described = await DescribeLagAsync(group, topic);
            return described.Count == 2 && described.Values.Sum() == 7;
        }, TimeSpan.FromSeconds(30), "consumer-groups --describe to show a lag of 7 over 2 partitions",
            () => string.Join(", ", described.Select(d => $"partition {d.Key}: {d.Value}")));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        Dictionary<int, long> exported = [];
        await Wait.UntilAsync(async () =>
        {
            exported = PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                .Where(s => s.Name == "actors_broker_consumer_lag" && s.Labels.GetValueOrDefault("group") == group && s.Labels.GetValueOrDefault("topic") == topic)
                .ToDictionary(s => int.Parse(s.Labels["partition"], CultureInfo.InvariantCulture), s => (long)s.Value);
            return exported.Count == described.Count && exported.All(e => described.GetValueOrDefault(e.Key, -1) == e.Value);
        }, TimeSpan.FromSeconds(60), $"/metrics actors_broker_consumer_lag{{group=\"{group}\"}} to equal the CLI's LAG column ({string.Join(", ", described.Select(d => $"partition {d.Key}: {d.Value}"))})",
            () => $"exported: {string.Join(", ", exported.Select(e => $"partition {e.Key}: {e.Value}"))}");

        // And the CLI still prints the same now (nothing consumed in between).
        Assert.Equal(described.OrderBy(d => d.Key), (await DescribeLagAsync(group, topic)).OrderBy(d => d.Key));
    }

    /// <summary>Runs <c>consumer-groups --describe --group</c> and reads the LAG column of each row of
    /// <paramref name="topic"/>, by the columns' header positions.</summary>
    private async Task<Dictionary<int, long>> DescribeLagAsync(string group, string topic)
    {
        var run = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--describe", "--group", group]);
        Assert.True(run.Exit == 0, run.ToString());
        var lines = run.OutLines;
        var header = lines[0];
        Assert.Contains("LAG", Regex.Split(header.Trim(), " +"));
        int Start(string column) => Regex.Match(header, $@"(?<=^|\s){Regex.Escape(column)}(?=\s|$)").Index;
        var (topicAt, partitionAt, lagAt, afterLag) = (Start("TOPIC"), Start("PARTITION"), Start("LAG"), Start("CONSUMER-ID"));
        var lag = new Dictionary<int, long>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > lagAt))
        {
            if (line[topicAt..partitionAt].Trim() != topic)
            {
                continue;
            }

            var partition = int.Parse(line[partitionAt..Start("CURRENT-OFFSET")].Trim(), CultureInfo.InvariantCulture);
            var cell = line[lagAt..Math.Min(afterLag, line.Length)].Trim();
            lag[partition] = long.Parse(cell, CultureInfo.InvariantCulture);
        }

        return lag;
    }
}
