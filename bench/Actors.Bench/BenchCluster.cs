using System.Globalization;
using Actors.Broker;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;

namespace Actors.Bench;

/// <summary>
/// Real Actors.Silo processes on this machine (every hop is TCP) for the <c>broker</c> and <c>kafka</c> suites, with
/// topics created through the controller (one partition, min.insync.replicas 2 when replicated) and awaited in sync.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private readonly List<IHost> clients = [];

    private BenchCluster(ProcessCluster processes, string name)
    {
        Processes = processes;
        Name = name;
    }

    public ProcessCluster Processes { get; }

    public string Name { get; }

    /// <summary>The silos' Kafka listeners, as a client's bootstrap.servers.</summary>
    public string Bootstrap => string.Join(',', Processes.Silos.Select(s => $"127.0.0.1:{s.KafkaPort.ToString(CultureInfo.InvariantCulture)}"));

    /// <param name="environment">Added to every silo's environment ("{kafka-port}" and "{kafka-port-2}" stand for the
    /// silo's Kafka ports, e.g. in Actors__Kafka__Listeners).</param>
    public static async Task<BenchCluster> StartAsync(string name, int silos, IReadOnlyDictionary<string, string>? environment = null) =>
        new(await ProcessCluster.StartAsync(silos, _ => { }, environment: environment), name);

    /// <summary>CPU time (user and system) the silo processes have used so far, in seconds; read before and after a
    /// client run, the difference is the cluster's share of the work (the client's own is on its result line).</summary>
    public double SiloCpuSeconds()
    {
        double total = 0;
        foreach (var silo in Processes.Silos)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(silo.Pid);
                total += process.TotalProcessorTime.TotalSeconds;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Not running (killed by a fault): it adds nothing.
            }
        }

        return total;
    }

    /// <summary>Creates <paramref name="topic"/> (one partition) and waits until all <paramref name="rf"/> replicas are in sync.</summary>
    public async Task CreateTopicAsync(string topic, short rf)
    {
        var controller = Processes.Controller;
        await controller.CreateTopicAsync(new CreateTopicRequest
        {
            Name = topic,
            NumPartitions = 1,
            ReplicationFactor = rf,
            Configs = new() { ["min.insync.replicas"] = rf > 1 ? "2" : "1" },
        });
        var tp = new TopicPartition(topic, 0);
        await Wait.UntilAsync(async () => (await controller.GetPartitionStateAsync(tp)) is { Leader: not null } s && s.Isr.Length == rf,
            TimeSpan.FromSeconds(60), $"{Name}: all {rf} replicas of {topic} in sync", Processes.Tails);
    }

    /// <summary>The partition grain of <paramref name="topic"/>/0 through a client whose only gateway is the leader's silo,
    /// as a Kafka producer talks to the leader's broker. The client lives as long as this cluster.</summary>
    public async Task<IPartitionGrain> LeaderGrainAsync(string topic)
    {
        var tp = new TopicPartition(topic, 0);
        var leader = Processes.Silo((await Processes.Controller.GetPartitionStateAsync(tp)).Leader!);
        var direct = await Processes.ConnectDirectAsync(leader);
        clients.Add(direct);
        return direct.Services.GetRequiredService<IClusterClient>().GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(tp));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in clients)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await client.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Best effort: the silos are killed next.
            }

            client.Dispose();
        }

        await Processes.DisposeAsync();
    }
}
