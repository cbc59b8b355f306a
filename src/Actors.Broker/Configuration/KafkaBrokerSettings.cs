using Actors.Broker.Hosting;
using Microsoft.Extensions.Configuration;

namespace Actors.Broker.Configuration;

/// <summary>
/// Lets broker settings be given under their Kafka server.properties names: as keys under "Actors:Broker" in any
/// configuration source (e.g. <c>"Actors": { "Broker": { "min.insync.replicas": 2 } }</c>) or as flags
/// (<c>--log.dirs /data/logs</c>, <c>--min.insync.replicas=2</c>). Each is translated to the
/// <see cref="BrokerOptions"/> property it names; the option names themselves (e.g. "Actors:Broker:LogDirs") work too.
/// </summary>
public static class KafkaBrokerSettings
{
    /// <summary>Kafka name → <see cref="BrokerOptions"/> property.</summary>
    public static readonly IReadOnlyDictionary<string, string> Names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["log.dirs"] = nameof(BrokerOptions.LogDirs),
        ["num.partitions"] = nameof(BrokerOptions.NumPartitions),
        ["default.replication.factor"] = nameof(BrokerOptions.DefaultReplicationFactor),
        ["auto.create.topics.enable"] = nameof(BrokerOptions.AutoCreateTopicsEnable),
        ["log.retention.ms"] = nameof(BrokerOptions.LogRetentionMs),
        ["log.retention.bytes"] = nameof(BrokerOptions.LogRetentionBytes),
        ["log.segment.bytes"] = nameof(BrokerOptions.LogSegmentBytes),
        ["log.roll.ms"] = nameof(BrokerOptions.LogRollMs),
        ["log.retention.check.interval.ms"] = nameof(BrokerOptions.LogRetentionCheckIntervalMs),
        ["log.flush.interval.messages"] = nameof(BrokerOptions.LogFlushIntervalMessages),
        ["log.flush.interval.ms"] = nameof(BrokerOptions.LogFlushIntervalMs),
        ["replica.high.watermark.checkpoint.interval.ms"] = nameof(BrokerOptions.ReplicaHighWatermarkCheckpointIntervalMs),
        ["min.insync.replicas"] = nameof(BrokerOptions.MinInsyncReplicas),
        ["message.max.bytes"] = nameof(BrokerOptions.MessageMaxBytes),
        ["unclean.leader.election.enable"] = nameof(BrokerOptions.UncleanLeaderElectionEnable),
        ["replica.lag.time.max.ms"] = nameof(BrokerOptions.ReplicaLagTimeMaxMs),
        ["replica.fetch.wait.max.ms"] = nameof(BrokerOptions.ReplicaFetchWaitMaxMs),
        ["replica.fetch.max.bytes"] = nameof(BrokerOptions.ReplicaFetchMaxBytes),
        ["auto.leader.rebalance.enable"] = nameof(BrokerOptions.AutoLeaderRebalanceEnable),
        ["leader.imbalance.check.interval.seconds"] = nameof(BrokerOptions.LeaderImbalanceCheckIntervalSeconds),
        ["offsets.retention.minutes"] = nameof(BrokerOptions.OffsetsRetentionMinutes),
        ["group.consumer.session.timeout.ms"] = nameof(BrokerOptions.GroupSessionTimeoutMs),
        ["group.consumer.heartbeat.interval.ms"] = nameof(BrokerOptions.GroupHeartbeatIntervalMs),
        ["max.poll.interval.ms"] = nameof(BrokerOptions.GroupRebalanceTimeoutMs),
        ["group.consumer.max.size"] = nameof(BrokerOptions.GroupMaxSize),
        ["producer.id.expiration.ms"] = nameof(BrokerOptions.ProducerIdExpirationMs),
    };

    public const string Usage =
        "Broker settings: --<kafka.name> <value> for " + "log.dirs, num.partitions, default.replication.factor, min.insync.replicas, ... " +
        "(any name listed in Actors.Broker's KafkaBrokerSettings), or \"Actors:Broker:<OptionName>\" in appsettings.json / ACTORS_BROKER__<OPTIONNAME>.";

    /// <summary>Takes the Kafka-named flags out of <paramref name="args"/> as "Actors:Broker:..." keys; returns the other arguments.</summary>
    public static List<string> TakeFlags(IReadOnlyList<string> args, Dictionary<string, string?> settings)
    {
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var name = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : null;
            string? value = null;
            if (name is not null && name.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            if (name is null || !Names.TryGetValue(name, out var property))
            {
                rest.Add(arg);
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"The flag --{name} needs a value.\n{Usage}");
                }

                value = args[++i];
            }

            settings[$"{BrokerSiloBuilderExtensions.ConfigurationSection}:{property}"] = value;
        }

        return rest;
    }

    /// <summary>Kafka-named keys found under "Actors:Broker" in <paramref name="configuration"/>, as option keys.</summary>
    /// <exception cref="ArgumentException">A dotted key that is no known Kafka broker setting.</exception>
    public static Dictionary<string, string?> Translate(IConfiguration configuration)
    {
        var translated = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in configuration.GetSection(BrokerSiloBuilderExtensions.ConfigurationSection).GetChildren())
        {
            if (Names.TryGetValue(child.Key, out var property))
            {
                translated[$"{BrokerSiloBuilderExtensions.ConfigurationSection}:{property}"] = child.Value;
            }
            else if (child.Key.Contains('.', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unknown broker setting '{BrokerSiloBuilderExtensions.ConfigurationSection}:{child.Key}'.\n{Usage}");
            }
        }

        return translated;
    }
}
