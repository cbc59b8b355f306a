using System.Text.RegularExpressions;
using Actors.Testing;

namespace Actors.Cli.Tests;

[Collection(SiloCollection.Name)]
public sealed class TopicsTests(SiloFixture silo)
{
    [Fact]
    public async Task Create_list_describe_alter_and_delete_a_topic()
    {
        var topic = Cli.Unique("test");
        var created = await Cli.RunAsync(["topics", "--create", "--bootstrap-server", silo.Bootstrap, "--replication-factor", "1", "--partitions", "3", "--topic", topic, "--config", "retention.ms=3600000"]);
        Assert.True(created.Exit == 0, created.ToString());
        Assert.Equal($"Created topic {topic}.\n", created.Out);

        var listed = await Cli.RunAsync(["topics", "--list", "--bootstrap-server", silo.Bootstrap]);
        Assert.Contains(topic, listed.OutLines);

        var described = await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", silo.Bootstrap, "--topic", topic]);
        Assert.True(described.Exit == 0, described.ToString());
        var lines = described.OutLines;
        Assert.Equal(4, lines.Length);
        Assert.Matches($@"^Topic: {topic}\tTopicId: \S+\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: .*retention\.ms=3600000", lines[0]);
        for (var p = 0; p < 3; p++)
        {
            Assert.Matches($@"^\tTopic: {topic}\tPartition: {p}\tLeader: (\d+)\tReplicas: \1\tIsr: \1$", lines[p + 1]);
        }

        var altered = await Cli.RunAsync(["topics", "--alter", "--bootstrap-server", silo.Bootstrap, "--topic", topic, "--partitions", "4"]);
        Assert.True(altered.Exit == 0, altered.ToString());
        await Wait.UntilAsync(async () => Regex.IsMatch((await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", silo.Bootstrap, "--topic", topic])).Out, @"PartitionCount: 4\t"),
            TimeSpan.FromSeconds(30), "the topic to have 4 partitions");

        var deleted = await Cli.RunAsync(["topics", "--delete", "--bootstrap-server", silo.Bootstrap, "--topic", topic]);
        Assert.True(deleted.Exit == 0, deleted.ToString());
        await Wait.UntilAsync(async () => !(await Cli.RunAsync(["topics", "--list", "--bootstrap-server", silo.Bootstrap])).OutLines.Contains(topic),
            TimeSpan.FromSeconds(30), "the deleted topic to leave the list");
    }

    [Fact]
    public async Task An_unknown_topic_is_one_line_that_says_how_to_create_it()
    {
        var run = await Cli.RunAsync(["topics", "--describe", "--bootstrap-server", silo.Bootstrap, "--topic", "no-such-topic"]);
        Assert.Equal(1, run.Exit);
        Assert.Equal("Error: Topic 'no-such-topic' does not exist. Create it with: actors topics --create --topic no-such-topic (or list them with: actors topics --list)\n", run.Error);

        var consumer = await Cli.RunAsync(["console-consumer", "--bootstrap-server", silo.Bootstrap, "--topic", "no-such-topic", "--timeout-ms", "1000"]);
        Assert.Equal(1, consumer.Exit);
        Assert.Contains("Topic 'no-such-topic' does not exist.", consumer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_within_seconds_naming_the_address()
    {
        var port = Ports.GetFreeTcpPort();
        var run = await Cli.RunAsync(["topics", "--list", "--bootstrap-server", $"127.0.0.1:{port}"]);
        Assert.Equal(1, run.Exit);
        Assert.True(run.Took < TimeSpan.FromSeconds(15), run.ToString());
        Assert.StartsWith($"Error: Cannot reach the cluster at 127.0.0.1:{port}", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_unknown_flag_is_a_usage_error()
    {
        var run = await Cli.RunAsync(["topics", "--list", "--bogus"]);
        Assert.Equal(2, run.Exit);
        Assert.Contains("--bogus", run.Error, StringComparison.Ordinal);
        Assert.Contains("actors topics --help", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var none = await Cli.RunAsync(["topics", "--bootstrap-server", silo.Bootstrap]);
        Assert.Equal(2, none.Exit);
        Assert.Contains("--create", none.Error, StringComparison.Ordinal);
    }
}
