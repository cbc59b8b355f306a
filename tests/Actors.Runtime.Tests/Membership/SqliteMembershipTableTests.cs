using System.Diagnostics;
using Actors.Membership;
using Xunit.Abstractions;

namespace Actors.Runtime.Tests.Membership;

public sealed class SqliteMembershipTableTests : MembershipTableContractTests, IDisposable
{
    private readonly TempDirectory directory = new("sqlite-membership");
    private readonly ITestOutputHelper output;

    public SqliteMembershipTableTests(ITestOutputHelper output) => this.output = output;

    public void Dispose() => directory.Dispose();

    protected override IMembershipTable CreateTable() =>
        new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = directory.File("membership.db") });

    [Fact]
    public async Task Two_instances_on_one_file_see_each_others_writes_and_clusters_are_separate()
    {
        var path = directory.File("shared.db");
        var a = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = path });
        var b = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = path });
        var other = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = path, ClusterId = "other" });
        await a.InitializeMembershipTable(true);
        await b.InitializeMembershipTable(true);
        await other.InitializeMembershipTable(true);

        var entry = new MembershipEntry { SiloAddress = new SiloAddress("127.0.0.1", 1, 1), SiloName = "a", Status = SiloStatus.Active };
        Assert.True(await a.InsertRow(entry, (await a.ReadAll()).Version.Next()));

        Assert.Equal("a", (await b.ReadAll()).Rows.Single().Entry.SiloName);
        Assert.Empty((await other.ReadAll()).Rows);
        Assert.Equal(0, (await other.ReadAll()).Version.Version);
    }

    [Fact]
    public async Task An_unopenable_path_fails_with_an_error_naming_the_setting()
    {
        var blocker = directory.File("not-a-folder");
        await File.WriteAllTextAsync(blocker, "x");
        var table = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = Path.Combine(blocker, "membership.db") });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => table.InitializeMembershipTable(true));

        Assert.Contains("SqliteClusteringOptions.DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_path_fails_with_an_error_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = " " }));
        Assert.Contains("SqliteClusteringOptions.DatabasePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_is_in_wal_mode()
    {
        var table = (SqliteMembershipTable)CreateTable();
        await table.InitializeMembershipTable(true);

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={table.DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar() as string);
    }

    [Fact]
    public async Task Conditional_writers_in_several_processes_never_lose_an_update()
    {
        const int processes = 4;
        const int incrementsEach = 150;
        var path = directory.File("counter.db");

        var results = await WorkerProcess.RunManyAsync("membership", path, processes, incrementsEach, output);

        var table = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = path, ClusterId = "counter-test" });
        await table.InitializeMembershipTable(false);
        var data = await table.ReadAll();
        var counter = Assert.Single(data.Rows);
        output.WriteLine($"counter={counter.Entry.GatewayPort} version={data.Version.Version} conflicts={string.Join(",", results)}");
        Assert.Equal(processes * incrementsEach, counter.Entry.GatewayPort);
        Assert.Equal(processes * incrementsEach, data.Version.Version);
    }
}

/// <summary>Runs the Actors.Membership.TestWorker child process.</summary>
internal static class WorkerProcess
{
    public static async Task<string[]> RunManyAsync(string mode, string databasePath, int processes, int incrementsEach, ITestOutputHelper output)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Actors.Membership.TestWorker.dll");
        Assert.True(File.Exists(worker), $"The worker {worker} was not built next to the tests.");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var started = Enumerable.Range(0, processes).Select(_ =>
        {
            var info = new ProcessStartInfo(dotnet)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(worker);
            info.ArgumentList.Add(mode);
            info.ArgumentList.Add(databasePath);
            info.ArgumentList.Add(incrementsEach.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {dotnet} {worker}.");
        }).ToList();

        var lines = new List<string>();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            foreach (var process in started)
            {
                var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
                var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
                await process.WaitForExitAsync(deadline.Token);
                var text = (await stdout).Trim();
                output.WriteLine($"worker {process.Id}: exit {process.ExitCode} {text} {(await stderr).Trim()}");
                Assert.True(process.ExitCode == 0, $"Worker {process.Id} exited with {process.ExitCode}: {text} {await stderr}");
                lines.Add(text);
            }
        }
        finally
        {
            foreach (var process in started)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.Dispose();
            }
        }

        return [.. lines];
    }
}
