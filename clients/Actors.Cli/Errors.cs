using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Actors.Cli;

/// <summary>Turns client errors into one line that says what happened and what to do.</summary>
internal static class Errors
{
    public static string Describe(Exception e) => e switch
    {
        CreateTopicsException c when c.Results.FirstOrDefault(r => r.Error.IsError) is { } r => Topic(r.Topic, r.Error),
        DeleteTopicsException d when d.Results.FirstOrDefault(r => r.Error.IsError) is { } r => Topic(r.Topic, r.Error),
        CreatePartitionsException p when p.Results.FirstOrDefault(r => r.Error.IsError) is { } r => Topic(r.Topic, r.Error),
        DescribeTopicsException t when t.Results.TopicDescriptions.FirstOrDefault(r => r.Error.IsError) is { } r => Topic(r.Name, r.Error),
        KafkaException k => k.Error.Code switch
        {
            ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_TimedOut =>
                $"{k.Error.Reason}. Check that the cluster is running and that --bootstrap-server names one of its brokers.",
            _ => $"{k.Error.Reason} ({k.Error.Code}).",
        },
        TimeoutException t => t.Message,
        _ => e.Message,
    };

    public static string Topic(string topic, Error error) => error.Code switch
    {
        ErrorCode.UnknownTopicOrPart => UnknownTopic(topic),
        ErrorCode.TopicAlreadyExists => $"Topic '{topic}' already exists. Describe it with: actors topics --describe --topic {topic}",
        ErrorCode.InvalidReplicationFactor => $"Topic '{topic}': {error.Reason}. Pass a --replication-factor no larger than the number of brokers (actors cluster lists them).",
        ErrorCode.InvalidPartitions => $"Topic '{topic}': {error.Reason}. Pass a --partitions of 1 or more (and, for --alter, more than it has).",
        ErrorCode.InvalidConfig => $"Topic '{topic}': {error.Reason}. Fix the --config value.",
        _ => $"Topic '{topic}': {error.Reason} ({error.Code}).",
    };

    public static string UnknownTopic(string topic) =>
        $"Topic '{topic}' does not exist. Create it with: actors topics --create --topic {topic} (or list them with: actors topics --list)";
}
