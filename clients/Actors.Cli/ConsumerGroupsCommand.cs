using System.CommandLine;
using System.Globalization;
using System.Xml;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Actors.Cli;

/// <summary><c>actors consumer-groups</c>: kafka-consumer-groups.sh.</summary>
internal static class ConsumerGroupsCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var list = Commands.Flag("--list", "List the consumer groups.");
        var describe = Commands.Flag("--describe", "Describe groups: offsets and lag per partition (default), --members or --state.");
        var reset = Commands.Flag("--reset-offsets", "Move a group's committed offsets (the group must have no active members).");
        var delete = Commands.Flag("--delete", "Delete groups (they must have no active members).");
        var group = Commands.Repeated("--group", "The group (repeatable).", "group");
        group.Aliases.Add("-group");
        var allGroups = Commands.Flag("--all-groups", "Every group (--describe, --delete, --reset-offsets).");
        var members = Commands.Flag("--members", "--describe: the members and how many partitions each has.");
        var verbose = Commands.Flag("--verbose", "--describe --members: also each member's assignment.");
        var state = Commands.Flag("--state", "--describe: the coordinator, assignment strategy, state and member count; --list: also each group's state.");
        var offsets = Commands.Flag("--offsets", "--describe: offsets and lag per partition (the default).");
        var topic = Commands.Repeated("--topic", "--reset-offsets: a topic, or topic:p,p,... for some partitions (repeatable).", "topic[:p,...]");
        var allTopics = Commands.Flag("--all-topics", "--reset-offsets: every topic the group has offsets for.");
        var toEarliest = Commands.Flag("--to-earliest", "Reset to the earliest offset.");
        var toLatest = Commands.Flag("--to-latest", "Reset to the log end offset.");
        var toCurrent = Commands.Flag("--to-current", "Reset to the current committed offset.");
        var toOffset = new Option<long?>("--to-offset") { Description = "Reset to this offset (clamped to the partition's earliest and latest).", HelpName = "n" };
        var shiftBy = new Option<long?>("--shift-by") { Description = "Move the committed offset by n (negative: back).", HelpName = "n" };
        var toDatetime = new Option<string?>("--to-datetime") { Description = "Reset to the first record at or after this time, e.g. 2024-01-31T12:00:00.000 (UTC unless an offset like +01:00 is given).", HelpName = "YYYY-MM-DDTHH:mm:SS.sss" };
        var byDuration = new Option<string?>("--by-duration") { Description = "Reset to the first record at or after now minus this ISO-8601 duration, e.g. PT10M or P1DT2H.", HelpName = "PnDTnHnMnS" };
        var dryRun = Commands.Flag("--dry-run", "Show the new offsets without changing them (the default).");
        var execute = Commands.Flag("--execute", "Change the offsets.");
        var command = new Command("consumer-groups", "List, describe, reset and delete consumer groups (kafka-consumer-groups.sh).")
        {
            bootstrap, commandConfig, list, describe, reset, delete, group, allGroups, members, verbose, state, offsets,
            topic, allTopics, toEarliest, toLatest, toCurrent, toOffset, shiftBy, toDatetime, byDuration, dryRun, execute,
        };
        command.SetAction(async (parse, _) =>
        {
            var action = Commands.OneOf(parse, "consumer-groups", list, describe, reset, delete);
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = cluster.Admin();
            var metadata = cluster.Metadata(admin);
            if (action == list)
            {
                return await ListAsync(admin, io, parse.GetValue(state));
            }

            var groups = parse.GetValue(allGroups)
                ? (await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = Cluster.RequestTimeout })).Valid.Select(g => g.GroupId).Order(StringComparer.Ordinal).ToList()
                : (parse.GetValue(group) ?? []).ToList();
            if (groups.Count == 0 && !parse.GetValue(allGroups))
            {
                throw new CliException($"Pass --group g (or --all-groups) with {action.Name}.", ExitCodes.Usage);
            }

            if (action == describe)
            {
                foreach (var g in groups)
                {
                    if (parse.GetValue(members))
                    {
                        await DescribeMembersAsync(admin, io, g, parse.GetValue(verbose));
                    }
                    else if (parse.GetValue(state))
                    {
                        await DescribeStateAsync(admin, io, g);
                    }
                    else
                    {
                        await DescribeOffsetsAsync(admin, io, g);
                    }
                }

                return ExitCodes.Ok;
            }

            if (action == delete)
            {
                return await DeleteAsync(admin, io, groups);
            }

            var specs = new (string Name, bool Set, ResetKind Kind)[]
            {
                ("--to-earliest", parse.GetValue(toEarliest), ResetKind.Earliest),
                ("--to-latest", parse.GetValue(toLatest), ResetKind.Latest),
                ("--to-current", parse.GetValue(toCurrent), ResetKind.Current),
                ("--to-offset", parse.GetValue(toOffset) is not null, ResetKind.Offset),
                ("--shift-by", parse.GetValue(shiftBy) is not null, ResetKind.Shift),
                ("--to-datetime", parse.GetValue(toDatetime) is not null, ResetKind.Timestamp),
                ("--by-duration", parse.GetValue(byDuration) is not null, ResetKind.Timestamp),
            };
            var chosenSpecs = specs.Where(x => x.Set).ToArray();
            if (chosenSpecs.Length != 1)
            {
                throw new CliException($"Pass exactly one of {string.Join(", ", specs.Select(x => x.Name))} with --reset-offsets.", ExitCodes.Usage);
            }

            var plan = new ResetPlan(chosenSpecs[0].Kind, parse.GetValue(toOffset) ?? parse.GetValue(shiftBy) ?? 0,
                Timestamp(parse.GetValue(toDatetime), parse.GetValue(byDuration)));
            if (parse.GetValue(dryRun) && parse.GetValue(execute))
            {
                throw new CliException("Pass only one of --dry-run and --execute.", ExitCodes.Usage);
            }

            if (!parse.GetValue(dryRun) && !parse.GetValue(execute))
            {
                await io.Error.WriteLineAsync("WARN: No action will be performed as the --execute option is missing. Add --execute to change the offsets; this is a dry run.");
            }

            var topics = parse.GetValue(topic) ?? [];
            if (topics.Length == 0 && !parse.GetValue(allTopics))
            {
                throw new CliException("Pass --topic t (or t:p,p,...) or --all-topics with --reset-offsets.", ExitCodes.Usage);
            }

            foreach (var g in groups)
            {
                await ResetAsync(admin, io, metadata, g, topics, plan, parse.GetValue(execute));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> ListAsync(IAdminClient admin, CliIo io, bool withState)
    {
        var groups = (await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = Cluster.RequestTimeout })).Valid
            .OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
        if (!withState)
        {
            foreach (var g in groups)
            {
                await io.Out.WriteLineAsync(g.GroupId);
            }

            return ExitCodes.Ok;
        }

        await io.Out.WriteAsync(new KafkaColumns("GROUP", "STATE").Rows(groups.Select(g => new[] { g.GroupId, StateName(g.State) })).Render());
        return ExitCodes.Ok;
    }

    private static async Task<ConsumerGroupDescription> DescribeGroupAsync(IAdminClient admin, string group)
    {
        var described = await admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = Cluster.RequestTimeout });
        var description = described.ConsumerGroupDescriptions.Single();
        if (description.Error.IsError)
        {
            throw new CliException($"Consumer group '{group}': {description.Error.Reason} ({description.Error.Code}).");
        }

        if (description.State == ConsumerGroupState.Dead)
        {
            throw new CliException($"Consumer group '{group}' does not exist. List the groups with: actors consumer-groups --list");
        }

        return description;
    }

    /// <summary>Kafka's shouldPrintMemberState: Empty and rebalancing groups say so on standard error.</summary>
    private static async Task NoteStateAsync(CliIo io, ConsumerGroupDescription description)
    {
        switch (description.State)
        {
            case ConsumerGroupState.Empty:
                await io.Error.WriteLineAsync($"{Environment.NewLine}Consumer group '{description.GroupId}' has no active members.");
                break;
            case ConsumerGroupState.PreparingRebalance or ConsumerGroupState.CompletingRebalance:
                await io.Error.WriteLineAsync($"{Environment.NewLine}Warning: Consumer group '{description.GroupId}' is rebalancing.");
                break;
        }
    }

    private static async Task DescribeOffsetsAsync(IAdminClient admin, CliIo io, string group)
    {
        var description = await DescribeGroupAsync(admin, group);
        var committed = await CommittedAsync(admin, group);
        var owners = new Dictionary<TopicPartition, MemberDescription>();
        foreach (var member in description.Members)
        {
            foreach (var tp in member.Assignment?.TopicPartitions ?? [])
            {
                owners[tp] = member;
            }
        }

        var partitions = committed.Keys.Concat(owners.Keys).Distinct().ToList();
        var ends = await OffsetsAsync(admin, partitions, OffsetSpec.Latest());
        await NoteStateAsync(io, description);
        var rows = partitions
            .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value)
            .Select(tp =>
            {
                var current = committed.TryGetValue(tp, out var c) ? c : (long?)null;
                var end = ends.TryGetValue(tp, out var e) ? e : (long?)null;
                var owner = owners.GetValueOrDefault(tp);
                return new[]
                {
                    group, tp.Topic, Text(tp.Partition.Value), current is { } cur ? Text(cur) : "-", end is { } le ? Text(le) : "-",
                    current is { } a && end is { } b ? Text(Math.Max(0, b - a)) : "-",
                    owner?.ConsumerId ?? "-", owner?.Host ?? "-", owner?.ClientId ?? "-",
                };
            })
            .ToList();
        foreach (var member in description.Members.Where(m => (m.Assignment?.TopicPartitions.Count ?? 0) == 0).OrderBy(m => m.ConsumerId, StringComparer.Ordinal))
        {
            rows.Add([group, "-", "-", "-", "-", "-", member.ConsumerId, member.Host, member.ClientId]);
        }

        if (rows.Count > 0)
        {
            await io.Out.WriteAsync(Environment.NewLine + new KafkaColumns("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
                .Rows(rows).Render());
        }
    }

    private static async Task DescribeMembersAsync(IAdminClient admin, CliIo io, string group, bool verbose)
    {
        var description = await DescribeGroupAsync(admin, group);
        await NoteStateAsync(io, description);
        if (description.Members.Count == 0)
        {
            return;
        }

        var headers = new List<string> { "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS" };
        if (verbose)
        {
            headers.Add("ASSIGNMENT");
        }

        var rows = description.Members.OrderBy(m => m.ConsumerId, StringComparer.Ordinal).Select(m =>
        {
            var assigned = m.Assignment?.TopicPartitions ?? [];
            var row = new List<string> { group, m.ConsumerId, m.Host, m.ClientId, Text(assigned.Count) };
            if (verbose)
            {
                row.Add(assigned.Count == 0 ? "-" : string.Join(',', assigned.GroupBy(tp => tp.Topic).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key}({string.Join(',', g.Select(tp => tp.Partition.Value).Order())})")));
            }

            return row.ToArray();
        });
        await io.Out.WriteAsync(Environment.NewLine + new KafkaColumns([.. headers]).Rows(rows).Render());
    }

    private static async Task DescribeStateAsync(IAdminClient admin, CliIo io, string group)
    {
        var description = await DescribeGroupAsync(admin, group);
        var coordinator = description.Coordinator is { } c ? $"{c.Host}:{c.Port} ({c.Id})" : "-";
        await io.Out.WriteAsync(Environment.NewLine + new KafkaColumns("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
            .Rows([[group, coordinator, string.IsNullOrEmpty(description.PartitionAssignor) ? "-" : description.PartitionAssignor, StateName(description.State), Text(description.Members.Count)]])
            .Render());
    }

    private static async Task<int> DeleteAsync(IAdminClient admin, CliIo io, List<string> groups)
    {
        try
        {
            await admin.DeleteGroupsAsync(groups, new DeleteGroupsOptions { RequestTimeout = Cluster.RequestTimeout });
        }
        catch (DeleteGroupsException e)
        {
            var failed = e.Results.First(r => r.Error.IsError);
            throw new CliException(failed.Error.Code switch
            {
                ErrorCode.NonEmptyGroup => $"Consumer group '{failed.Group}' has active members: stop its consumers, then delete it again.",
                ErrorCode.GroupIdNotFound => $"Consumer group '{failed.Group}' does not exist. List the groups with: actors consumer-groups --list",
                _ => $"Consumer group '{failed.Group}': {failed.Error.Reason} ({failed.Error.Code}).",
            });
        }

        await io.Out.WriteLineAsync($"Deletion of requested consumer groups ({string.Join(", ", groups.Select(g => $"'{g}'"))}) was successful.");
        return ExitCodes.Ok;
    }

    private enum ResetKind
    {
        Earliest,
        Latest,
        Current,
        Offset,
        Shift,
        Timestamp,
    }

    private sealed record ResetPlan(ResetKind Kind, long Number, long TimestampMs);

    private static long Timestamp(string? datetime, string? duration)
    {
        if (datetime is not null)
        {
            var styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
            return DateTimeOffset.TryParse(datetime, CultureInfo.InvariantCulture, styles, out var at)
                ? at.ToUnixTimeMilliseconds()
                : throw new CliException($"--to-datetime '{datetime}' is not a date and time. Write it as 2024-01-31T12:00:00.000 (UTC) or with an offset, e.g. 2024-01-31T12:00:00.000+01:00.", ExitCodes.Usage);
        }

        if (duration is not null)
        {
            TimeSpan span;
            try
            {
                span = XmlConvert.ToTimeSpan(duration);
            }
            catch (FormatException)
            {
                throw new CliException($"--by-duration '{duration}' is not an ISO-8601 duration. Write it as PnDTnHnMnS, e.g. PT10M or P1DT2H.", ExitCodes.Usage);
            }

            return DateTimeOffset.UtcNow.Subtract(span).ToUnixTimeMilliseconds();
        }

        return 0;
    }

    private static async Task ResetAsync(IAdminClient admin, CliIo io, Metadata metadata, string group, string[] topics, ResetPlan plan, bool execute)
    {
        var described = await admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = Cluster.RequestTimeout });
        var description = described.ConsumerGroupDescriptions.Single();
        if (description.State is not (ConsumerGroupState.Empty or ConsumerGroupState.Dead or ConsumerGroupState.Unknown))
        {
            throw new CliException($"Consumer group '{group}' has active members (state {StateName(description.State)}): offsets can only be reset while it is inactive. Stop its consumers, then run the reset again.");
        }

        var committed = await CommittedAsync(admin, group);
        var partitions = new List<TopicPartition>();
        if (topics.Length == 0)
        {
            partitions.AddRange(committed.Keys);
        }

        foreach (var scope in topics)
        {
            var colon = scope.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? scope : scope[..colon];
            var topic = Cluster.Topic(metadata, name);
            if (colon < 0)
            {
                partitions.AddRange(topic.Partitions.Select(p => new TopicPartition(name, p.PartitionId)));
                continue;
            }

            foreach (var part in scope[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                {
                    throw new CliException($"--topic '{scope}': '{part}' is not a partition number. Write it as topic:0,1,2.", ExitCodes.Usage);
                }

                if (topic.Partitions.All(x => x.PartitionId != p))
                {
                    throw new CliException($"Topic '{name}' has no partition {p} (it has {topic.Partitions.Count}: 0 to {topic.Partitions.Count - 1}).");
                }

                partitions.Add(new TopicPartition(name, p));
            }
        }

        partitions = partitions.Distinct().OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();
        if (partitions.Count == 0)
        {
            throw new CliException($"Consumer group '{group}' has no committed offsets to reset. Name the partitions with --topic t or t:p,p.");
        }

        var earliest = await OffsetsAsync(admin, partitions, OffsetSpec.Earliest());
        var latest = await OffsetsAsync(admin, partitions, OffsetSpec.Latest());
        var byTime = plan.Kind == ResetKind.Timestamp ? await OffsetsAsync(admin, partitions, OffsetSpec.ForTimestamp(plan.TimestampMs)) : [];
        var chosen = partitions.Select(tp =>
        {
            var low = earliest[tp];
            var high = latest[tp];
            var current = committed.TryGetValue(tp, out var c) ? c : low;
            var target = plan.Kind switch
            {
                ResetKind.Earliest => low,
                ResetKind.Latest => high,
                ResetKind.Current => current,
                ResetKind.Offset => plan.Number,
                ResetKind.Shift => current + plan.Number,
                _ => byTime.TryGetValue(tp, out var t) && t >= 0 ? t : high,
            };
            return new TopicPartitionOffset(tp, Math.Clamp(target, low, high));
        }).ToList();
        if (execute)
        {
            await admin.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(group, chosen)], new AlterConsumerGroupOffsetsOptions { RequestTimeout = Cluster.RequestTimeout });
        }

        var text = new System.Text.StringBuilder();
        text.Append(Environment.NewLine).Append(string.Create(CultureInfo.InvariantCulture, $"{"GROUP",-30} {"TOPIC",-30} {"PARTITION",-10} {"NEW-OFFSET",-15}").TrimEnd()).Append(Environment.NewLine);
        foreach (var tpo in chosen)
        {
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{group,-30} {tpo.Topic,-30} {tpo.Partition.Value,-10} {tpo.Offset.Value,-15}").TrimEnd()).Append(Environment.NewLine);
        }

        await io.Out.WriteAsync(text.ToString());
    }

    private static async Task<Dictionary<TopicPartition, long>> CommittedAsync(IAdminClient admin, string group)
    {
        var results = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)], new ListConsumerGroupOffsetsOptions { RequestTimeout = Cluster.RequestTimeout });
        return results.SelectMany(r => r.Partitions)
            .Where(p => !p.Error.IsError && p.Offset.Value >= 0)
            .ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
    }

    private static async Task<Dictionary<TopicPartition, long>> OffsetsAsync(IAdminClient admin, List<TopicPartition> partitions, OffsetSpec spec)
    {
        if (partitions.Count == 0)
        {
            return [];
        }

        var result = await admin.ListOffsetsAsync(partitions.Select(tp => new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = spec }),
            new ListOffsetsOptions { RequestTimeout = Cluster.RequestTimeout });
        return result.ResultInfos
            .Where(r => !r.TopicPartitionOffsetError.Error.IsError)
            .ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
    }

    private static string StateName(ConsumerGroupState state) => state switch
    {
        ConsumerGroupState.PreparingRebalance => "PreparingRebalance",
        ConsumerGroupState.CompletingRebalance => "CompletingRebalance",
        _ => state.ToString(),
    };

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>kafka-consumer-groups' aligned columns: each left-aligned, as wide as its widest cell, one space apart.</summary>
internal sealed class KafkaColumns(params string[] headers)
{
    private readonly List<string[]> rows = [];

    public KafkaColumns Rows(IEnumerable<string[]> more)
    {
        rows.AddRange(more);
        return this;
    }

    public string Render()
    {
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new System.Text.StringBuilder();
        foreach (var row in rows.Prepend(headers))
        {
            text.Append(string.Join(' ', row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])))).Append(Environment.NewLine);
        }

        return text.ToString();
    }
}
