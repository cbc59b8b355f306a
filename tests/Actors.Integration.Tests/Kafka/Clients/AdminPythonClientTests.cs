using System.Diagnostics;
using System.Text.Json;
using Actors.Integration.Tests.Processes;
using Actors.Testing;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// Topic administration from an older client: Debian's python3-confluent-kafka (librdkafka 2.0.2) runs
/// python/admin_roundtrip.py against three real silo processes — create a topic, list it, describe its configs,
/// delete it — and prints what it saw as JSON.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AdminPythonClientTests(KafkaClusterFixture fixture) : IClassFixture<KafkaClusterFixture>
{
    [PythonConfluentKafkaFact]
    public async Task Python_AdminClient_creates_lists_describes_and_deletes_a_topic()
    {
        var topic = $"admin-py-{Guid.NewGuid():N}"[..24];
        var script = Path.Combine(RepositoryRoot.Path, "tests", "Actors.Integration.Tests", "Kafka", "Clients", "python", "admin_roundtrip.py");
        var bootstrap = string.Join(',', fixture.Cluster.Silos.Select(s => $"127.0.0.1:{s.KafkaPort}"));

        var (exit, stdout, stderr) = await Clients.ClientProcess.RunAsync(PythonConfluentKafkaFactAttribute.Python, [script, bootstrap, topic], TimeSpan.FromSeconds(90));

        Assert.True(exit == 0, $"admin_roundtrip.py exited with {exit}: {stdout} {stderr}{Environment.NewLine}{fixture.Cluster.Tails()}");
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("created").GetBoolean());
        Assert.Equal(3, root.GetProperty("listed_partitions").GetInt32());
        Assert.Equal([2], root.GetProperty("replicas").EnumerateArray().Select(e => e.GetInt32()));
        var configs = root.GetProperty("configs");
        var retention = configs.GetProperty("retention.ms");
        Assert.Equal("3600000", retention.GetProperty("value").GetString());
        Assert.Equal(1, retention.GetProperty("source").GetInt32());
        var segment = configs.GetProperty("segment.bytes");
        Assert.Equal("1073741824", segment.GetProperty("value").GetString());
        Assert.Equal(5, segment.GetProperty("source").GetInt32());
        Assert.Equal("delete", configs.GetProperty("cleanup.policy").GetProperty("value").GetString());
        Assert.True(root.GetProperty("deleted").GetBoolean());
        Assert.True(root.GetProperty("gone").GetBoolean());
        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);
    }
}

/// <summary>A fact that needs /usr/bin/python3 with confluent_kafka; skipped, saying how to get it, when it cannot
/// import it.</summary>
public sealed class PythonConfluentKafkaFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(Check);

    public PythonConfluentKafkaFactAttribute()
    {
        if (Missing.Value is { } why)
        {
            Skip = why;
        }
    }

    private static string? Check()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing: tests/install-tools.sh installs Debian's python3-confluent-kafka (apt-get), which needs root.";
        }

        try
        {
            var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("import confluent_kafka");
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                return $"{Python} -c 'import confluent_kafka' did not finish within 30 s.";
            }

            return process.ExitCode == 0
                ? null
                : $"{Python} cannot import confluent_kafka ({stderr.Trim()}): tests/install-tools.sh installs Debian's python3-confluent-kafka (apt-get), which needs root.";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"{Python} could not be started: {e.Message}";
        }
    }
}
