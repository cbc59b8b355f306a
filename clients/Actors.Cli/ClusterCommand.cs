using System.CommandLine;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Spectre.Console;

namespace Actors.Cli;

/// <summary><c>actors cluster</c>: the brokers the cluster reports, which is the controller, and how many partitions each leads.</summary>
internal static class ClusterCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var command = new Command("cluster", "The cluster id and its brokers: id, address, controller, partitions led and replicas held.") { bootstrap, commandConfig };
        command.SetAction(async (parse, _) =>
        {
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = cluster.Admin();
            var metadata = cluster.Metadata(admin);
            var described = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Cluster.RequestTimeout });
            var partitions = metadata.Topics.Where(t => !t.Error.IsError).SelectMany(t => t.Partitions).ToList();
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("ID", "HOST", "PORT", "CONTROLLER", "LEADER OF", "REPLICAS", "IN SYNC");
            foreach (var node in described.Nodes.OrderBy(n => n.Id))
            {
                table.AddRow(
                    Text(node.Id), Markup.Escape(node.Host), Text(node.Port), described.Controller?.Id == node.Id ? "yes" : "",
                    Text(partitions.Count(p => p.Leader == node.Id)),
                    Text(partitions.Count(p => p.Replicas.Contains(node.Id))),
                    Text(partitions.Count(p => p.InSyncReplicas.Contains(node.Id))));
            }

            await io.Out.WriteLineAsync($"Cluster id: {described.ClusterId}");
            await io.Out.WriteLineAsync($"Brokers: {described.Nodes.Count}, topics: {metadata.Topics.Count(t => !t.Error.IsError)}, partitions: {partitions.Count}, without a leader: {partitions.Count(p => p.Leader < 0)}, under-replicated: {partitions.Count(p => p.InSyncReplicas.Length < p.Replicas.Length)}");
            Render(io.Out, table);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Writes a Spectre table to <paramref name="writer"/>: colours only on a terminal, plain text otherwise.</summary>
    public static void Render(TextWriter writer, Spectre.Console.Rendering.IRenderable renderable)
    {
        var terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 200;
        }

        console.Write(renderable);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
