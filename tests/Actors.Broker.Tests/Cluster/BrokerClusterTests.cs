using Actors.Broker.Tests.Support;
using Actors.Testing;

namespace Actors.Broker.Tests.Cluster;

[Collection(BrokerClusterCollection.Name)]
public class BrokerClusterTests
{
    private static async Task<TopicDescription> CreateAsync(BrokerCluster c, string name, int partitions, short rf, Dictionary<string, string>? configs = null) =>
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = name, NumPartitions = partitions, ReplicationFactor = rf, Configs = configs ?? [] });

    [Fact]
    public async Task Round_trip_with_replication_factor_3()
    {
        await using var c = await BrokerCluster.StartAsync();
        var topic = await CreateAsync(c, "orders", 3, 3, new() { ["min.insync.replicas"] = "2" });
        Assert.Equal(3, topic.Partitions.Length);
        Assert.All(topic.Partitions, p => Assert.Equal(3, p.Replicas.Distinct().Count()));
        Assert.Equal(3, topic.Partitions.Select(p => p.Leader).Distinct().Count());

        for (var p = 0; p < 3; p++)
        {
            for (var i = 0; i < 20; i++)
            {
                var r = await c.ProduceAsync("orders", p, Batches.Values(i * 5, 5));
                Assert.Equal(ErrorCode.None, r.Error);
                Assert.Equal(i * 5, r.BaseOffset);
            }
        }

        for (var p = 0; p < 3; p++)
        {
            var got = await c.ConsumeAsync("orders", p, 0, 100);
            Assert.Equal(Enumerable.Range(0, 100).Select(i => ((long)i, $"v{i}")), got);
            var state = topic.Partitions[p];
            await Wait.UntilAsync(
                () => state.Replicas.All(s => c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(state.TopicPartition, s)).GetStatusAsync().GetAwaiter().GetResult().LogEndOffset == 100),
                TimeSpan.FromSeconds(20),
                $"every replica of orders-{p} at log end offset 100",
                () => string.Join(',', state.Replicas.Select(s => $"{s}={c.Client.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(state.TopicPartition, s)).GetStatusAsync().GetAwaiter().GetResult().LogEndOffset}")));
        }
    }

    [Fact]
    public async Task Topic_validation_errors_reach_the_client_with_their_codes()
    {
        await using var c = await BrokerCluster.StartAsync();
        var bad = await Assert.ThrowsAsync<BrokerException>(() => CreateAsync(c, "bad name", 1, 1));
        Assert.Equal(ErrorCode.InvalidTopicException, bad.Code);
        var rf = await Assert.ThrowsAsync<BrokerException>(() => CreateAsync(c, "t", 1, 4));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, rf.Code);
        Assert.Contains("Active silos (3)", rf.Message, StringComparison.Ordinal);
        var cfg = await Assert.ThrowsAsync<BrokerException>(() => CreateAsync(c, "t", 1, 1, new() { ["retention.ms"] = "soon" }));
        Assert.Equal(ErrorCode.InvalidConfig, cfg.Code);
        await CreateAsync(c, "t", 2, 2);
        Assert.Equal(ErrorCode.TopicAlreadyExists, (await Assert.ThrowsAsync<BrokerException>(() => CreateAsync(c, "t", 1, 1))).Code);
        Assert.Equal(ErrorCode.InvalidPartitions, (await Assert.ThrowsAsync<BrokerException>(() => c.Controller.CreatePartitionsAsync("t", 1))).Code);
        var grown = await c.Controller.CreatePartitionsAsync("t", 4);
        Assert.Equal(4, grown.Partitions.Length);
        Assert.Equal(new[] { "t" }, await c.Controller.ListTopicsAsync());
    }

    [Fact]
    public async Task Metadata_lists_the_Active_silos_with_their_gateways_and_follows_membership()
    {
        await using var c = await BrokerCluster.StartAsync();
        var expected = c.Silos.ToDictionary(s => s.Name, s => s.GatewayAddress.Endpoint.Port, StringComparer.Ordinal);
        var metadata = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = [] });
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), metadata.Silos.Select(s => s.Name));
        Assert.All(metadata.Silos, s => Assert.Equal(expected[s.Name], s.GatewayPort));
        Assert.All(metadata.Silos, s => Assert.Equal("Active", s.Status));

        var leaving = c.Silos[^1].Name;
        await c.StopAsync(leaving);
        await Wait.UntilAsync(
            () => !c.Controller.GetMetadataAsync(new MetadataRequest { Topics = [] }).GetAwaiter().GetResult().Silos.Any(s => s.Name == leaving),
            TimeSpan.FromSeconds(20), $"metadata to drop the stopped silo {leaving}");
    }
}
