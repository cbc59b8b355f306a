using System.Globalization;
using System.Reflection;
using Actors.Broker;
using Actors.Broker.Configuration;

namespace Actors.Kafka.Listener.Apis;

/// <summary>Kafka's config data types, as DescribeConfigs (v3+) and CreateTopics report them.</summary>
internal enum ConfigType : sbyte
{
    Unknown = 0,
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    Double = 6,
    List = 7,
    Class = 8,
    Password = 9,
}

/// <summary>Where a config's value comes from (Kafka's DescribeConfigsResponse.ConfigSource).</summary>
internal enum ConfigSource : sbyte
{
    Unknown = 0,
    DynamicTopicConfig = 1,
    DynamicBrokerConfig = 2,
    DynamicDefaultBrokerConfig = 3,
    StaticBrokerConfig = 4,
    DefaultConfig = 5,
}

/// <summary>One value a config takes from one source (a synonym in DescribeConfigs).</summary>
internal sealed record ConfigSynonym(string Name, string? Value, ConfigSource Source);

/// <summary>One config as DescribeConfigs and CreateTopics (v5+) report it.</summary>
internal sealed record ConfigValue(
    string Name,
    string? Value,
    ConfigSource Source,
    bool ReadOnly,
    ConfigType Type,
    string Documentation,
    IReadOnlyList<ConfigSynonym> Synonyms);

/// <summary>One topic config the broker knows: its type, the broker setting its default comes from, and whether a
/// topic may override it.</summary>
/// <param name="Name">The topic config's name.</param>
/// <param name="Type">Its Kafka type.</param>
/// <param name="BrokerName">The broker setting that gives its default (Kafka's synonym).</param>
/// <param name="Default">Its default on a silo with these settings.</param>
/// <param name="ReadOnly">Fixed by how the broker works: listed so clients see it, refused when altered.</param>
/// <param name="Documentation">What it means.</param>
internal sealed record TopicConfigDefinition(
    string Name,
    ConfigType Type,
    string BrokerName,
    Func<BrokerOptions, string> Default,
    bool ReadOnly,
    string Documentation);

/// <summary>
/// The configs the broker reports for topics and for itself, with their values, sources and types.
/// </summary>
/// <remarks>
/// A topic config's default comes from this silo's broker settings. Its source is STATIC_BROKER_CONFIG when the
/// silo's setting differs from the built-in default (it was configured) and DEFAULT_CONFIG otherwise; a setting
/// configured to the built-in default's own value reads as DEFAULT_CONFIG. Broker settings are the same for every
/// topic on a silo and are expected to be the same on every silo (the controller applies its own silo's).
/// </remarks>
internal static class ConfigCatalog
{
    private static readonly BrokerOptions BuiltIn = new();

    /// <summary>Every topic config the broker knows, the settable ones (<see cref="TopicConfigNames.All"/>) first.</summary>
    public static IReadOnlyList<TopicConfigDefinition> Topic { get; } =
    [
        new(TopicConfigNames.CleanupPolicy, ConfigType.List, "log.cleanup.policy", _ => "delete", false,
            "\"delete\" removes old segments by retention.ms / retention.bytes; \"compact\" is accepted but not applied yet."),
        new(TopicConfigNames.RetentionMs, ConfigType.Long, "log.retention.ms", o => Format(o.LogRetentionMs), false,
            "How long a closed segment is kept, in ms; -1 keeps segments forever."),
        new(TopicConfigNames.RetentionBytes, ConfigType.Long, "log.retention.bytes", o => Format(o.LogRetentionBytes), false,
            "Largest size of a partition before its oldest segments are deleted; -1 = unlimited."),
        new(TopicConfigNames.SegmentBytes, ConfigType.Int, "log.segment.bytes", o => Format(o.LogSegmentBytes), false,
            "Segment file size at which a new segment is rolled."),
        new(TopicConfigNames.SegmentMs, ConfigType.Long, "log.roll.ms", o => Format(o.LogRollMs), false,
            "Segment age at which a new segment is rolled, in ms."),
        new(TopicConfigNames.MinInsyncReplicas, ConfigType.Int, "min.insync.replicas", o => Format(o.MinInsyncReplicas), false,
            "Fewest in-sync replicas for an acks=all produce to succeed (NOT_ENOUGH_REPLICAS otherwise)."),
        new(TopicConfigNames.MaxMessageBytes, ConfigType.Int, "message.max.bytes", o => Format(o.MessageMaxBytes), false,
            "Largest record batch a partition accepts."),
        new(TopicConfigNames.UncleanLeaderElectionEnable, ConfigType.Boolean, "unclean.leader.election.enable",
            o => Format(o.UncleanLeaderElectionEnable), false,
            "Whether a replica out of the ISR may become leader when no in-sync replica is left (losing records)."),
        new(TopicConfigNames.FlushMessages, ConfigType.Long, "log.flush.interval.messages", o => Format(o.LogFlushIntervalMessages), false,
            "Records appended since the last fsync that trigger one. The default (never) leaves durability to replication and the page cache, as Kafka's."),
        new(TopicConfigNames.FlushMs, ConfigType.Long, "log.flush.interval.ms", o => Format(o.LogFlushIntervalMs), false,
            "Age of the last fsync, in ms, that triggers one. The default (never) leaves durability to replication and the page cache, as Kafka's."),
        new("compression.type", ConfigType.String, "compression.type", _ => "producer", true,
            "Batches are stored as the producer compressed them (read-only)."),
        new("message.timestamp.type", ConfigType.String, "log.message.timestamp.type", _ => "CreateTime", true,
            "Records keep the producer's timestamps (read-only)."),
        new("index.interval.bytes", ConfigType.Int, "log.index.interval.bytes", _ => "4096", true,
            "Bytes of log between two entries of the offset index (read-only)."),
    ];

