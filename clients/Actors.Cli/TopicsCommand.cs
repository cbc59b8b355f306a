using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Actors.Cli;

/// <summary><c>actors topics</c>: kafka-topics.sh.</summary>
internal static class TopicsCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var create = Commands.Flag("--create", "Create a topic.");
        var list = Commands.Flag("--list", "List the topics.");
        var describe = Commands.Flag("--describe", "Describe topics: partition count, replication factor, configs, and each partition's leader, replicas and ISR.");
        var delete = Commands.Flag("--delete", "Delete a topic.");
        var alter = Commands.Flag("--alter", "Add partitions to a topic (--partitions) or change its configs (--config, --delete-config).");
        var topic = new Option<string?>("--topic") { Description = "The topic (for --list, --describe, --delete, --alter also a regular expression matching whole names).", HelpName = "topic" };
        var partitions = new Option<int?>("--partitions") { Description = "Number of partitions (--create: default the broker's num.partitions; --alter: the new, larger count).", HelpName = "n" };
        var replicationFactor = new Option<short?>("--replication-factor") { Description = "Copies of each partition (--create; default the broker's default.replication.factor).", HelpName = "n" };
        var config = Commands.Repeated("--config", "A topic config, e.g. retention.ms=60000 (repeatable).", "key=value");
        var deleteConfig = Commands.Repeated("--delete-config", "A topic config to remove, back to its default (--alter; repeatable).", "key");
        var ifExists = Commands.Flag("--if-exists", "--alter, --delete, --describe: do nothing (exit 0) when the topic does not exist.");
        var ifNotExists = Commands.Flag("--if-not-exists", "--create: do nothing (exit 0) when the topic exists.");
        var excludeInternal = Commands.Flag("--exclude-internal", "--list, --describe: leave out internal topics such as __consumer_offsets.");
        var underReplicated = Commands.Flag("--under-replicated-partitions", "--describe: only partitions whose ISR is smaller than their replicas.");
        var unavailable = Commands.Flag("--unavailable-partitions", "--describe: only partitions without a leader.");
        var command = new Command("topics", "Create, list, describe, alter and delete topics (kafka-topics.sh).")
        {
            bootstrap, commandConfig, create, list, describe, delete, alter, topic, partitions, replicationFactor, config, deleteConfig,
            ifExists, ifNotExists, excludeInternal, underReplicated, unavailable,
        };
        command.SetAction(async (parse, _) =>
        {
            var action = Commands.OneOf(parse, "topics", create, list, describe, delete, alter);
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            var configs = Properties.Parse(parse.GetValue(config), "--config");
            using var admin = cluster.Admin();
            var metadata = cluster.Metadata(admin);
            var name = parse.GetValue(topic);
            if (action == create)
            {
                return await CreateAsync(admin, io, Commands.Required(name, "--topic", "with --create"), parse.GetValue(partitions), parse.GetValue(replicationFactor), configs, parse.GetValue(ifNotExists));
            }

            var names = metadata.Topics
                .Where(t => t.Error.Code != ErrorCode.UnknownTopicOrPart)
                .Select(t => t.Topic)
                .Where(t => !parse.GetValue(excludeInternal) || !t.StartsWith("__", StringComparison.Ordinal))
                .Where(t => name is null || Matches(t, name))
                .Order(StringComparer.Ordinal)
                .ToList();
            if (action == list)
            {
                foreach (var t in names)
                {
                    await io.Out.WriteLineAsync(t);
                }

                return ExitCodes.Ok;
            }

            if (names.Count == 0 && (name is not null || action != describe))
            {
                if (parse.GetValue(ifExists))
                {
                    return ExitCodes.Ok;
                }

                throw new CliException(Errors.UnknownTopic(Commands.Required(name, "--topic", $"with {action.Name}")));
            }

            if (action == describe)
            {
                await DescribeAsync(admin, io, names, parse.GetValue(underReplicated), parse.GetValue(unavailable));
                return ExitCodes.Ok;
            }

            if (action == delete)
            {
                await admin.DeleteTopicsAsync(names, new DeleteTopicsOptions { RequestTimeout = Cluster.RequestTimeout });
                foreach (var t in names)
                {
                    await io.Out.WriteLineAsync($"Deleted topic {t}.");
                }

                return ExitCodes.Ok;
            }

            return await AlterAsync(admin, io, names, parse.GetValue(partitions), configs, parse.GetValue(deleteConfig) ?? []);
        });
        return command;
    }

    private static bool Matches(string topic, string pattern)
    {
        if (topic == pattern)
        {
            return true;
        }

        try
        {
            return Regex.IsMatch(topic, $"^(?:{pattern})$", RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<int> CreateAsync(IAdminClient admin, CliIo io, string name, int? partitions, short? replicationFactor, Dictionary<string, string> configs, bool ifNotExists)
    {
        try
        {
            await admin.CreateTopicsAsync(
                [new TopicSpecification { Name = name, NumPartitions = partitions ?? -1, ReplicationFactor = replicationFactor ?? -1, Configs = configs }],
                new CreateTopicsOptions { RequestTimeout = Cluster.RequestTimeout, OperationTimeout = Cluster.RequestTimeout });
        }
        catch (CreateTopicsException e) when (ifNotExists && e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            return ExitCodes.Ok;
        }

        await io.Out.WriteLineAsync($"Created topic {name}.");
        return ExitCodes.Ok;
    }

    private static async Task DescribeAsync(IAdminClient admin, CliIo io, List<string> names, bool underReplicatedOnly, bool unavailableOnly)
    {
        if (names.Count == 0)
        {
            return;
        }

        var described = await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(names), new DescribeTopicsOptions { RequestTimeout = Cluster.RequestTimeout });
        var configs = await admin.DescribeConfigsAsync(
            names.Select(n => new ConfigResource { Type = ResourceType.Topic, Name = n }),
            new DescribeConfigsOptions { RequestTimeout = Cluster.RequestTimeout });
        var configsByTopic = configs.ToDictionary(c => c.ConfigResource.Name, c => c.Entries.Values
            .Where(e => !e.IsDefault)
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => $"{e.Name}={e.Value}"), StringComparer.Ordinal);
        var filtered = underReplicatedOnly || unavailableOnly;
        foreach (var topic in described.TopicDescriptions.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!filtered)
            {
                var header = new StringBuilder($"Topic: {topic.Name}");
                if (topic.TopicId is { } id && id.ToString() != "AAAAAAAAAAAAAAAAAAAAAA")
                {
                    header.Append(CultureInfo.InvariantCulture, $"\tTopicId: {id}");
                }

                header.Append(CultureInfo.InvariantCulture, $"\tPartitionCount: {topic.Partitions.Count}");
                header.Append(CultureInfo.InvariantCulture, $"\tReplicationFactor: {topic.Partitions.FirstOrDefault()?.Replicas.Count ?? 0}");
                header.Append(CultureInfo.InvariantCulture, $"\tConfigs: {string.Join(',', configsByTopic.GetValueOrDefault(topic.Name) ?? [])}");
                await io.Out.WriteLineAsync(header.ToString());
            }

            foreach (var partition in topic.Partitions.OrderBy(p => p.Partition))
            {
                var leader = partition.Leader is { } l && l.Id >= 0 ? l.Id.ToString(CultureInfo.InvariantCulture) : "none";
                if ((underReplicatedOnly && partition.ISR.Count >= partition.Replicas.Count) || (unavailableOnly && leader != "none"))
                {
                    continue;
                }

                await io.Out.WriteLineAsync(
                    $"\tTopic: {topic.Name}\tPartition: {partition.Partition}\tLeader: {leader}" +
                    $"\tReplicas: {string.Join(',', partition.Replicas.Select(r => r.Id))}\tIsr: {string.Join(',', partition.ISR.Select(r => r.Id))}");
            }
        }
    }

    private static async Task<int> AlterAsync(IAdminClient admin, CliIo io, List<string> names, int? partitions, Dictionary<string, string> configs, string[] deleteConfigs)
    {
        if (partitions is null && configs.Count == 0 && deleteConfigs.Length == 0)
        {
            throw new CliException("--alter needs --partitions n, --config key=value or --delete-config key.", ExitCodes.Usage);
        }

        if (partitions is { } count)
        {
            await admin.CreatePartitionsAsync(
                names.Select(n => new PartitionsSpecification { Topic = n, IncreaseTo = count }),
                new CreatePartitionsOptions { RequestTimeout = Cluster.RequestTimeout, OperationTimeout = Cluster.RequestTimeout });
            await io.Out.WriteLineAsync("Adding partitions succeeded!");
        }

        if (configs.Count > 0 || deleteConfigs.Length > 0)
        {
            var entries = configs.Select(c => new ConfigEntry { Name = c.Key, Value = c.Value, IncrementalOperation = AlterConfigOpType.Set })
                .Concat(deleteConfigs.Select(c => new ConfigEntry { Name = c, Value = string.Empty, IncrementalOperation = AlterConfigOpType.Delete }))
                .ToList();
            await admin.IncrementalAlterConfigsAsync(
                names.ToDictionary(n => new ConfigResource { Type = ResourceType.Topic, Name = n }, _ => entries),
                new IncrementalAlterConfigsOptions { RequestTimeout = Cluster.RequestTimeout });
            foreach (var name in names)
            {
                await io.Out.WriteLineAsync($"Updated config for topic {name}.");
            }
        }

        return ExitCodes.Ok;
    }
}
