using System.Diagnostics;
using Actors.Testing;

namespace Actors.Cli.Tests;

/// <summary>One real silo process for the CLI tests; every test uses its own topics and groups.</summary>
public sealed class SiloFixture : IAsyncLifetime
{
    private ProcessCluster? cluster;

    public string Bootstrap => $"127.0.0.1:{cluster!.Silos[0].KafkaPort}";

    /// <summary>The silo's HTTP port (/health, /metrics).</summary>
    public int HttpPort => cluster!.Silos[0].HttpPort;

    public async Task InitializeAsync()
    {
        // The authorizer is on and open where no ACL applies (allow.everyone.if.no.acl.found): the CLI connects as
        // User:ANONYMOUS, which may do everything until an ACL names a resource (AclsTests add and remove some).
        cluster = await ProcessCluster.StartAsync(1, _ => { }, environment: new Dictionary<string, string>
        {
            ["Actors__Kafka__AuthorizerClassName"] = "acl",
            ["Actors__Kafka__AllowEveryoneIfNoAclFound"] = "true",
        });
        // The Kafka port answers once the listener is up; wait for the CLI to see the broker.
        await Wait.UntilAsync(async () => (await Cli.RunAsync(["topics", "--list", "--bootstrap-server", Bootstrap])).Exit == 0,
            TimeSpan.FromSeconds(60), "the silo's Kafka port to answer the CLI", () => cluster.Tails());
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}

/// <summary>What one run of the CLI did.</summary>
public sealed record CliRun(int Exit, string Out, string Error, TimeSpan Took)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {Exit} after {Took.TotalSeconds:0.0} s{Environment.NewLine}stdout:{Environment.NewLine}{Out}stderr:{Environment.NewLine}{Error}";
}

/// <summary>Runs the CLI in-process through its entry point.</summary>
public static class Cli
{
    public static Task<CliRun> RunAsync(string[] args, string stdin = "", CancellationToken cancellation = default) => Task.Run(async () =>
    {
        var clock = Stopwatch.StartNew();
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Program.RunAsync(args, input, output, error, cancellation);
        return new CliRun(exit, output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), error.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), clock.Elapsed);
    });

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}

/// <summary>All CLI tests share one silo process and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SiloCollection : ICollectionFixture<SiloFixture>
{
    public const string Name = "silo";
}
