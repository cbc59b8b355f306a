using Actors.Broker.Tests.Cluster;
using Actors.Broker.Tests.Support;

namespace Actors.Broker.Tests.Controller;

[Collection(BrokerClusterCollection.Name)]
public class KafkaBrokerRegistryTests
{
    [Fact]
    public async Task Kafka_broker_ids_are_given_from_1_in_order_kept_on_reregistration_and_never_reused()
    {
        await using var c = await BrokerCluster.StartAsync();

        var first = await c.Controller.RegisterKafkaBrokerAsync("a", "10.0.0.1", 9092);
        var second = await c.Controller.RegisterKafkaBrokerAsync("b", "10.0.0.2", 9092);
        var again = await c.Controller.RegisterKafkaBrokerAsync("a", "10.0.0.1", 9092);
        var moved = await c.Controller.RegisterKafkaBrokerAsync("b", "10.0.0.2", 19092);
        var third = await c.Controller.RegisterKafkaBrokerAsync("c", "10.0.0.3", 9092);
        var metadata = await c.Controller.GetMetadataAsync(new MetadataRequest { Topics = [] });

        Assert.Equal((1, 2, 1, 2, 3), (first, second, again, moved, third));
        var registered = metadata.KafkaBrokers.Select(b => (b.SiloName, b.NodeId, b.Host, b.Port));
        Assert.Equal(new[] { ("a", 1, "10.0.0.1", 9092), ("b", 2, "10.0.0.2", 19092), ("c", 3, "10.0.0.3", 9092) }, registered);
    }
}
