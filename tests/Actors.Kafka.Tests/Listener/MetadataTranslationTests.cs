using Actors.Broker;
using Actors.Kafka.Listener;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

namespace Actors.Kafka.Tests.Listener;

public class MetadataTranslationTests
{
    private static readonly Guid TopicId = Guid.Parse("6d1a3c2e-0f4b-4c55-9a77-0123456789ab");

    // Silos a, b, c registered as 1, 2, 3; c is dead.
    private static readonly BrokerMetadataResponse Answer = new()
    {
        Silos = [new SiloInfo { Name = "a" }, new SiloInfo { Name = "b" }],
        KafkaBrokers =
        [
            new KafkaBrokerInfo { SiloName = "a", NodeId = 1, Host = "h1", Port = 9092 },
            new KafkaBrokerInfo { SiloName = "b", NodeId = 2, Host = "h2", Port = 9093 },
            new KafkaBrokerInfo { SiloName = "c", NodeId = 3, Host = "h3", Port = 9094 },
        ],
        Topics =
        [
            new TopicMetadata
            {
                Name = "t",
                Description = new TopicDescription
                {
                    Name = "t",
                    TopicId = TopicId,
                    Partitions =
                    [
                        new PartitionState { Topic = "t", Partition = 1, Replicas = ["c", "a"], Leader = null, LeaderEpoch = 4, Isr = ["c"] },
                        new PartitionState { Topic = "t", Partition = 0, Replicas = ["b", "c", "a"], Leader = "b", LeaderEpoch = 2, Isr = ["b", "a"] },
                    ],
                },
            },
            new TopicMetadata { Name = "missing", Error = ErrorCode.UnknownTopicOrPartition },
        ],
    };

    [Fact]
    public void Brokers_are_the_live_registered_silos_and_the_controller_is_the_lowest_id()
    {
        var response = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), Answer, "cluster");

        Assert.Equal(new[] { new MetadataBroker(1, "h1", 9092), new MetadataBroker(2, "h2", 9093) }, response.Brokers);
        Assert.Equal(1, response.ControllerId);
        Assert.Equal("cluster", response.ClusterId);
    }

    [Fact]
    public void Brokers_are_given_at_their_address_on_the_listener_the_client_came_in_on()
    {
        var answer = new BrokerMetadataResponse
        {
            Silos = [new SiloInfo { Name = "a" }, new SiloInfo { Name = "b" }],
            KafkaBrokers =
            [
                new KafkaBrokerInfo
                {
                    SiloName = "a", NodeId = 1, Host = "10.0.0.1", Port = 9093,
                    Listeners = [new KafkaListenerInfo("SASL_SSL", "10.0.0.1", 9093), new KafkaListenerInfo("PLAINTEXT", "127.0.0.1", 9092)],
                },
                new KafkaBrokerInfo
                {
                    SiloName = "b", NodeId = 2, Host = "10.0.0.2", Port = 9093,
                    Listeners = [new KafkaListenerInfo("SASL_SSL", "10.0.0.2", 9093), new KafkaListenerInfo("PLAINTEXT", "127.0.0.1", 19092)],
                },
            ],
        };

        var external = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), answer, null, "SASL_SSL").Brokers;
        var local = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), answer, null, "PLAINTEXT").Brokers;
        var unknown = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), answer, null, "INTERNAL").Brokers;

        Assert.Equal(new[] { new MetadataBroker(1, "10.0.0.1", 9093), new MetadataBroker(2, "10.0.0.2", 9093) }, external);
        Assert.Equal(new[] { new MetadataBroker(1, "127.0.0.1", 9092), new MetadataBroker(2, "127.0.0.1", 19092) }, local);
        Assert.Empty(unknown);
    }

    [Fact]
    public void Partitions_name_silos_by_node_id_with_dead_replicas_offline_and_no_leader_as_LEADER_NOT_AVAILABLE()
    {
        var topic = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), Answer, null).Topics[0];

        Assert.Equal((TopicId, "t"), (topic.TopicId, topic.Name));
        var led = topic.Partitions[0];
        Assert.Equal((0, ErrorCode.None, 2, 2), (led.PartitionIndex, led.ErrorCode, led.LeaderId, led.LeaderEpoch));
        Assert.Equal(new[] { 2, 3, 1 }, led.ReplicaNodes);
        Assert.Equal(new[] { 2, 1 }, led.IsrNodes);
        Assert.Equal(new[] { 3 }, led.OfflineReplicas);
        var offline = topic.Partitions[1];
        Assert.Equal((1, ErrorCode.LeaderNotAvailable, -1), (offline.PartitionIndex, offline.ErrorCode, offline.LeaderId));
    }

    [Fact]
    public void A_topic_error_is_carried_with_the_name()
    {
        var topic = MetadataTranslation.ToKafka(new KafkaMetadataRequest(), Answer, null).Topics[1];

        Assert.Equal(("missing", ErrorCode.UnknownTopicOrPartition), (topic.Name, topic.ErrorCode));
        Assert.Empty(topic.Partitions);
    }

    [Fact]
    public void Names_asked_are_passed_on_with_auto_creation_and_ids_ask_for_every_topic()
    {
        var byName = MetadataTranslation.ToBroker(new KafkaMetadataRequest { Topics = [new(Guid.Empty, "t"), new(Guid.Empty, "t")], AllowAutoTopicCreation = true });
        var byId = MetadataTranslation.ToBroker(new KafkaMetadataRequest { Topics = [new(TopicId, null)], AllowAutoTopicCreation = true });
        var all = MetadataTranslation.ToBroker(new KafkaMetadataRequest());

        Assert.Equal(new[] { "t" }, byName.Topics);
        Assert.True(byName.AllowAutoTopicCreation);
        Assert.Null(byId.Topics);
        Assert.False(byId.AllowAutoTopicCreation);
        Assert.Null(all.Topics);
    }

    [Fact]
    public void Topics_asked_by_id_are_answered_in_the_order_asked_and_an_unknown_id_is_UNKNOWN_TOPIC_ID()
    {
        var unknown = Guid.Parse("00000000-0000-0000-0000-000000000001");
        var request = new KafkaMetadataRequest { Topics = [new(unknown, null), new(TopicId, null)] };

        var topics = MetadataTranslation.ToKafka(request, Answer, null).Topics;

        Assert.Equal(new[] { (unknown, ErrorCode.UnknownTopicId), (TopicId, ErrorCode.None) }, topics.Select(t => (t.TopicId, t.ErrorCode)));
    }
}
