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
        var command = new Command("cluster", "The cluster id and its brokers: id, status, address, controller, partitions led and replicas held.") { bootstrap, commandConfig };
        command.SetAction(async (parse, _) =>
        {
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = cluster.Admin();
            var metadata = cluster.Metadata(admin);
            var described = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Cluster.RequestTimeout });
            var partitions = metadata.Topics.Where(t => !t.Error.IsError).SelectMany(t => t.Partitions).ToList();
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("ID", "STATUS", "HOST", "PORT", "CONTROLLER", "LEADER OF", "REPLICAS", "IN SYNC");
            void Row(int id, string status, string host, string port, bool controller) => table.AddRow(
                Text(id), status, Markup.Escape(host), port, controller ? "yes" : "",
                Text(partitions.Count(p => p.Leader == id)),
                Text(partitions.Count(p => p.Replicas.Contains(id))),
                Text(partitions.Count(p => p.InSyncReplicas.Contains(id))));
            foreach (var node in described.Nodes.OrderBy(n => n.Id))
            {
                Row(node.Id, "Active", node.Host, Text(node.Port), described.Controller?.Id == node.Id);
            }

            // A silo that holds replicas but is not among the brokers is not Active in the cluster's membership
            // (stopped, dead, or still joining): the Kafka protocol names only live brokers.
            var live = described.Nodes.Select(n => n.Id).ToHashSet();
            foreach (var id in partitions.SelectMany(p => p.Replicas).Distinct().Where(id => !live.Contains(id)).Order())
            {
                Row(id, "not Active", "-", "-", controller: false);
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
