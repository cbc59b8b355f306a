using Actors.Broker.Configuration;
using Actors.Broker.Topics;

namespace Actors.Broker.Tests.Topics;

public class TopicValidationTests
{
    private static readonly BrokerOptions Defaults = new() { LogDirs = "/tmp/x", NumPartitions = 3, DefaultReplicationFactor = 2 };

    [Theory]
    [InlineData("orders")]
    [InlineData("Orders.v2_test-1")]
    [InlineData("__consumer_offsets")]
    [InlineData("a")]
    [InlineData("...")]
    public void Legal_names_pass(string name) => TopicNameValidator.Validate(name);

    [Theory]
    [InlineData("", "empty")]
    [InlineData(".", "'.' or '..'")]
    [InlineData("..", "'.' or '..'")]
    [InlineData("has space", "contains ' '")]
    [InlineData("slash/inside", "contains '/'")]
    [InlineData("at@sign", "contains '@'")]
    [InlineData("ümlaut", "contains 'ü'")]
    public void Illegal_names_fail_with_invalid_topic_and_say_why(string name, string why)
    {
        var ex = Assert.Throws<BrokerException>(() => TopicNameValidator.Validate(name));
        Assert.Equal(ErrorCode.InvalidTopicException, ex.Code);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_length_limit_is_249()
    {
        TopicNameValidator.Validate(new string('a', 249));
        var ex = Assert.Throws<BrokerException>(() => TopicNameValidator.Validate(new string('a', 250)));
        Assert.Contains("250 characters", ex.Message, StringComparison.Ordinal);
        Assert.Contains("249", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dot_and_underscore_names_collide()
    {
        Assert.True(TopicNameValidator.Collides("a.b", "a_b"));
        Assert.False(TopicNameValidator.Collides("a.b", "a.b"));
        Assert.False(TopicNameValidator.Collides("a.b", "a-b"));
    }

    [Fact]
    public void Create_applies_defaults_and_checks_counts()
    {
        Assert.Equal((3, (short)2), TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t" }, 3, Defaults));
        Assert.Equal((6, (short)3), TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t", NumPartitions = 6, ReplicationFactor = 3 }, 3, Defaults));

        var zero = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t", NumPartitions = 0 }, 3, Defaults));
        Assert.Equal(ErrorCode.InvalidPartitions, zero.Code);
        var tooMany = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t", NumPartitions = 10_001 }, 3, Defaults));
        Assert.Equal(ErrorCode.InvalidPartitions, tooMany.Code);
        Assert.Contains("MaxPartitionsPerTopic", tooMany.Message, StringComparison.Ordinal);

        var rf0 = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t", ReplicationFactor = 0 }, 3, Defaults));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, rf0.Code);
        var rfBig = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "t", ReplicationFactor = 4 }, 3, Defaults));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, rfBig.Code);
        Assert.Contains("Active silos (3)", rfBig.Message, StringComparison.Ordinal);
        Assert.Contains("--replication-factor", rfBig.Message, StringComparison.Ordinal);

        var badName = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateCreate(new CreateTopicRequest { Name = "bad name" }, 3, Defaults));
        Assert.Equal(ErrorCode.InvalidTopicException, badName.Code);
    }

    [Theory]
    [InlineData("retention.ms", "-1")]
    [InlineData("retention.ms", "604800000")]
    [InlineData("retention.bytes", "1073741824")]
    [InlineData("segment.bytes", "1048576")]
    [InlineData("segment.ms", "3600000")]
    [InlineData("min.insync.replicas", "2")]
    [InlineData("max.message.bytes", "2097152")]
    [InlineData("cleanup.policy", "delete")]
    [InlineData("cleanup.policy", "compact,delete")]
    [InlineData("unclean.leader.election.enable", "false")]
    public void Valid_configs_pass(string name, string value) => TopicConfigValidator.ValidateConfig(name, value);

    [Theory]
    [InlineData("retention.ms", "-2", "must be at least -1")]
    [InlineData("retention.ms", "7d", "not a 64-bit integer")]
    [InlineData("segment.bytes", "10", "must be at least 14")]
    [InlineData("segment.bytes", "99999999999", "not a 32-bit integer")]
    [InlineData("min.insync.replicas", "0", "must be at least 1")]
    [InlineData("max.message.bytes", "-1", "must be at least 0")]
    [InlineData("cleanup.policy", "shred", "'delete' and 'compact'")]
    [InlineData("unclean.leader.election.enable", "yes", "true or false")]
    public void Invalid_config_values_name_the_setting(string name, string value, string why)
    {
        var ex = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateConfig(name, value));
        Assert.Equal(ErrorCode.InvalidConfig, ex.Code);
        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_config_name_lists_known_ones()
    {
        var ex = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateConfig("retention.hours", "1"));
        Assert.Equal(ErrorCode.InvalidConfig, ex.Code);
        Assert.Contains("retention.hours", ex.Message, StringComparison.Ordinal);
        Assert.Contains("retention.ms", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Effective_config_overrides_defaults()
    {
        var eff = EffectiveTopicConfig.Resolve(
            new Dictionary<string, string> { ["retention.ms"] = "1000", ["min.insync.replicas"] = "2", ["unclean.leader.election.enable"] = "true" },
            Defaults);
        Assert.Equal(1000, eff.RetentionMs);
        Assert.Equal(2, eff.MinInsyncReplicas);
        Assert.True(eff.UncleanLeaderElectionEnable);
        Assert.Equal(Defaults.LogRetentionBytes, eff.RetentionBytes);
        Assert.Equal(Defaults.LogSegmentBytes, eff.SegmentBytes);
        Assert.Equal(Defaults.MessageMaxBytes, eff.MaxMessageBytes);
        Assert.Equal("delete", eff.CleanupPolicy);
    }

    [Fact]
    public void Broker_options_validation_names_the_setting()
    {
        new BrokerOptions { LogDirs = "/d" }.Validate();
        var ex = Assert.Throws<ArgumentException>(() => new BrokerOptions().Validate());
        Assert.Contains("log.dirs", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => new BrokerOptions { LogDirs = "/d", MinInsyncReplicas = 0 }.Validate());
        Assert.Contains("min.insync.replicas", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => new BrokerOptions { LogDirs = "/d", GroupHeartbeatIntervalMs = 50_000 }.Validate());
        Assert.Contains("GroupHeartbeatIntervalMs", ex.Message, StringComparison.Ordinal);
    }
}
