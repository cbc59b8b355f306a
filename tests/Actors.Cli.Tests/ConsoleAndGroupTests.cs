using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Testing;

namespace Actors.Cli.Tests;

[Collection(SiloCollection.Name)]
public sealed class ConsoleAndGroupTests(SiloFixture silo)
{
    private static readonly string[] GroupColumns = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"];

    [Fact]
    public async Task Keyed_lines_produced_are_consumed_back_from_the_beginning_with_their_keys()
    {
        var topic = await CreateAsync("keys", 1);
        var produced = await Cli.RunAsync(
            ["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:", "--producer-property", "acks=all"],
            "k1:first\nk2:second value\nk3:third:with colon\n");
        Assert.True(produced.Exit == 0, produced.ToString());

        var consumed = await Cli.RunAsync(
            ["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--from-beginning", "--max-messages", "3", "--timeout-ms", "30000", "--property", "print.key=true"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        Assert.Equal("k1\tfirst\nk2\tsecond value\nk3\tthird:with colon\n", consumed.Out);
        Assert.Contains("Processed a total of 3 messages", consumed.Error, StringComparison.Ordinal);

        var one = await Cli.RunAsync(
            ["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--partition", "0", "--offset", "1", "--max-messages", "1", "--timeout-ms", "30000", "--property", "print.offset=true"]);
        Assert.Equal("Offset:1\tsecond value\n", one.Out);
    }

    [Fact]
    public async Task A_group_shows_offsets_and_lag_in_Kafkas_columns_and_resets_to_earliest_and_to_an_offset()
    {
        var topic = await CreateAsync("grouped", 2);
        var group = Cli.Unique("g");
        var lines = string.Concat(Enumerable.Range(0, 20).Select(i => $"key{i}:value{i}\n"));
        Assert.Equal(0, (await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:"], lines)).Exit);

        // Kafka's single-dash -group, as the seeds type it.
        var consumed = await Cli.RunAsync(["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "-group", group, "--from-beginning", "--max-messages", "20", "--timeout-ms", "60000"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());
        Assert.Equal(20, consumed.OutLines.Length);

        var listed = await Cli.RunAsync(["consumer-groups", "--list", "--bootstrap-server", silo.Bootstrap]);
        Assert.Contains(group, listed.OutLines);

        var rows = await DescribeAsync(group, expectNoMembers: true);
        Assert.Equal([0, 1], rows.Select(r => r.Partition));
        Assert.All(rows, r => Assert.Equal((r.Current, 0L), (r.End, r.Lag)));
        Assert.Equal(20, rows.Sum(r => r.End));

        Assert.Equal(0, (await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic], "more1\nmore2\nmore3\n")).Exit);
        await Wait.UntilAsync(async () => (await DescribeAsync(group, expectNoMembers: true)).Sum(r => r.Lag) == 3, TimeSpan.FromSeconds(30), "the lag to show the 3 new records");

        var dry = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--dry-run"]);
        Assert.True(dry.Exit == 0, dry.ToString());
        Assert.NotEqual(0, (await DescribeAsync(group, expectNoMembers: true)).Sum(r => r.Current));

        var reset = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute"]);
        Assert.True(reset.Exit == 0, reset.ToString());
        var resetLines = reset.OutLines;
        Assert.Equal(new[] { "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET" }, Regex.Split(resetLines[0].Trim(), " +"));
        Assert.Equal($"{group} {topic} 0 0", string.Join(' ', Regex.Split(resetLines[1].Trim(), " +")));
        Assert.Equal($"{group} {topic} 1 0", string.Join(' ', Regex.Split(resetLines[2].Trim(), " +")));
        var afterReset = await DescribeAsync(group, expectNoMembers: true);
        Assert.All(afterReset, r => Assert.Equal((0L, r.End), (r.Current, r.Lag)));

        var toOffset = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", $"{topic}:1", "--to-offset", "2", "--execute"]);
        Assert.True(toOffset.Exit == 0, toOffset.ToString());
        var end1 = afterReset.Single(r => r.Partition == 1).End;
        Assert.Equal($"{group} {topic} 1 {Math.Min(2, end1)}", string.Join(' ', Regex.Split(toOffset.OutLines[1].Trim(), " +")));
        var afterOffset = await DescribeAsync(group, expectNoMembers: true);
        Assert.Equal(Math.Min(2, end1), afterOffset.Single(r => r.Partition == 1).Current);
        Assert.Equal(0, afterOffset.Single(r => r.Partition == 0).Current);

        var shifted = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--all-topics", "--shift-by", "-1", "--execute"]);
        Assert.True(shifted.Exit == 0, shifted.ToString());
        Assert.Equal(Math.Max(0, Math.Min(2, end1) - 1), (await DescribeAsync(group, expectNoMembers: true)).Single(r => r.Partition == 1).Current);

        var deleted = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--delete", "--group", group]);
        Assert.True(deleted.Exit == 0, deleted.ToString());
        Assert.Equal($"Deletion of requested consumer groups ('{group}') was successful.\n", deleted.Out);
    }

    [Fact]
    public async Task Resets_to_a_datetime_by_a_duration_and_to_the_latest_pick_offsets_by_record_time()
    {
        var topic = await CreateAsync("timed", 1);
        var group = Cli.Unique("t");
        Assert.Equal(0, (await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic], "a\nb\nc\n")).Exit);
        var consumed = await Cli.RunAsync(["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "3", "--timeout-ms", "60000"]);
        Assert.True(consumed.Exit == 0, consumed.ToString());

        // Every record produced from here on has a create time at or after this millisecond; the first three were
        // produced before the consumer above ran.
        var between = DateTimeOffset.UtcNow;
        Assert.Equal(0, (await Cli.RunAsync(["console-producer", "--bootstrap-server", silo.Bootstrap, "--topic", topic], "d\ne\nf\n")).Exit);
        await Wait.UntilAsync(async () => (await DescribeAsync(group, expectNoMembers: true)).Single().End == 6, TimeSpan.FromSeconds(30), "the log end offset to reach 6");

        async Task<long> ResetAsync(params string[] mode)
        {
            var run = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", topic, .. mode]);
            Assert.True(run.Exit == 0, run.ToString());
            var cells = Regex.Split(run.OutLines[1].Trim(), " +");
            Assert.Equal([group, topic, "0"], cells[..3]);
            return long.Parse(cells[3], CultureInfo.InvariantCulture);
        }

        var datetime = between.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);
        Assert.Equal(3, await ResetAsync("--to-datetime", datetime, "--execute"));
        Assert.Equal(3, (await DescribeAsync(group, expectNoMembers: true)).Single().Current);

        // The same instant written with an offset from UTC picks the same record.
        var inParis = between.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        Assert.Equal(3, await ResetAsync("--to-datetime", inParis, "--dry-run"));

        Assert.Equal(6, await ResetAsync("--to-latest", "--dry-run"));
        Assert.Equal(3, (await DescribeAsync(group, expectNoMembers: true)).Single().Current);
        Assert.Equal(6, await ResetAsync("--to-latest", "--execute"));
        Assert.Equal(6, (await DescribeAsync(group, expectNoMembers: true)).Single().Current);

        // Every record is younger than an hour: back to the first; none is from the future: to the end.
        Assert.Equal(0, await ResetAsync("--by-duration", "PT1H", "--execute"));
        Assert.Equal(0, (await DescribeAsync(group, expectNoMembers: true)).Single().Current);

        var bad = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", topic, "--by-duration", "ten minutes", "--execute"]);
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("--by-duration 'ten minutes' is not an ISO-8601 duration", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_versions_lists_each_broker_with_the_versions_it_serves()
    {
        var run = await Cli.RunAsync(["api-versions", "--bootstrap-server", silo.Bootstrap]);
        Assert.True(run.Exit == 0, run.ToString());
        Assert.Matches(@"^127\.0\.0\.1:\d+ \(id: \d+ rack: null\) -> \($", run.OutLines[0]);
        Assert.Contains("\tProduce(0): 3 to 9,", run.OutLines);
        Assert.Contains("\tFetch(1): 4 to 12,", run.OutLines);
        Assert.Contains(run.OutLines, l => Regex.IsMatch(l, @"^\tApiVersions\(18\): 0 to 3,?$"));
        Assert.Contains(run.OutLines, l => Regex.IsMatch(l, @"^\tSaslHandshake\(17\): 0 to 1,?$"));
    }

    [Fact]
    public async Task A_reset_of_a_group_with_active_members_says_to_stop_them()
    {
        var topic = await CreateAsync("active", 1);
        var group = Cli.Unique("busy");
        using var stop = new CancellationTokenSource();
        var consumer = Cli.RunAsync(["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--group", group], cancellation: stop.Token);
        try
        {
            await Wait.UntilAsync(async () => (await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--describe", "--group", group, "--state"])).Out.Contains("Stable", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "the console consumer's group to become Stable");
            var members = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--describe", "--group", group, "--members"]);
            Assert.Equal(new[] { "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS" }, Regex.Split(members.OutLines[0].Trim(), " +"));

            var reset = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute"]);
            Assert.Equal(1, reset.Exit);
            Assert.StartsWith($"Error: Consumer group '{group}' has active members", reset.Error, StringComparison.Ordinal);
            Assert.Contains("Stop its consumers", reset.Error, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await consumer;
        }
    }

    private async Task<string> CreateAsync(string prefix, int partitions)
    {
        var topic = Cli.Unique(prefix);
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", silo.Bootstrap, "--partitions", partitions.ToString(CultureInfo.InvariantCulture), "--replication-factor", "1", "--topic", topic]);
        Assert.True(created.Exit == 0, created.ToString());
        return topic;
    }

    private sealed record Row(string Topic, int Partition, long Current, long End, long Lag);

    /// <summary>Runs consumer-groups --describe and checks Kafka's columns: the header names in order, each column
    /// starting where its header starts.</summary>
    private async Task<List<Row>> DescribeAsync(string group, bool expectNoMembers)
    {
        var run = await Cli.RunAsync(["consumer-groups", "--bootstrap-server", silo.Bootstrap, "--describe", "--group", group]);
        Assert.True(run.Exit == 0, run.ToString());
        if (expectNoMembers)
        {
            Assert.Equal($"\nConsumer group '{group}' has no active members.\n", run.Error);
        }

        Assert.StartsWith("\n", run.Out, StringComparison.Ordinal);
        var lines = run.OutLines;
        Assert.Equal(GroupColumns, Regex.Split(lines[0].Trim(), " +"));
        var starts = GroupColumns.Select(c => lines[0].IndexOf(c, StringComparison.Ordinal)).ToArray();
        return lines.Skip(1).Select(line =>
        {
            var cells = starts.Select((s, i) => (i + 1 < starts.Length ? line[s..starts[i + 1]] : line[s..]).Trim()).ToArray();
            Assert.Equal(group, cells[0]);
            Assert.Equal(["-", "-", "-"], cells[6..]);
            return new Row(cells[1], int.Parse(cells[2], CultureInfo.InvariantCulture), long.Parse(cells[3], CultureInfo.InvariantCulture),
                long.Parse(cells[4], CultureInfo.InvariantCulture), long.Parse(cells[5], CultureInfo.InvariantCulture));
        }).ToList();
    }
}
