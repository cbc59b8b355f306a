using System.Diagnostics;
using Actors.Testing;

namespace Actors.Integration.Tests.Silo;

/// <summary>The silo executable refuses bad settings at start with one line that names the setting (and its flag or
/// Kafka name), exits with code 2, and writes nothing.</summary>
public sealed class SiloSettingsErrorTests
{
    [Theory]
    [InlineData("--port abc", "", "Invalid value 'abc' for silo.port (--port on the command line): accepted values are whole numbers from 1 to 65535.")]
    [InlineData("--min.insync.replicas 0", "", "Invalid value '0' for min.insync.replicas (--min.insync.replicas on the command line): accepted values are whole numbers from 1 to 32767.")]
    [InlineData("--log.retention.ms abc", "", "Invalid value 'abc' for log.retention.ms (--log.retention.ms on the command line)")]
    [InlineData("--bogus 1", "", "Unknown flag '--bogus'.")]
    [InlineData("", "ACTORS_NUM_PARTITIONS=0", "Invalid value '0' for num.partitions (environment variable ACTORS_NUM_PARTITIONS): accepted values are whole numbers from 1 to 10000.")]
    [InlineData("", "Actors__Broker__NumPartitions=x", "Invalid value 'x' for num.partitions (configuration key Actors:Broker:NumPartitions, from appsettings.json or the environment)")]
    [InlineData("--config /nonexistent/server.properties", "", "--config: cannot read the server.properties file '/nonexistent/server.properties'")]
    [InlineData("", "Actors__Clustering__Provider=Foo", "Invalid value 'Foo' for clustering.provider (configuration key Actors:Clustering:Provider, from appsettings.json or the environment): accepted values are one of Sqlite, AzureTable.")]
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
        Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), $"the refused silo wrote {data}");
    }
}