    /// <summary>The topic config named <paramref name="name"/>, if the broker knows it.</summary>
    public static TopicConfigDefinition? TopicConfig(string name) =>
        Topic.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));

    /// <summary>Every config of <paramref name="topic"/> on a silo with <paramref name="settings"/>.</summary>
    public static IEnumerable<ConfigValue> TopicConfigs(TopicDescription topic, BrokerOptions settings)
    {
        ArgumentNullException.ThrowIfNull(topic);
        foreach (var definition in Topic)
        {
            yield return TopicConfig(definition, topic.Configs, settings);
        }
    }

    /// <summary>The current value of one topic config: its override, else the silo's default.</summary>
    public static string CurrentValue(TopicConfigDefinition definition, IReadOnlyDictionary<string, string> overrides, BrokerOptions settings) =>
        overrides.TryGetValue(definition.Name, out var value) ? value : definition.Default(settings);

    /// <summary>The settings of this silo as a broker (id <paramref name="nodeId"/>): every Kafka-named setting the
    /// silo accepts, read-only.</summary>
    public static IEnumerable<ConfigValue> BrokerConfigs(BrokerOptions settings, int nodeId)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var id = Format(nodeId);
        yield return new ConfigValue("broker.id", id, ConfigSource.StaticBrokerConfig, true, ConfigType.Int,
            "This silo's Kafka broker id, given by the controller on first registration and kept ever after.",
            [new ConfigSynonym("broker.id", id, ConfigSource.StaticBrokerConfig)]);
        foreach (var (name, property) in KafkaBrokerSettings.Names.OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            var info = typeof(BrokerOptions).GetProperty(property, BindingFlags.Public | BindingFlags.Instance);
            if (info is null)
            {
                continue;
            }

            var value = FormatObject(info.GetValue(settings));
            var builtIn = FormatObject(info.GetValue(BuiltIn));
            yield return BrokerConfig(name, value, builtIn, TypeOf(info.PropertyType),
                $"The silo's Actors:Broker:{property} setting (--{name}); read at start.");
        }

        foreach (var definition in Topic.Where(d => d.ReadOnly || !KafkaBrokerSettings.Names.ContainsKey(d.BrokerName)))
        {
            var value = definition.Default(settings);
            yield return BrokerConfig(definition.BrokerName, value, definition.Default(BuiltIn), definition.Type, definition.Documentation);
        }
    }

    private static ConfigValue BrokerConfig(string name, string? value, string? builtIn, ConfigType type, string documentation)
    {
        var configured = !string.Equals(value, builtIn, StringComparison.Ordinal);
        List<ConfigSynonym> synonyms = configured
            ? [new(name, value, ConfigSource.StaticBrokerConfig), new(name, builtIn, ConfigSource.DefaultConfig)]
            : [new(name, value, ConfigSource.DefaultConfig)];
        return new ConfigValue(name, value, configured ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig, true, type,
            documentation, synonyms);
    }

    private static ConfigValue TopicConfig(TopicConfigDefinition definition, Dictionary<string, string> overrides, BrokerOptions settings)
    {
        var value = definition.Default(settings);
        var builtIn = definition.Default(BuiltIn);
        var configured = !string.Equals(value, builtIn, StringComparison.Ordinal);
        var synonyms = new List<ConfigSynonym>(3);
        var source = configured ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig;
        string? current = value;
        if (!definition.ReadOnly && overrides.TryGetValue(definition.Name, out var set))
        {
            synonyms.Add(new ConfigSynonym(definition.Name, set, ConfigSource.DynamicTopicConfig));
            source = ConfigSource.DynamicTopicConfig;
            current = set;
        }

        if (configured)
        {
            synonyms.Add(new ConfigSynonym(definition.BrokerName, value, ConfigSource.StaticBrokerConfig));
        }

        synonyms.Add(new ConfigSynonym(definition.BrokerName, builtIn, ConfigSource.DefaultConfig));
        return new ConfigValue(definition.Name, current, source, definition.ReadOnly, definition.Type, definition.Documentation, synonyms);
    }

    private static ConfigType TypeOf(Type type) =>
        type == typeof(bool) ? ConfigType.Boolean
        : type == typeof(int) ? ConfigType.Int
        : type == typeof(short) ? ConfigType.Short
        : type == typeof(long) ? ConfigType.Long
        : type == typeof(double) ? ConfigType.Double
        : ConfigType.String;

    private static string? FormatObject(object? value) => value switch
    {
        null => null,
        bool b => Format(b),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Format(bool value) => value ? "true" : "false";
}
