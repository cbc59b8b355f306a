using System.Text.Json;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// kafkajs, a Kafka client written in JavaScript with its own protocol code (no librdkafka), against three real silo
/// processes: idempotent gzip produce, a consumer group reading back and committing, a two-member group rebalancing
/// when one leaves (the classic protocol, client-side assignment).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class KafkaJsTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private static readonly string Modules = Path.Combine(RepositoryRoot.Path, "tools", "kafkajs", "node_modules");

    private static readonly string Script = Path.Combine(RepositoryRoot.Path, "tests", "Actors.Integration.Tests", "Kafka", "Clients", "node", "kafkajs-client.js");

    private string Brokers => string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

    [KafkaJsFact]
    public async Task Keyed_gzip_records_come_back_in_order_per_key_and_the_commit_is_fetched()
    {
        const string topic = "kafkajs-records";
        await ClusterPolling.CreateTopicAsync(fixture.Cluster, topic, 3, replicationFactor: 3, minInsyncReplicas: 2);

        using var result = await RunAsync("produce-consume", topic, "kafkajs-readers");

        var received = result.RootElement.GetProperty("received").EnumerateArray()
            .Select(r => (Partition: r.GetProperty("partition").GetInt32(), Offset: long.Parse(r.GetProperty("offset").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Key: r.GetProperty("key").GetString()!, N: int.Parse(r.GetProperty("n").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Value: r.GetProperty("value").GetString()!))
            .ToArray();
        Assert.Equal(200, received.Length);
        Assert.All(received, r => Assert.Equal($"value-{r.N}", r.Value));
        foreach (var key in received.GroupBy(r => r.Key))
        {
            Assert.Single(key.Select(r => r.Partition).Distinct());
            var inOffsetOrder = key.OrderBy(r => r.Offset).Select(r => r.N).ToArray();
            Assert.Equal(inOffsetOrder.Order().ToArray(), inOffsetOrder);
        }

        var committed = result.RootElement.GetProperty("committed").EnumerateArray().Single().GetProperty("partitions").EnumerateArray()
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => long.Parse(p.GetProperty("offset").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        foreach (var partition in received.GroupBy(r => r.Partition))
        {
            Assert.Equal(partition.Max(r => r.Offset) + 1, committed[partition.Key]);
        }
    }

    [KafkaJsFact]
    public async Task Two_members_share_the_partitions_and_the_one_left_takes_them_all()
    {
        using var result = await RunAsync("group-rebalance", KafkaClusterFixture.Topic, "kafkajs-pair");

        var both = result.RootElement.GetProperty("both");
        var a = both.GetProperty("a").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        var b = both.GetProperty("b").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        Assert.Empty(a.Intersect(b));
        Assert.Equal(Enumerable.Range(0, KafkaClusterFixture.Partitions), a.Concat(b).Order());
        Assert.Equal(Enumerable.Range(0, KafkaClusterFixture.Partitions), result.RootElement.GetProperty("after").EnumerateArray().Select(p => p.GetInt32()).Order());
    }

    private async Task<JsonDocument> RunAsync(string mode, string topic, string group)
    {
        var (exit, stdout, stderr) = await ClientProcess.RunAsync("node", [Script, mode, Brokers, topic, group], TimeSpan.FromSeconds(90),
            new Dictionary<string, string> { ["KAFKAJS_MODULES"] = Modules, ["PARTITIONS"] = "3" });
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"kafkajs {mode} exited with {exit}: {stderr}{Environment.NewLine}{fixture.Cluster.Tails()}");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
    }
}

/// <summary>A fact that needs node and kafkajs (installed by tests/install-tools.sh into tools/kafkajs); skipped,
/// saying how to get them, when they are missing.</summary>
public sealed class KafkaJsFactAttribute : FactAttribute
{
    public KafkaJsFactAttribute()
    {
        if (!Directory.Exists(Path.Combine(RepositoryRoot.Path, "tools", "kafkajs", "node_modules", "kafkajs")))
        {
            Skip = "kafkajs is not installed: run tests/install-tools.sh (it installs kafkajs 2.2.4 into tools/kafkajs)";
        }
    }
}
