using System.Diagnostics;

namespace Actors.Cli.Tests;

/// <summary>The built <c>actors</c> executable, run as a process the way a user runs it.</summary>
[Collection(SiloCollection.Name)]
public sealed class ExecutableTests(SiloFixture silo)
{
    [Fact]
    public async Task The_built_executable_creates_and_lists_a_topic()
    {
        var topic = Cli.Unique("exe");
        var created = await RunAsync("topics", "--create", "--bootstrap-server", silo.Bootstrap, "--partitions", "1", "--topic", topic);
        Assert.True(created.Exit == 0, created.ToString());
        Assert.Equal($"Created topic {topic}.\n", created.Out);
        var listed = await RunAsync("topics", "--list", "--bootstrap-server", silo.Bootstrap);
        Assert.Contains(topic, listed.OutLines);
    }

    private static async Task<CliRun> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "actors.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built next to the tests.");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the actors executable.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CliRun(process.ExitCode, await output, await error, clock.Elapsed);
    }
}
