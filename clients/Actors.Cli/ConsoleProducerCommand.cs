using System.CommandLine;
using Confluent.Kafka;

namespace Actors.Cli;

/// <summary><c>actors console-producer</c>: kafka-console-producer.sh (one record per line of standard input).</summary>
internal static class ConsoleProducerCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var topic = new Option<string>("--topic") { Description = "The topic to produce to.", Required = true, HelpName = "topic" };
        var property = Commands.Repeated("--property", "Reader settings: parse.key=true, key.separator=<sep> (default a tab), null.marker=<text>, ignore.error=true (repeatable).", "key=value");
        var producerProperty = Commands.Repeated("--producer-property", "A producer setting, e.g. acks=all or linger.ms=5 (repeatable).", "key=value");
        var producerConfig = new Option<string?>("--producer.config") { Description = "A properties file of producer settings (--producer-property wins).", HelpName = "file" };
        var acks = new Option<string?>("--request-required-acks") { Description = "acks for each record: all/-1, 1 or 0 (default all).", HelpName = "acks" };
        var sync = Commands.Flag("--sync", "Send each line and wait for its acknowledgement before reading the next.");
        var command = new Command("console-producer", "Produce one record per line of standard input (kafka-console-producer.sh).")
        {
            bootstrap, topic, property, producerProperty, producerConfig, acks, sync,
        };
        command.SetAction(async (parse, _) =>
        {
            var name = parse.GetValue(topic)!;
            var reader = Properties.Parse(parse.GetValue(property), "--property");
            var parseKey = bool.TryParse(reader.GetValueOrDefault("parse.key"), out var pk) && pk;
            var separator = reader.GetValueOrDefault("key.separator") ?? "\t";
            var nullMarker = reader.GetValueOrDefault("null.marker");
            var ignoreError = bool.TryParse(reader.GetValueOrDefault("ignore.error"), out var ie) && ie;
            if (separator.Length == 0)
            {
                throw new CliException("key.separator is empty. Pass one, e.g. --property key.separator=:", ExitCodes.Usage);
            }

            var settings = Properties.Merge(
                new Dictionary<string, string>(StringComparer.Ordinal) { ["acks"] = "all", ["linger.ms"] = "5" },
                Properties.File(parse.GetValue(producerConfig), "--producer.config"),
                parse.GetValue(acks) is { } a ? new Dictionary<string, string>(StringComparer.Ordinal) { ["acks"] = a } : [],
                Properties.Parse(parse.GetValue(producerProperty), "--producer-property"));
            var cluster = new Cluster(parse.GetValue(bootstrap)!, settings, io);
            using (var admin = cluster.Admin())
            {
                Cluster.Topic(cluster.Metadata(admin), name);
            }

            var config = cluster.Configure(new ProducerConfig { MessageTimeoutMs = 30_000 });
            using var producer = new ProducerBuilder<string?, string?>(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
            var failures = 0;
            string? firstFailure = null;
            void Delivered(DeliveryReport<string?, string?> report)
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, report.Error.Code == ErrorCode.UnknownTopicOrPart
                        ? Errors.UnknownTopic(name)
                        : $"A record was not acknowledged: {report.Error.Reason} ({report.Error.Code}).", null);
                }
            }

            var lineNumber = 0;
            while (await io.In.ReadLineAsync(io.Cancellation) is { } line)
            {
                lineNumber++;
                string? key = null;
                var value = line;
                if (parseKey)
                {
                    var at = line.IndexOf(separator, StringComparison.Ordinal);
                    if (at < 0)
                    {
                        if (ignoreError)
                        {
                            value = line;
                        }
                        else
                        {
                            producer.Flush(TimeSpan.FromSeconds(30));
                            throw new CliException($"No key separator '{separator}' found on line number {lineNumber}: '{line}'. Write key{separator}value lines, or pass --property ignore.error=true.");
                        }
                    }
                    else
                    {
                        key = line[..at];
                        value = line[(at + separator.Length)..];
                    }
                }

                var message = new Message<string?, string?>
                {
                    Key = key is not null && key == nullMarker ? null : key,
                    Value = value == nullMarker ? null : value,
                };
                if (parse.GetValue(sync))
                {
                    try
                    {
                        await producer.ProduceAsync(name, message, io.Cancellation);
                    }
                    catch (ProduceException<string?, string?> e)
                    {
                        Delivered(e.DeliveryResult is null ? new DeliveryReport<string?, string?> { Error = e.Error } : new DeliveryReport<string?, string?> { Error = e.Error, TopicPartitionOffset = e.DeliveryResult.TopicPartitionOffset });
                        break;
                    }
                }
                else
                {
                    ProduceWithBackpressure(producer, name, message, Delivered);
                }

                if (failures > 0)
                {
                    break;
                }
            }

            var left = producer.Flush(TimeSpan.FromSeconds(60));
            if (firstFailure is not null)
            {
                throw new CliException(firstFailure);
            }

            if (left > 0)
            {
                throw new CliException($"{left} records were not acknowledged within 60 s. Check the cluster with: actors topics --describe --topic {name}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void ProduceWithBackpressure(IProducer<string?, string?> producer, string topic, Message<string?, string?> message, Action<DeliveryReport<string?, string?>> delivered)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, delivered);
                return;
            }
            catch (ProduceException<string?, string?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }
}
