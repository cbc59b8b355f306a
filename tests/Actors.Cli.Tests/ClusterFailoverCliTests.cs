using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Cli.Tests;

/// <summary>Three real silo processes driven by the CLI alone, as an operator would: a replicated topic, a leader's
/// silo SIGKILLed, and what <c>topics --describe</c> and <c>cluster</c> show afterwards.</summary>
[Collection(ProcessClusterCollection.Name)]
public sealed partial class ClusterFailoverCliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_leader_is_killed_describe_shows_the_new_leader_and_the_shrunk_ISR_and_consuming_still_works()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        string Bootstrap(IEnumerable<BrokerProcess> silos) => string.Join(',', silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));
        var all = Bootstrap(cluster.Silos);
        await Wait.UntilAsync(async () => (await Cli.RunAsync(["cluster", "--bootstrap-server", all])).Out.Split('\n').Count(l => l.Contains("Active", StringComparison.Ordinal)) == 3,
            TimeSpan.FromSeconds(60), "the CLI to see three Active brokers", cluster.Tails);

        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", all, "--topic", "replicated", "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
        Assert.True(created.Exit == 0, created.ToString());
        var lines = string.Concat(Enumerable.Range(0, 30).Select(i => $"k{i}:v{i}\n"));
        var produced = await Cli.RunAsync(["console-producer", "--bootstrap-server", all, "--topic", "replicated", "--property", "parse.key=true", "--property", "key.separator=:"], lines);
        Assert.True(produced.Exit == 0, produced.ToString());

        var before = await DescribeAsync(all);
        Assert.Equal(3, before.Count);
        Assert.All(before, p => Assert.Equal(3, p.Isr.Length));
        var brokers = await BrokersAsync(all);
        var victimId = before.Single(p => p.Partition == 0).Leader;
        var victim = cluster.Silos.Single(s => s.KafkaPort == brokers[victimId]);
        output.WriteLine($"killing {victim.Name} (broker {victimId}), leader of partition 0");
        victim.Kill();

        var survivors = Bootstrap(cluster.Silos.Where(s => s != victim));
        List<PartitionRow> after = [];
        await Wait.UntilAsync(async () =>
        {
            after = await DescribeAsync(survivors);
            // The other survivor can drop out of an ISR for a moment while leadership moves (it lagged the new
            // leader) and comes back: wait for the settled ISR of the two survivors.
            return after.Count == 3 && after.All(p => p.Leader != victimId && p.Leader >= 0 && !p.Isr.Contains(victimId) && p.Isr.Length == 2);
        }, TimeSpan.FromSeconds(90), $"every partition to have a leader other than broker {victimId} and an ISR of the two other brokers", () => string.Join("; ", after) + cluster.Tails());
        Assert.All(after, p => Assert.Equal(2, p.Isr.Length));
        Assert.All(after, p => Assert.Contains(victimId, p.Replicas));

        var shown = await Cli.RunAsync(["cluster", "--bootstrap-server", survivors]);
        Assert.True(shown.Exit == 0, shown.ToString());
        Assert.Matches($@"│\s*{victimId}\s*│\s*not Active\s*│", shown.Out);
        Assert.Equal(2, shown.Out.Split('\n').Count(l => Regex.IsMatch(l, @"│\s*\d+\s*│\s*Active\s*│")));

        var consumed = await Cli.RunAsync(["console-consumer", "--bootstrap-server", survivors, "--topic", "replicated", "--from-beginning", "--max-messages", "30", "--timeout-ms", "60000", "--property", "print.key=true"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"k{i}\tv{i}").Order(), consumed.OutLines.Order());
    }

    private sealed record PartitionRow(int Partition, int Leader, int[] Replicas, int[] Isr)
    {
        public override string ToString() => $"p{Partition} leader {Leader} replicas [{string.Join(',', Replicas)}] isr [{string.Join(',', Isr)}]";
    }

    private static async Task<List<PartitionRow>> DescribeAsync(string bootstrap)
    {
        var run = await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", bootstrap, "--topic", "replicated"]);
        Assert.True(run.Exit == 0, run.ToString());
        return run.OutLines.Skip(1).Select(l => PartitionLine().Match(l)).Where(m => m.Success).Select(m => new PartitionRow(
            Int(m.Groups["p"].Value), Int(m.Groups["leader"].Value), Ints(m.Groups["replicas"].Value), Ints(m.Groups["isr"].Value))).ToList();
    }

    /// <summary>Broker id → Kafka port, from <c>actors cluster</c>.</summary>
    private static async Task<Dictionary<int, int>> BrokersAsync(string bootstrap)
    {
        var run = await Cli.RunAsync(["cluster", "--bootstrap-server", bootstrap]);
        Assert.True(run.Exit == 0, run.ToString());
        return run.OutLines.Select(l => BrokerLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => Int(m.Groups["id"].Value), m => Int(m.Groups["port"].Value));
    }

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    private static int[] Ints(string text) => text.Length == 0 ? [] : text.Split(',').Select(Int).ToArray();

    [GeneratedRegex(@"^\tTopic: replicated\tPartition: (?<p>\d+)\tLeader: (?<leader>-?\d+)\tReplicas: (?<replicas>[\d,]*)\tIsr: (?<isr>[\d,]*)")]
    private static partial Regex PartitionLine();

    [GeneratedRegex(@"│\s*(?<id>\d+)\s*│\s*Active\s*│\s*\S+\s*│\s*(?<port>\d+)\s*│")]
    private static partial Regex BrokerLine();
}
