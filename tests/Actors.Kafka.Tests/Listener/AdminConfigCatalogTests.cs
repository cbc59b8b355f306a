using Actors.Broker;
using Actors.Broker.Configuration;
using Actors.Kafka.Listener.Apis;

namespace Actors.Kafka.Tests.Listener;

public class AdminConfigCatalogTests
{
    private static readonly TopicDescription Topic = new()
    {
        Name = "t",
        Configs = new(StringComparer.Ordinal) { [TopicConfigNames.RetentionMs] = "1000", ["compression.type"] = "gzip" },
    };

    [Fact]
    public void Every_config_a_topic_accepts_is_reported_and_settable()
    {
        var reported = ConfigCatalog.TopicConfigs(Topic, new BrokerOptions()).ToDictionary(c => c.Name);

        Assert.All(TopicConfigNames.All, name => Assert.False(reported[name].ReadOnly, name));
        Assert.All(reported.Values.Where(c => !TopicConfigNames.All.Contains(c.Name)), c => Assert.True(c.ReadOnly, c.Name));
    }

    [Fact]
    public void An_override_is_DYNAMIC_TOPIC_CONFIG_with_the_broker_default_as_synonym()
    {
        var retention = ConfigCatalog.TopicConfigs(Topic, new BrokerOptions()).Single(c => c.Name == TopicConfigNames.RetentionMs);

        Assert.Equal(("1000", ConfigSource.DynamicTopicConfig, ConfigType.Long), (retention.Value, retention.Source, retention.Type));
        Assert.Equal(
            [new ConfigSynonym("retention.ms", "1000", ConfigSource.DynamicTopicConfig), new ConfigSynonym("log.retention.ms", "604800000", ConfigSource.DefaultConfig)],
            retention.Synonyms);
    }

    [Fact]
    public void A_default_the_silo_was_configured_with_is_STATIC_BROKER_CONFIG_else_DEFAULT_CONFIG()
    {
        var configs = ConfigCatalog.TopicConfigs(Topic, new BrokerOptions { MinInsyncReplicas = 2 }).ToDictionary(c => c.Name);

        var minIsr = configs[TopicConfigNames.MinInsyncReplicas];
        Assert.Equal(("2", ConfigSource.StaticBrokerConfig), (minIsr.Value, minIsr.Source));
        Assert.Equal(
            [new ConfigSynonym("min.insync.replicas", "2", ConfigSource.StaticBrokerConfig), new ConfigSynonym("min.insync.replicas", "1", ConfigSource.DefaultConfig)],
            minIsr.Synonyms);
        Assert.Equal(("1073741824", ConfigSource.DefaultConfig), (configs[TopicConfigNames.SegmentBytes].Value, configs[TopicConfigNames.SegmentBytes].Source));
        Assert.Equal(("delete", ConfigType.List), (configs[TopicConfigNames.CleanupPolicy].Value, configs[TopicConfigNames.CleanupPolicy].Type));
    }

    [Fact]
    public void A_read_only_config_ignores_an_override_stored_on_the_topic()
    {
        var compression = ConfigCatalog.TopicConfigs(Topic, new BrokerOptions()).Single(c => c.Name == "compression.type");

        Assert.Equal(("producer", ConfigSource.DefaultConfig, true), (compression.Value, compression.Source, compression.ReadOnly));
    }

    [Fact]
    public void A_broker_reports_every_Kafka_named_setting_read_only_with_its_type()
    {
        var configs = ConfigCatalog.BrokerConfigs(new BrokerOptions { NumPartitions = 6, LogDirs = "/data/logs" }, 3).ToDictionary(c => c.Name);

        Assert.All(KafkaBrokerSettings.Names.Keys, name => Assert.True(configs.ContainsKey(name), name));
        Assert.All(configs.Values, c => Assert.True(c.ReadOnly, c.Name));
        Assert.Equal(("3", ConfigType.Int), (configs["broker.id"].Value, configs["broker.id"].Type));
        Assert.Equal(("6", ConfigSource.StaticBrokerConfig, ConfigType.Int), (configs["num.partitions"].Value, configs["num.partitions"].Source, configs["num.partitions"].Type));
        Assert.Equal(("true", ConfigSource.DefaultConfig, ConfigType.Boolean), (configs["auto.create.topics.enable"].Value, configs["auto.create.topics.enable"].Source, configs["auto.create.topics.enable"].Type));
        Assert.Equal(("1", ConfigType.Short), (configs["default.replication.factor"].Value, configs["default.replication.factor"].Type));
        Assert.Equal(("604800000", ConfigType.Long), (configs["log.retention.ms"].Value, configs["log.retention.ms"].Type));
        Assert.Equal("/data/logs", configs["log.dirs"].Value);
        Assert.Equal("delete", configs["log.cleanup.policy"].Value);
    }

    [Fact]
    public void A_refusal_is_answered_with_the_controller_message_without_its_code_prefix()
    {
        var refusal = new BrokerException(ErrorCode.TopicAlreadyExists, "Topic 't' already exists.");

        Assert.Equal("Topic 't' already exists.", AdminApis.Message(refusal));
        Assert.Equal((ErrorCode.TopicAlreadyExists, "Topic 't' already exists."), AdminApis.Failure(refusal, null!, "Creating topic 't'"));
    }
}
