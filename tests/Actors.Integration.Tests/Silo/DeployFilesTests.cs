using System.Collections;
using System.Diagnostics;
using Actors.Silo;
using Actors.Silo.Configuration;
using Actors.Testing;
using Microsoft.Extensions.Configuration;

namespace Actors.Integration.Tests.Silo;

/// <summary>deploy/: the systemd unit passes <c>systemd-analyze verify</c> with nothing reported and has the settings
/// docs/deploy.md promises; each example server.properties of the 3-VM cluster is read without a warning and selects
/// Azure Table membership and Azure Blob grain state.</summary>
public sealed class DeployFilesTests
{
    private static readonly string Unit = Path.Combine(RepositoryRoot.Path, "deploy", "actors-silo.service");

    [SystemdAnalyzeFact]
    public async Task The_systemd_unit_passes_systemd_analyze_verify_with_nothing_reported()
    {
        using var folder = new TempDirectory("systemd-unit");
        // verify checks that ExecStart's binary exists and is executable: point it at one made here.
        var binary = folder.File("Actors.Silo");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var text = await File.ReadAllTextAsync(Unit);
        Assert.Contains("ExecStart=/opt/actors/silo/Actors.Silo --config /etc/actors/server.properties", text, StringComparison.Ordinal);
        var copy = folder.File("actors-silo.service");
        await File.WriteAllTextAsync(copy, text.Replace("/opt/actors/silo/Actors.Silo", binary, StringComparison.Ordinal));

        var info = new ProcessStartInfo(SystemdAnalyzeFactAttribute.Path!, ["verify", copy])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["SYSTEMD_LOG_COLOR"] = "0";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var report = (await stdout + await stderr).Trim();
        Assert.True(process.ExitCode == 0 && report.Length == 0,
            $"systemd-analyze verify exited {process.ExitCode} and reported (an unknown or malformed key is only a warning, so any output fails):{Environment.NewLine}{report}");
    }

    [Fact]
    public void The_unit_is_a_notify_service_restarted_on_abnormal_exit_with_a_memory_cap_a_400_MB_heap_and_its_own_user()
    {
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).ToArray();
        Assert.Contains("Type=notify", lines);
        Assert.Contains("Restart=on-abnormal", lines);
        Assert.Contains("User=actors", lines);
        Assert.Contains(lines, l => l.StartsWith("MemoryMax=", StringComparison.Ordinal));
        var heap = lines.Single(l => l.StartsWith("Environment=DOTNET_GCHeapHardLimit=", StringComparison.Ordinal));
        Assert.Equal(400L * 1024 * 1024, Convert.ToInt64(heap.Split('=')[2], 16)); // the runtime reads it as hexadecimal
    }

    [Theory]
    [InlineData(1, "10.0.0.4")]
    [InlineData(2, "10.0.0.5")]
    [InlineData(3, "10.0.0.6")]
    public void Each_VM_example_is_read_without_warnings_and_uses_Azure_storage(int vm, string ip)
    {
        var file = Path.Combine(RepositoryRoot.Path, "deploy", $"vm{vm}.server.properties");
        var sources = SiloConfigurationSources.Read(["--config", file], new Hashtable());
        Assert.Empty(sources.Warnings);
        Assert.Empty(sources.Notes);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(sources.Values).Build();
        SiloConfigurationSources.CheckEffective(configuration);
        var settings = SiloSettings.Read(configuration);
        settings.ValidateBroker(configuration);
        Assert.Equal($"vm{vm}", settings.Name);
        Assert.Equal(ip, settings.AdvertisedHost);
        Assert.Equal(ClusteringProvider.AzureTable, settings.Clustering);
        Assert.Equal(GrainStorageProvider.AzureBlob, settings.GrainStorage);
        Assert.Equal($"PLAINTEXT://{ip}:9092", configuration["Actors:Kafka:AdvertisedListeners"]);
        Assert.Equal("3", configuration["Actors:Broker:DefaultReplicationFactor"]);
        Assert.Equal("2", configuration["Actors:Broker:MinInsyncReplicas"]);
    }
}

/// <summary>A fact that needs systemd-analyze on PATH; skipped with the reason otherwise.</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "systemd-analyze"))
        .FirstOrDefault(File.Exists);

    public SystemdAnalyzeFactAttribute()
    {
        if (Path is null)
        {
            Skip = "systemd-analyze is not installed (it comes with systemd); the unit cannot be verified here.";
        }
    }
}
