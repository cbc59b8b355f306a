using System.Diagnostics;
using System.Globalization;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Samples;

/// <summary>clients/samples/Actors.Samples run as a user runs it: its own silo with the broker, a producer, the word
/// count in a consumer group, and a grain subscribed to an Actors-backed Orleans stream whose events are replayed
/// from the first token. What it prints is checked, so the sample cannot rot.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SamplesProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_sample_produces_counts_words_and_totals_and_replays_orders()
    {
        var sample = Path.Combine(RepositoryRoot.Path, "clients", "samples", "Actors.Samples", "bin", "Release", "net10.0", "Actors.Samples.dll");
        Assert.True(File.Exists(sample), $"{sample} was not built (dotnet build Actors.sln -c Release builds it)");
        using var data = new TempDirectory("sample");
        var ports = Ports.GetFreeTcpPorts(2);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(sample);
        info.ArgumentList.Add(data.Path);
        info.Environment["SAMPLE_SILO_PORT"] = ports[0].ToString(CultureInfo.InvariantCulture);
        info.Environment["SAMPLE_GATEWAY_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {sample}");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
            await process.WaitForExitAsync(timeout.Token);
            var printed = (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal);
            output.WriteLine(printed);
            var context = $"exit {process.ExitCode}; printed:\n{printed}\nerrors:\n{await stderr}";
            Assert.True(process.ExitCode == 0, context);
            var lines = printed.Split('\n');
            Assert.Equal(3, lines.Count(l => l.StartsWith("produced '", StringComparison.Ordinal)));
            Assert.Contains("word counts: flow=2, log=2, the=2, all=1, every=1, in=1, keeps=1, order=1, record=1, records=1, streams=1, to=1", lines);
            Assert.Contains(lines, l => l.StartsWith("order grain for customer-", StringComparison.Ordinal) && l.EndsWith(": 3 orders, total 49.75", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("replayed from ", StringComparison.Ordinal) && l.EndsWith(": 12.5, 30, 7.25", StringComparison.Ordinal));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }
}
