using Actors.Broker;
using Actors.Broker.Configuration;
using Actors.Kafka.Security;
using Microsoft.Extensions.Logging;

namespace Actors.Kafka.Listener;

/// <summary>
/// What the request handlers of one silo's listener share: the grains, this silo's name and Kafka broker id, the
/// cluster id, the cached cluster view and the listener's settings.
/// </summary>
/// <param name="Grains">Where the broker's grains are reached.</param>
/// <param name="SiloName">This silo's name (the name partition states use for leaders and replicas).</param>
/// <param name="NodeId">This silo's Kafka broker id.</param>
/// <param name="Host">The host clients reach this silo's listener at.</param>
/// <param name="Port">The port clients reach this silo's listener at.</param>
/// <param name="ClusterId">The cluster id Kafka clients see.</param>
/// <param name="Cluster">The cached cluster metadata.</param>
/// <param name="Options">The listener's settings.</param>
/// <param name="Time">The clock.</param>
/// <param name="Logger">Where handlers log.</param>
public sealed record KafkaBroker(
    IGrainFactory Grains,
    string SiloName,
    int NodeId,
    string Host,
    int Port,
    string? ClusterId,
    ClusterView Cluster,
    KafkaListenerOptions Options,
    TimeProvider Time,
    ILogger Logger)
{
    /// <summary>The broker settings this silo runs with: the topic defaults and what DescribeConfigs reports for the
    /// broker.</summary>
    public BrokerOptions BrokerSettings { get; init; } = new();

    private AclAuthorizer? authorizer;

    /// <summary>The ACL checks of every request (<c>authorizer.class.name</c>), made from <see cref="Options"/> and the
    /// cluster's ACL store on first use unless given.</summary>
    public AclAuthorizer Authorizer
    {
        get => LazyInitializer.EnsureInitialized(ref authorizer, () => Options.Authorizer().Enabled
            ? new AclAuthorizer(Options.Authorizer(), Grains.GetGrain<IAclsGrain>(BrokerGrainKeys.Acls).GetIfChangedAsync, Time, Logger)
            : AclAuthorizer.Disabled);
        init => authorizer = value;
    }

    /// <summary>The name of the listener these handlers serve (<c>listeners</c>): metadata gives every broker's
    /// address on the listener of that name. Null: each broker's first listener.</summary>
    public string? ListenerName { get; init; }

    /// <summary>The controller grain.</summary>
    public IControllerGrain Controller => Grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    private PartitionGrains? partitions;

    /// <summary>The leader grain of one partition (its reference made once: produce and fetch ask for it per request).</summary>
    public IPartitionGrain Partition(string topic, int partition) =>
        LazyInitializer.EnsureInitialized(ref partitions, () => new PartitionGrains(Grains)).Get(new TopicPartition(topic, partition));

    /// <summary>The grain of one consumer group.</summary>
    public IConsumerGroupGrain Group(string groupId) => Grains.GetGrain<IConsumerGroupGrain>(groupId);
}
