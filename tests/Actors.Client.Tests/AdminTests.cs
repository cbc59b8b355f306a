using Actors.Broker;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Client.Tests;

[Collection(ClientClusterCollection.Name)]
public class AdminTests(ClientCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private ActorsAdminClient Admin() => (ActorsAdminClient)new ActorsAdminClientBuilder([], cluster.Client).Build();

    private static Dictionary<string, string> Configs(List<DescribeConfigsResult> results) =>
        results.Single().Entries.ToDictionary(e => e.Key, e => e.Value.Value);

    [Fact]
    public async Task Topics_round_trip_create_describe_grow_configure_delete()
    {
        using var admin = Admin();
        var name = $"admin-{Guid.NewGuid():N}"[..14];
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 3, ReplicationFactor = 3, Configs = new() { ["retention.ms"] = "1000000" } }]);

        var described = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([name]))).TopicDescriptions.Single();
        Assert.Equal(3, described.Partitions.Count);
        Assert.All(described.Partitions, p =>
        {
            Assert.Equal(3, p.Replicas.Count);
            Assert.NotNull(p.Leader);
            Assert.Contains(p.Leader!.Id, p.Replicas.Select(r => r.Id));
        });
        Assert.Equal(3, admin.GetMetadata(name, Patience).Topics.Single().Partitions.Count);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = 5 }]);
        Assert.Equal(5, admin.GetMetadata(name, Patience).Topics.Single().Partitions.Count);

        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };
        Assert.Equal("1000000", Configs(await admin.DescribeConfigsAsync([resource]))["retention.ms"]);

        await admin.IncrementalAlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "segment.ms", Value = "600000", IncrementalOperation = AlterConfigOpType.Set }, new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete }] });
        Assert.Equal(new Dictionary<string, string> { ["segment.ms"] = "600000" }, Configs(await admin.DescribeConfigsAsync([resource])));

        await admin.AlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "retention.bytes", Value = "1048576" }] });
        Assert.Equal(new Dictionary<string, string> { ["retention.bytes"] = "1048576" }, Configs(await admin.DescribeConfigsAsync([resource])));

        var again = await Assert.ThrowsAsync<ActorsException>(() => admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Error.Code);
        Assert.Equal(BrokerErrorCode.TopicAlreadyExists, again.BrokerCode);
        Assert.False(again.IsRetriable);
        Assert.Contains(name, again.Message, StringComparison.Ordinal);

        await admin.DeleteTopicsAsync([name]);
        Assert.DoesNotContain(name, admin.GetMetadata(Patience).Topics.Select(t => t.Topic));
        Assert.Throws<NotSupportedException>(() => admin.ListGroups(Patience));
    }

    [Fact]
    public async Task Groups_round_trip_list_describe_offsets_reset_delete()
    {
        using var admin = Admin();
        var topic = await cluster.TopicAsync("groups", 1);
        var group = $"g-{Guid.NewGuid():N}";
        var tp = new TopicPartition(topic, 0);
        var factory = cluster.ClusterClient.ServiceProvider.GetRequiredService<IActorsClientFactory>();
        using (var producer = factory.CreateProducerBuilder<Null, string>().Build())
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(i => producer.ProduceAsync(tp, new Message<Null, string> { Value = $"v{i}" })));
            Assert.StartsWith("client-tests#producer", producer.Name, StringComparison.Ordinal);
        }

        var consumerConfig = new Dictionary<string, string> { ["group.id"] = group, ["auto.offset.reset"] = "earliest", ["enable.auto.commit"] = "false" };
        using (var consumer = factory.CreateConsumerBuilder<Ignore, string>(consumerConfig).Build())
        {
            consumer.Subscribe(topic);
            ConsumeResult<Ignore, string>? last = null;
            for (var i = 0; i < 10; i++)
            {
                last = consumer.Consume(Patience);
            }

            consumer.Commit(last!);

            // While the member is active the group lists it with its partition, and refuses offset changes from outside.
            var live = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
            var member = Assert.Single(live.Members);
            Assert.Equal([tp], member.Assignment.TopicPartitions);
            var refused = await Assert.ThrowsAsync<ActorsException>(() => admin.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(group, [new TopicPartitionOffset(tp, 0)])]));
            Assert.Contains("Stop the group's consumers", refused.Message, StringComparison.Ordinal);
            consumer.Close();
        }

        var listed = (await admin.ListConsumerGroupsAsync()).Valid.Single(g => g.GroupId == group);
        Assert.Equal(Confluent.Kafka.ConsumerGroupState.Empty, listed.State);
        Assert.Empty((await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single().Members);

        async Task<long> CommittedAsync() =>
            (await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [tp])])).Single().Partitions.Single().Offset.Value;

        Assert.Equal(10, await CommittedAsync());
        Assert.Equal(10, (await admin.DescribeConsumerGroupLagAsync(group)).Single().LogEndOffset);

        await admin.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(group, [new TopicPartitionOffset(tp, 3)])]);
        Assert.Equal(3, await CommittedAsync());
        Assert.Equal(7, (await admin.DescribeConsumerGroupLagAsync(group)).Single().Lag);

        // A consumer of the group starts where the admin client put it.
        using (var consumer = factory.CreateConsumerBuilder<Ignore, string>(consumerConfig).Build())
        {
            consumer.Subscribe(topic);
            Assert.Equal("v3", consumer.Consume(Patience)!.Message.Value);
            consumer.Close();
        }

        var plan = await admin.ResetConsumerGroupOffsetsAsync(group, OffsetResetMode.ToEarliest, execute: true);
        Assert.Equal(0, plan.Single().NewOffset);
        Assert.Equal(0, await CommittedAsync());

        await admin.DeleteConsumerGroupOffsetsAsync(group, [tp]);
        Assert.Equal(Offset.Unset.Value, await CommittedAsync());

        await admin.DeleteGroupsAsync([group]);
        Assert.DoesNotContain(group, (await admin.ListConsumerGroupsAsync()).Valid.Select(g => g.GroupId));
    }

    [Fact]
    public async Task A_silo_host_makes_clients_from_its_own_grain_factory()
    {
        var topic = await cluster.TopicAsync("silo", 1);
        var factory = cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IActorsClientFactory>();
        using var producer = factory.CreateProducerBuilder<string, string>().Build();
        var delivered = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "from a silo" });
        Assert.Equal(0, delivered.Offset.Value);

        using var consumer = factory.CreateConsumerBuilder<string, string>(new Dictionary<string, string> { ["group.id"] = $"g-{Guid.NewGuid():N}", ["auto.offset.reset"] = "earliest" }).Build();
        consumer.Assign(new TopicPartition(topic, 0));
        Assert.Equal("from a silo", consumer.Consume(Patience)!.Message.Value);

        var unknown = await Assert.ThrowsAsync<ActorsException>(() => producer.ProduceAsync(new TopicPartition(topic, 7), new Message<string, string> { Value = "x" }));
        Assert.Equal(BrokerErrorCode.UnknownTopicOrPartition, unknown.BrokerCode);
        Assert.Contains("partition 7 does not exist", unknown.Message, StringComparison.Ordinal);
    }
}
