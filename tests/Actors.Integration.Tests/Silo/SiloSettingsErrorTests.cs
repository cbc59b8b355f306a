using System.Diagnostics;
using Actors.Testing;

namespace Actors.Integration.Tests.Silo;

/// <summary>The silo executable refuses bad settings at start with one line that names the setting (and its flag or
/// Kafka name), exits with code 2, and writes nothing.</summary>
public sealed class SiloSettingsErrorTests
{
    [Theory]
    [InlineData("--port abc", "", "'Actors:Silo:SiloPort'")]
    [InlineData("--min.insync.replicas 0", "", "Actors:Broker:MinInsyncReplicas (min.insync.replicas) must be at least 1; got 0.")]
    [InlineData("--log.retention.ms abc", "", "'Actors:Broker:LogRetentionMs'")]
    [InlineData("--bogus 1", "", "Unknown flag '--bogus'.")]
    [InlineData("", "Actors__Clustering__Provider=Foo", "Actors:Clustering:Provider 'Foo' is not one of: Sqlite, AzureTable.")]
    [InlineData("", "Actors__GrainStorage__Provider=AzureBlob", "Actors:GrainStorage:ConnectionString must be an Azure Storage connection string")]
    public async Task A_bad_setting_is_refused_with_its_name_and_nothing_is_written(string flags, string environment, string expected)
    {
        using var folder = new TempDirectory("silo-settings");
        var data = folder.File("data");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll"));
        foreach (var arg in $"--name s1 --data {data} {flags}".Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            info.ArgumentList.Add(arg);
        }

        if (environment.Length > 0)
        {
            var (key, value) = (environment[..environment.IndexOf('=', StringComparison.Ordinal)], environment[(environment.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The silo did not exit within 60 s on the bad setting ({flags}{environment}); it should refuse it at once.");
        }

        var errors = await stderr;
        await stdout;
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), $"the refused silo wrote {data}");
    }
}
