using System.CommandLine;

namespace Actors.Cli;

/// <summary>The command tree, with Kafka's flag names.</summary>
internal static class Commands
{
    public const string DefaultBootstrapServer = "127.0.0.1:9092";

    public static RootCommand Build(CliIo io)
    {
        var root = new RootCommand("actors: Kafka's command-line tools (kafka-topics, kafka-console-producer, kafka-console-consumer, kafka-consumer-groups, the perf tests) for Actors or any Kafka-compatible cluster.")
        {
            TopicsCommand.Build(io),
            ConsoleProducerCommand.Build(io),
            ConsoleConsumerCommand.Build(io),
            ConsumerGroupsCommand.Build(io),
            ApiVersionsCommand.Build(io),
            ClusterCommand.Build(io),
            UserScramCommand.Build(io),
            AclsCommand.Build(io),
            PerfTestCommands.ProducerPerfTest(io),
            PerfTestCommands.ConsumerPerfTest(io),
        };
        return root;
    }

    public static Option<string> BootstrapServer() => new("--bootstrap-server")
    {
        Description = $"host:port of a broker of the cluster (several separated by commas). Default {DefaultBootstrapServer}.",
        DefaultValueFactory = _ => DefaultBootstrapServer,
        HelpName = "host:port",
    };

    public static Option<string?> CommandConfig() => new("--command-config")
    {
        Description = "A properties file of client settings (key=value lines), passed to the Kafka client.",
        HelpName = "file",
    };

    public static Option<string[]> Repeated(string name, string description, string helpName) => new(name)
    {
        Description = description,
        HelpName = helpName,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.OneOrMore,
    };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Exactly one of <paramref name="actions"/> must be set; returns it.</summary>
    public static Option<bool> OneOf(ParseResult parse, string command, params Option<bool>[] actions)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var chosen = actions.Where(a => parse.GetValue(a)).ToArray();
        if (chosen.Length != 1)
        {
            var names = string.Join(", ", actions.Select(a => a.Name));
            throw new CliException(chosen.Length == 0
                ? $"Pass one of {names}. See the flags with: actors {command} --help"
                : $"Pass only one of {names}, not {string.Join(" and ", chosen.Select(a => a.Name))}.", ExitCodes.Usage);
        }

        return chosen[0];
    }

    public static string Required(string? value, string flag, string why) =>
        string.IsNullOrWhiteSpace(value) ? throw new CliException($"{flag} is required {why}.", ExitCodes.Usage) : value;
}
