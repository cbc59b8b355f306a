using System.Globalization;
using Actors.Broker.Configuration;

namespace Actors.Broker.Topics;

/// <summary>The configuration a partition runs with: the topic's overrides over the silo defaults.</summary>
/// <remarks>Immutable.</remarks>
public sealed record EffectiveTopicConfig(
    long RetentionMs,
    long RetentionBytes,
    int SegmentBytes,
    long SegmentMs,
    int MinInsyncReplicas,
    int MaxMessageBytes,
    string CleanupPolicy,
    bool UncleanLeaderElectionEnable,
    long FlushMessages = long.MaxValue,
    long FlushMs = long.MaxValue)
{
    /// <summary>Resolves <paramref name="overrides"/> (already validated) over <paramref name="defaults"/>.</summary>
    public static EffectiveTopicConfig Resolve(IReadOnlyDictionary<string, string>? overrides, BrokerOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        overrides ??= new Dictionary<string, string>();
        string? Get(string name) => overrides.TryGetValue(name, out var v) ? v : null;
        return new EffectiveTopicConfig(
            Get(TopicConfigNames.RetentionMs) is { } rms ? ParseLong(rms) : defaults.LogRetentionMs,
            Get(TopicConfigNames.RetentionBytes) is { } rb ? ParseLong(rb) : defaults.LogRetentionBytes,
            Get(TopicConfigNames.SegmentBytes) is { } sb ? ParseInt(sb) : defaults.LogSegmentBytes,
            Get(TopicConfigNames.SegmentMs) is { } sms ? ParseLong(sms) : defaults.LogRollMs,
            Get(TopicConfigNames.MinInsyncReplicas) is { } mir ? ParseInt(mir) : defaults.MinInsyncReplicas,
            Get(TopicConfigNames.MaxMessageBytes) is { } mmb ? ParseInt(mmb) : defaults.MessageMaxBytes,
            Get(TopicConfigNames.CleanupPolicy) ?? "delete",
            Get(TopicConfigNames.UncleanLeaderElectionEnable) is { } u ? bool.Parse(u) : defaults.UncleanLeaderElectionEnable,
            Get(TopicConfigNames.FlushMessages) is { } fm ? ParseLong(fm) : defaults.LogFlushIntervalMessages,
            Get(TopicConfigNames.FlushMs) is { } fms ? ParseLong(fms) : defaults.LogFlushIntervalMs);
    }

    private static long ParseLong(string s) => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static int ParseInt(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>
/// Validates topic creation and config changes the way Kafka does: partitions, replication factor against
/// the Active silos, and each config's name, type and range. Every refusal is a <see cref="BrokerException"/>
/// whose message names the setting.
/// </summary>
public static class TopicConfigValidator
{
    /// <summary>The smallest segment.bytes accepted (Kafka's: a legacy record's overhead).</summary>
    public const int MinSegmentBytes = 14;

    /// <summary>Checks a creation request; returns the partition count and replication factor to use (defaults applied).</summary>
    public static (int Partitions, short ReplicationFactor) ValidateCreate(
        CreateTopicRequest request, int activeSilos, BrokerOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(defaults);
        TopicNameValidator.Validate(request.Name);
        var partitions = request.NumPartitions == -1 ? defaults.NumPartitions : request.NumPartitions;
        if (partitions <= 0)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions,
                $"Number of partitions must be larger than 0 (or -1 for num.partitions); got {request.NumPartitions} for topic '{request.Name}'.");
        }

        if (partitions > defaults.MaxPartitionsPerTopic)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions,
                $"Number of partitions {partitions} for topic '{request.Name}' exceeds the limit of {defaults.MaxPartitionsPerTopic} (Actors:Broker:MaxPartitionsPerTopic).");
        }

        var rf = request.ReplicationFactor == -1 ? defaults.DefaultReplicationFactor : request.ReplicationFactor;
        if (rf <= 0)
        {
            throw new BrokerException(ErrorCode.InvalidReplicationFactor,
                $"Replication factor must be larger than 0 (or -1 for default.replication.factor); got {request.ReplicationFactor} for topic '{request.Name}'.");
        }

        if (rf > activeSilos)
        {
            throw new BrokerException(ErrorCode.InvalidReplicationFactor,
                $"Replication factor {rf} for topic '{request.Name}' is larger than the number of Active silos ({activeSilos}); " +
                "lower --replication-factor (or default.replication.factor) or start more silos.");
        }

        ValidateConfigs(request.Configs);
        return (partitions, rf);
    }

    /// <summary>Checks config overrides: known names, parseable values in range.</summary>
    public static void ValidateConfigs(IReadOnlyDictionary<string, string>? configs)
    {
        if (configs is null)
        {
            return;
        }

        foreach (var (name, value) in configs)
        {
            ValidateConfig(name, value);
        }
    }

    /// <summary>Checks one config override.</summary>
    public static void ValidateConfig(string name, string? value)
    {
        if (value is null)
        {
            throw Invalid(name, "(null)", "a value is required");
        }

        switch (name)
        {
            case TopicConfigNames.RetentionMs:
                RequireLong(name, value, -1);
                break;
            case TopicConfigNames.RetentionBytes:
                RequireLong(name, value, -1);
                break;
            case TopicConfigNames.SegmentBytes:
                RequireInt(name, value, MinSegmentBytes);
                break;
            case TopicConfigNames.SegmentMs:
                RequireLong(name, value, 1);
                break;
            case TopicConfigNames.MinInsyncReplicas:
                RequireInt(name, value, 1);
                break;
            case TopicConfigNames.FlushMessages:
                RequireLong(name, value, 1);
                break;
            case TopicConfigNames.FlushMs:
                RequireLong(name, value, 0);
                break;
            case TopicConfigNames.MaxMessageBytes:
                RequireInt(name, value, 0);
                break;
            case TopicConfigNames.CleanupPolicy:
                var parts = value.Split(',', StringSplitOptions.TrimEntries);
                if (parts.Length == 0 || parts.Any(p => p is not ("delete" or "compact")))
                {
                    throw Invalid(name, value, "expected a list of 'delete' and 'compact'");
                }

                break;
            case TopicConfigNames.UncleanLeaderElectionEnable:
                if (value is not ("true" or "false"))
                {
                    throw Invalid(name, value, "expected true or false");
                }

                break;
            default:
                throw new BrokerException(ErrorCode.InvalidConfig,
                    $"Unknown topic config name '{name}'; known names: {string.Join(", ", TopicConfigNames.All)}.");
        }
    }

    private static void RequireLong(string name, string value, long min)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            throw Invalid(name, value, "not a 64-bit integer");
        }

        if (v < min)
        {
            throw Invalid(name, value, $"must be at least {min}");
        }
    }

    private static void RequireInt(string name, string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            throw Invalid(name, value, "not a 32-bit integer");
        }

        if (v < min)
        {
            throw Invalid(name, value, $"must be at least {min}");
        }
    }

    private static BrokerException Invalid(string name, string value, string why) =>
        new(ErrorCode.InvalidConfig, $"Invalid value '{value}' for topic config '{name}': {why}.");
}
