using System.Diagnostics;
using System.Globalization;
using Actors.Orleans.Sqlite.Tests.Support;
using Actors.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Xunit.Abstractions;

namespace Actors.Orleans.Sqlite.Tests.Sqlite;

/// <summary>Several real processes doing conditional increments on one SQLite file lose no update:
/// the file's write lock (BEGIN IMMEDIATE) serializes them across processes.</summary>
public sealed class MultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int Processes = 4;
    private const int IncrementsEach = 100;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);

    private readonly TempDirectory directory = new("sqlite-processes");
    private readonly ProviderHosts hosts = new();

    public void Dispose()
    {
        hosts.Dispose();
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Fact]
    public async Task Membership_writers_in_several_processes_never_lose_an_update()
    {
        var path = directory.File("cluster.db");

        await RunWorkersAsync("membership", path);

        var table = hosts.Build("counter-test", silo => silo.UseEmbeddedSqlite(path, path)).GetRequiredService<IMembershipTable>();
        await table.InitializeMembershipTableAsync(false);
        var data = await table.ReadAllAsync();
        Assert.Equal(Processes * IncrementsEach, Assert.Single(data.Members).Item1.UpdateZone);
        Assert.Equal(Processes * IncrementsEach, data.Version.Version);
    }

    [Fact]
    public async Task Grain_storage_writers_in_several_processes_never_lose_an_update()
    {
        var path = directory.File("grains.db");

        await RunWorkersAsync("storage", path);

        var storage = hosts.Build("counter-test", silo => silo.UseEmbeddedSqlite(path, path)).GetRequiredKeyedService<IGrainStorage>("Default");
        var state = new GrainState<long>();
        await storage.ReadStateAsync("counter", GrainId.Create("counter", "1"), state, CancellationToken.None);
        Assert.Equal(Processes * IncrementsEach, state.State);
    }

    /// <summary>Starts the worker processes together and waits for all with a deadline; any still
    /// running at the end is killed by its id.</summary>
    private async Task RunWorkersAsync(string mode, string databasePath)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Actors.Orleans.Sqlite.TestWorker.dll");
        Assert.True(File.Exists(worker), $"The worker {worker} was not built next to the tests.");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var started = new List<Process>();
        try
        {
            for (var i = 0; i < Processes; i++)
            {
                var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var argument in new[] { worker, mode, databasePath, IncrementsEach.ToString(CultureInfo.InvariantCulture) })
                {
                    info.ArgumentList.Add(argument);
                }

                started.Add(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {dotnet} {worker}."));
            }

            using var deadline = new CancellationTokenSource(Deadline);
            foreach (var process in started)
            {
                var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
                var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
                try
                {
                    await process.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"Timed out after {Deadline.TotalSeconds} s waiting for worker process {process.Id} ({mode}) to finish {IncrementsEach} increments.");
                }

                output.WriteLine($"worker {process.Id}: exit {process.ExitCode}: {(await stdout).Trim()} {(await stderr).Trim()}");
                Assert.True(process.ExitCode == 0, $"Worker {process.Id} exited with {process.ExitCode}: {await stdout} {await stderr}");
            }
        }
        finally
        {
            foreach (var process in started)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        Process.GetProcessById(process.Id).Kill(entireProcessTree: true);
                    }
                }
                catch (ArgumentException)
                {
                    // Exited between the check and the kill.
                }
                finally
                {
                    process.Dispose();
                }
            }
        }
    }
}
