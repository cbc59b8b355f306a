using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace Actors.Cli;

/// <summary><c>actors console-consumer</c>: kafka-console-consumer.sh (one line per record on standard output).</summary>
internal static class ConsoleConsumerCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var topic = new Option<string>("--topic") { Description = "The topic to consume.", Required = true, HelpName = "topic" };
        var fromBeginning = Commands.Flag("--from-beginning", "Start at the earliest record when there is no committed offset (default: only new records).");
        var group = new Option<string?>("--group", "-group") { Description = "Consume in this consumer group: its committed offsets are used and updated.", HelpName = "group" };
        var maxMessages = new Option<int?>("--max-messages") { Description = "Exit after this many records.", HelpName = "n" };
        var timeoutMs = new Option<int?>("--timeout-ms") { Description = "Exit when no record arrives for this many milliseconds.", HelpName = "ms" };
        var partition = new Option<int?>("--partition") { Description = "Read only this partition (no group assignment).", HelpName = "p" };
        var offset = new Option<string?>("--offset") { Description = "With --partition: an offset, earliest or latest (default latest, earliest with --from-beginning).", HelpName = "o|earliest|latest" };
        var property = Commands.Repeated("--property", "Formatter settings: print.key, print.value, print.timestamp, print.partition, print.offset, print.headers (true/false), key.separator, line.separator, headers.separator, null.literal (repeatable).", "key=value");
        var consumerProperty = Commands.Repeated("--consumer-property", "A consumer setting, e.g. isolation.level=read_committed (repeatable).", "key=value");
        var consumerConfig = new Option<string?>("--consumer.config") { Description = "A properties file of consumer settings (--consumer-property wins).", HelpName = "file" };
        var command = new Command("console-consumer", "Print the records of a topic, one per line (kafka-console-consumer.sh).")
        {
            bootstrap, topic, fromBeginning, group, maxMessages, timeoutMs, partition, offset, property, consumerProperty, consumerConfig,
        };
        command.SetAction(async (parse, _) =>
        {
            var name = parse.GetValue(topic)!;
            var groupId = parse.GetValue(group);
            var onePartition = parse.GetValue(partition);
            var offsetText = parse.GetValue(offset);
            if (offsetText is not null && onePartition is null)
            {
                throw new CliException("--offset needs --partition: pass the partition to read, e.g. --partition 0 --offset 5.", ExitCodes.Usage);
            }

            var start = ParseOffset(offsetText, parse.GetValue(fromBeginning));
            var format = new Formatter(Properties.Parse(parse.GetValue(property), "--property"));
            var settings = Properties.Merge(
                Properties.File(parse.GetValue(consumerConfig), "--consumer.config"),
                Properties.Parse(parse.GetValue(consumerProperty), "--consumer-property"));
            var cluster = new Cluster(parse.GetValue(bootstrap)!, settings, io);
            TopicMetadata topicMetadata;
            using (var admin = cluster.Admin())
            {
                topicMetadata = Cluster.Topic(cluster.Metadata(admin), name);
            }

            if (onePartition is { } p && topicMetadata.Partitions.All(x => x.PartitionId != p))
            {
                throw new CliException($"Topic '{name}' has no partition {p} (it has {topicMetadata.Partitions.Count}: 0 to {topicMetadata.Partitions.Count - 1}).");
            }

            var config = cluster.Configure(new ConsumerConfig
            {
                // Confluent's consumer needs a group id even for assigned partitions; without --group it only
                // names this process (no subscription, no commits, so the broker keeps no such group).
                GroupId = groupId ?? $"actors-console-consumer-{Environment.ProcessId}",
                AutoOffsetReset = parse.GetValue(fromBeginning) ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
                EnableAutoCommit = groupId is not null,
                EnablePartitionEof = false,
            });
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
            if (onePartition is { } only)
            {
                consumer.Assign(new TopicPartitionOffset(name, only, start));
            }
            else if (groupId is not null)
            {
                consumer.Subscribe(name);
            }
            else
            {
                consumer.Assign(topicMetadata.Partitions.Select(x => new TopicPartitionOffset(name, x.PartitionId, parse.GetValue(fromBeginning) ? Offset.Beginning : Offset.End)));
            }

            var max = parse.GetValue(maxMessages);
            var idle = parse.GetValue(timeoutMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            var count = 0;
            var sinceLast = Stopwatch.StartNew();
            try
            {
                while (!io.Cancellation.IsCancellationRequested && (max is null || count < max))
                {
                    if (idle is { } limit && sinceLast.Elapsed >= limit)
                    {
                        break;
                    }

                    ConsumeResult<byte[]?, byte[]?>? result;
                    try
                    {
                        result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    }
                    catch (ConsumeException e) when (!e.Error.IsFatal && e.Error.Code != ErrorCode.UnknownTopicOrPart && e.Error.Code != ErrorCode.GroupAuthorizationFailed)
                    {
                        continue;
                    }
                    catch (ConsumeException e)
                    {
                        throw new CliException(e.Error.Code == ErrorCode.UnknownTopicOrPart ? Errors.UnknownTopic(name) : $"{e.Error.Reason} ({e.Error.Code}).");
                    }

                    if (result?.Message is null)
                    {
                        continue;
                    }

                    await io.Out.WriteAsync(format.Format(result));
                    count++;
                    sinceLast.Restart();
                }

                await io.Out.FlushAsync(CancellationToken.None);
                if (groupId is not null && count > 0)
                {
                    try
                    {
                        consumer.Commit();
                    }
                    catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_NoOffset)
                    {
                        // Nothing new to commit.
                    }
                }
            }
            finally
            {
                consumer.Close();
            }

            await io.Error.WriteLineAsync($"Processed a total of {count} messages");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Offset ParseOffset(string? text, bool fromBeginning) => text?.ToLowerInvariant() switch
    {
        null => fromBeginning ? Offset.Beginning : Offset.End,
        "earliest" => Offset.Beginning,
        "latest" => Offset.End,
        _ when long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var o) => new Offset(o),
        _ => throw new CliException($"--offset '{text}' is not an offset: pass a number, earliest or latest.", ExitCodes.Usage),
    };

    /// <summary>Kafka's DefaultMessageFormatter: the chosen fields separated by key.separator, then line.separator.</summary>
    private sealed class Formatter(Dictionary<string, string> properties)
    {
        private readonly bool printTimestamp = Flag(properties, "print.timestamp", false);
        private readonly bool printPartition = Flag(properties, "print.partition", false);
        private readonly bool printOffset = Flag(properties, "print.offset", false);
        private readonly bool printHeaders = Flag(properties, "print.headers", false);
        private readonly bool printKey = Flag(properties, "print.key", false);
        private readonly bool printValue = Flag(properties, "print.value", true);
        private readonly string keySeparator = Unescape(properties.GetValueOrDefault("key.separator") ?? "\t");
        private readonly string lineSeparator = Unescape(properties.GetValueOrDefault("line.separator") ?? "\n");
        private readonly string headersSeparator = Unescape(properties.GetValueOrDefault("headers.separator") ?? ",");
        private readonly string nullLiteral = properties.GetValueOrDefault("null.literal") ?? "null";

        public string Format(ConsumeResult<byte[]?, byte[]?> result)
        {
            var fields = new List<string>();
            if (printTimestamp)
            {
                var ts = result.Message.Timestamp;
                fields.Add(ts.Type switch
                {
                    TimestampType.CreateTime => $"CreateTime:{ts.UnixTimestampMs}",
                    TimestampType.LogAppendTime => $"LogAppendTime:{ts.UnixTimestampMs}",
                    _ => "NO_TIMESTAMP",
                });
            }

            if (printPartition)
            {
                fields.Add($"Partition:{result.Partition.Value}");
            }

            if (printOffset)
            {
                fields.Add($"Offset:{result.Offset.Value}");
            }

            if (printHeaders)
            {
                var headers = result.Message.Headers;
                fields.Add(headers is null || headers.Count == 0
                    ? "NO_HEADERS"
                    : string.Join(headersSeparator, headers.Select(h => $"{h.Key}:{Text(h.GetValueBytes())}")));
            }

            if (printKey)
            {
                fields.Add(Text(result.Message.Key));
            }

            if (printValue)
            {
                fields.Add(Text(result.Message.Value));
            }

            return string.Join(keySeparator, fields) + lineSeparator;
        }

        private string Text(byte[]? bytes) => bytes is null ? nullLiteral : Encoding.UTF8.GetString(bytes);

        private static bool Flag(Dictionary<string, string> properties, string key, bool fallback) =>
            properties.TryGetValue(key, out var v) ? bool.TryParse(v, out var b) ? b : throw new CliException($"--property {key}={v}: pass true or false.", ExitCodes.Usage) : fallback;

        private static string Unescape(string text) => text.Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal);
    }
}
