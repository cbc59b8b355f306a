using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using KafkaErrorCode = Confluent.Kafka.ErrorCode;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Topic administration and configs through Confluent.Kafka's AdminClient (librdkafka) against three real silo
/// processes: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs and IncrementalAlterConfigs. Every test
/// works on topics of its own, so the shared cluster's state does not depend on the order of the tests.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AdminClientTests(KafkaClusterFixture fixture) : IClassFixture<KafkaClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CreateTopics_makes_a_topic_that_Metadata_lists_with_its_partitions_and_replication_factor()
    {
        using var admin = Admin();
        var topic = Name("created");

        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 4, ReplicationFactor = 2 }]);

        var metadata = await UntilAsync($"Metadata to list {topic} with 4 partitions, each led", () =>
        {
            var t = TopicMetadata(admin, topic);
            return (t is not null && t.Partitions.Count == 4 && t.Partitions.All(p => p.Leader >= 0), t);
        });
        Assert.All(metadata!.Partitions, p => Assert.Equal(2, p.Replicas.Length));
    }

    [Fact]
    public async Task Creating_a_topic_that_exists_is_refused_TOPIC_ALREADY_EXISTS()
    {
        using var admin = Admin();
        var topic = Name("twice");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);

        var e = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]));

        var report = Assert.Single(e.Results);
        Assert.Equal(KafkaErrorCode.TopicAlreadyExists, report.Error.Code);
        Assert.Contains(topic, report.Error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replication_factor_above_the_silo_count_is_refused_INVALID_REPLICATION_FACTOR_and_creates_nothing()
    {
        using var admin = Admin();
        var topic = Name("rf4");

        var e = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 4 }]));

        var report = Assert.Single(e.Results);
        Assert.Equal(KafkaErrorCode.InvalidReplicationFactor, report.Error.Code);
        Assert.Contains("Active silos (3)", report.Error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);
    }

    [Fact]
    public async Task Validate_only_answers_success_and_creates_nothing()
    {
        using var admin = Admin();
        var topic = Name("validated");

        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 3 }],
            new CreateTopicsOptions { ValidateOnly = true });

        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);
    }

    [Fact]
    public async Task DeleteTopics_removes_the_topic_then_it_is_unknown()
    {
        using var admin = Admin();
        var topic = Name("deleted");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 3 }]);

        await admin.DeleteTopicsAsync([topic]);

        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);
        var e = await Assert.ThrowsAsync<DeleteTopicsException>(() => admin.DeleteTopicsAsync([topic]));
        Assert.Equal(KafkaErrorCode.UnknownTopicOrPart, Assert.Single(e.Results).Error.Code);
    }

    [Fact]
    public async Task CreatePartitions_grows_a_topic_and_refuses_to_shrink_it_INVALID_PARTITIONS()
    {
        using var admin = Admin();
        var topic = Name("grown");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 5 }]);

        await UntilAsync($"Metadata to list {topic} with 5 partitions, each led", () =>
        {
            var t = TopicMetadata(admin, topic);
            return (t is not null && t.Partitions.Count == 5 && t.Partitions.All(p => p.Leader >= 0 && p.Replicas.Length == 2), true);
        });
        var e = await Assert.ThrowsAsync<CreatePartitionsException>(() =>
            admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 3 }]));
        var report = Assert.Single(e.Results);
        Assert.Equal(KafkaErrorCode.InvalidPartitions, report.Error.Code);
        Assert.Contains("has 5 partitions", report.Error.Reason, StringComparison.Ordinal);
        Assert.Equal(5, (await fixture.Cluster.Controller.DescribeTopicsAsync([topic]))[0].Partitions.Length);
    }

    [Fact]
    public async Task CreatePartitions_validate_only_checks_and_changes_nothing()
    {
        using var admin = Admin();
        var topic = Name("grow-checked");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }]);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 4 }], new CreatePartitionsOptions { ValidateOnly = true });
        var e = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync(
            [new PartitionsSpecification { Topic = topic, IncreaseTo = 2 }], new CreatePartitionsOptions { ValidateOnly = true }));

        Assert.Equal(KafkaErrorCode.InvalidPartitions, Assert.Single(e.Results).Error.Code);
        Assert.Equal(2, (await fixture.Cluster.Controller.DescribeTopicsAsync([topic]))[0].Partitions.Length);
    }

    [Fact]
    public async Task DescribeConfigs_of_a_topic_shows_its_override_as_DYNAMIC_TOPIC_CONFIG_and_the_rest_as_defaults()
    {
        using var admin = Admin();
        var topic = Name("described");
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "3600000" },
        }]);

        var entries = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }])).Single().Entries;

        var retention = entries["retention.ms"];
        Assert.Equal("3600000", retention.Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, retention.Source);
        Assert.False(retention.IsReadOnly);
        Assert.False(retention.IsDefault);
        foreach (var name in new[] { "cleanup.policy", "retention.bytes", "segment.bytes", "segment.ms", "max.message.bytes", "min.insync.replicas",
            "message.timestamp.type", "flush.messages", "flush.ms", "compression.type", "unclean.leader.election.enable" })
        {
            Assert.True(entries.ContainsKey(name), $"{name} is missing from [{string.Join(", ", entries.Keys)}]");
            Assert.Equal(ConfigSource.DefaultConfig, entries[name].Source);
            Assert.False(entries[name].IsSensitive);
        }

        Assert.Equal("delete", entries["cleanup.policy"].Value);
        Assert.Equal("1048588", entries["max.message.bytes"].Value);
        Assert.Equal("-1", entries["retention.bytes"].Value);
    }

    [Fact]
    public async Task DescribeConfigs_of_an_unknown_topic_is_UNKNOWN_TOPIC_OR_PARTITION()
    {
        using var admin = Admin();

        var e = await Assert.ThrowsAsync<DescribeConfigsException>(() =>
            admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = Name("never") }]));

        Assert.Equal(KafkaErrorCode.UnknownTopicOrPart, Assert.Single(e.Results).Error.Code);
    }

    [Fact]
    public async Task DescribeConfigs_of_a_broker_lists_the_silo_settings_read_only()
    {
        using var admin = Admin();
        var brokers = Brokers(admin);
        var id = brokers[^1].BrokerId;

        var result = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }])).Single();

        var entries = result.Entries;
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), entries["broker.id"].Value);
        Assert.Equal("1", entries["num.partitions"].Value);
        Assert.Equal("1", entries["default.replication.factor"].Value);
        Assert.Equal("true", entries["auto.create.topics.enable"].Value);
        Assert.Equal("604800000", entries["log.retention.ms"].Value);
        Assert.Equal("1048588", entries["message.max.bytes"].Value);
        Assert.Equal("10080", entries["offsets.retention.minutes"].Value);
        Assert.All(entries.Values, e => Assert.True(e.IsReadOnly, $"{e.Name} should be read-only"));
        Assert.All(entries.Values, e => Assert.Contains(e.Source, new[] { ConfigSource.StaticBrokerConfig, ConfigSource.DefaultConfig }));
        Assert.Equal(ConfigSource.StaticBrokerConfig, entries["log.dirs"].Source);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_SET_then_DELETE_of_retention_ms_shows_in_DescribeConfigs()
    {
        using var admin = Admin();
        var topic = Name("altered");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 3 }]);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "120000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        var set = (await admin.DescribeConfigsAsync([resource])).Single().Entries["retention.ms"];
        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete }],
        });
        var deleted = (await admin.DescribeConfigsAsync([resource])).Single().Entries["retention.ms"];

        Assert.Equal(("120000", ConfigSource.DynamicTopicConfig), (set.Value, set.Source));
        Assert.Equal(("604800000", ConfigSource.DefaultConfig), (deleted.Value, deleted.Source));
        Assert.Empty((await fixture.Cluster.Controller.DescribeTopicsAsync([topic]))[0].Configs);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_APPEND_to_a_config_that_is_no_list_is_refused_INVALID_CONFIG()
    {
        using var admin = Admin();
        var topic = Name("appended");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        var e = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "5", IncrementalOperation = AlterConfigOpType.Append }],
        }));

        var report = Assert.Single(e.Results);
        Assert.Equal(KafkaErrorCode.InvalidConfig, report.Error.Code);
        Assert.Contains("not a list", report.Error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_of_a_broker_is_refused_saying_where_broker_settings_are_set()
    {
        using var admin = Admin();
        var id = Brokers(admin)[0].BrokerId;
        var resource = new ConfigResource { Type = ResourceType.Broker, Name = id.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        var e = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "min.insync.replicas", Value = "2", IncrementalOperation = AlterConfigOpType.Set }],
        }));

        var report = Assert.Single(e.Results);
        Assert.Equal(KafkaErrorCode.InvalidRequest, report.Error.Code);
        Assert.Contains("restart the silo to change them", report.Error.Reason, StringComparison.Ordinal);
    }

    /// <summary>The topic as Metadata lists it. Asked by name (which auto-creates a missing topic, so only for topics
    /// that exist): an all-topics Metadata v12 from this librdkafka is not read by the listener yet (it closes the
    /// connection), so whether a topic is gone is asked of the controller.</summary>
    private static Confluent.Kafka.TopicMetadata? TopicMetadata(IAdminClient admin, string topic)
    {
        var t = admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.Single();
        return t.Error.Code == KafkaErrorCode.NoError ? t : null;
    }

    private static List<BrokerMetadata> Brokers(IAdminClient admin) =>
        admin.GetMetadata(KafkaClusterFixture.Topic, TimeSpan.FromSeconds(5)).Brokers;

    private static string Name(string what) => $"admin-{what}-{Guid.NewGuid():N}"[..32];

    private static async Task<T> UntilAsync<T>(string what, Func<(bool Done, T Value)> attempt)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (done, value) = attempt();
            if (done)
            {
                return value;
            }

            Assert.True(clock.Elapsed < Deadline, $"Timed out after {Deadline.TotalSeconds} s waiting for {what}.");
            await Task.Delay(100);
        }
    }

    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig
    {
        BootstrapServers = string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}")),
        SocketTimeoutMs = 20_000,
    }).Build();
}
