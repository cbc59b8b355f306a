using System.Net;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Confluent.Kafka;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Silo;

/// <summary>
/// One 3-silo process cluster, scraped over /metrics and /health while its silos are stopped in the ways operators
/// see: a follower SIGSTOPped past replica.lag.time.max.ms leaves the ISR (actors_broker_isr_shrinks_total rises) and
/// rejoins after SIGCONT (actors_broker_isr_expands_total rises); a SIGKILLed silo that held the only replica of a
/// partition makes actors_broker_offline_partitions non-zero on the survivors; a silo told to stop (SIGTERM) answers
/// /health with 503 and the reason while it shuts down, after 200 while it served.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ClusterHealthMetricsProcessTests(ITestOutputHelper output)
{
    private const string IsrTopic = "isr-watched";
    private const string SoloTopic = "single-replica";

    [Fact]
    public async Task Isr_changes_offline_partitions_and_a_stopping_silo_show_on_metrics_and_health()
    {
        // A short lag bound so a frozen follower leaves the ISR long before failure detection declares it Dead
        // (about 3 s of missed probes); the gauges refresh every 200 ms.
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine,
            args: ["--metrics.refresh.ms", "200", "--replica.lag.time.max.ms=500"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        foreach (var silo in cluster.Silos)
        {
            var (code, body) = await HealthAsync(http, silo);
            Assert.True(code == HttpStatusCode.OK, $"{silo.Name} /health answered {(int)code} while serving: {body}");
            Assert.Contains("\"status\":\"ok\"", body, StringComparison.Ordinal);
        }

        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var controllerAddress = await management.GetActivationAddress(cluster.Controller);
        var controllerSilo = hosts.SingleOrDefault(h => h.SiloAddress.Equals(controllerAddress))?.SiloName;
        output.WriteLine($"controller on {controllerSilo ?? "unknown"}");

        // ISR shrink and expand: freeze a follower that does not host the controller (the leader's ISR change goes
        // through the controller, and the counters are recorded where it commits them).
        var isr = (await ClusterPolling.CreateTopicAsync(cluster, IsrTopic, partitions: 1, replicationFactor: 3, minInsyncReplicas: 1)).Single();
        var leader = cluster.Silo(isr.Leader!);
        var follower = cluster.Silo(isr.Replicas.First(r => r != isr.Leader && r != controllerSilo));
        var watched = cluster.Silos.Where(s => s != follower).ToArray();
        var shrinksBefore = await SumAsync(http, watched, "actors_broker_isr_shrinks_total", IsrTopic);
        var expandsBefore = await SumAsync(http, watched, "actors_broker_isr_expands_total", IsrTopic);
        output.WriteLine($"leader {leader.Name}, freezing follower {follower.Name}; shrinks {shrinksBefore}, expands {expandsBefore}");

        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = $"127.0.0.1:{leader.KafkaPort}", Acks = Acks.Leader }).Build();
        follower.Freeze();
        try
        {
            // Records the frozen follower cannot fetch: it falls behind and, after 500 ms, out of the ISR.
            await producer.ProduceAsync(IsrTopic, new Message<Null, string> { Value = "while frozen" });
            var shrinks = 0.0;
            await Wait.UntilAsync(async () => (shrinks = await SumAsync(http, watched, "actors_broker_isr_shrinks_total", IsrTopic)) > shrinksBefore,
                TimeSpan.FromSeconds(30), $"actors_broker_isr_shrinks_total{{topic=\"{IsrTopic}\"}} to rise above {shrinksBefore} after {follower.Name} was frozen",
                () => $"shrinks {shrinks}{Environment.NewLine}{cluster.Tails()}");
        }
        finally
        {
            follower.Thaw();
        }

        var expands = 0.0;
        await Wait.UntilAsync(async () =>
            {
                if (!follower.Running)
                {
                    // On a loaded machine the freeze can outlast failure detection: declared dead, the follower exits
                    // on waking. Restarted on its ports, it catches up and rejoins the ISR all the same.
                    output.WriteLine($"{follower.Name} exited after the freeze (declared dead); restart");
                    follower.Restart();
                }

                return (expands = await SumAsync(http, watched, "actors_broker_isr_expands_total", IsrTopic)) > expandsBefore;
            },
            TimeSpan.FromSeconds(60), $"actors_broker_isr_expands_total{{topic=\"{IsrTopic}\"}} to rise above {expandsBefore} after {follower.Name} was thawed",
            () => $"expands {expands}{Environment.NewLine}{cluster.Tails()}");

        // Offline: every replica of an RF 1 partition on one SIGKILLed silo (not the controller's).
        var solo = await ClusterPolling.CreateTopicAsync(cluster, SoloTopic, partitions: 3, replicationFactor: 1, minInsyncReplicas: 1);
        var victim = cluster.Silos.First(s => s.Name != controllerSilo && solo.Any(p => p.Replicas.Single() == s.Name));
        var orphaned = solo.Count(p => p.Replicas.Single() == victim.Name);
        var survivors = cluster.Silos.Where(s => s != victim).ToArray();
        Assert.Equal(0, await OfflineAsync(http, survivors[0]));
        output.WriteLine($"killing {victim.Name}, the only replica of {orphaned} partition(s) of {SoloTopic}");
        victim.Kill();
        var offline = 0.0;
        await Wait.UntilAsync(async () => (offline = await OfflineAsync(http, survivors[0])) >= orphaned,
            TimeSpan.FromSeconds(60), $"actors_broker_offline_partitions on {survivors[0].Name} to reach {orphaned} after {victim.Name} was killed",
            () => $"offline {offline}{Environment.NewLine}{cluster.Tails()}");

        // A silo told to stop: 503 with the reason while it shuts down (before, 200).
        var stopping = survivors[1];
        var (before, beforeBody) = await HealthAsync(http, stopping);
        Assert.True(before == HttpStatusCode.OK, $"{stopping.Name} /health answered {(int)before} before SIGTERM: {beforeBody}");
        var terminated = stopping.TerminateAsync(TimeSpan.FromSeconds(60));
        (HttpStatusCode Code, string Body)? unavailable = null;
        var answers = new List<string>();
        while (unavailable is null && !terminated.IsCompleted)
        {
            try
            {
                var (code, body) = await HealthAsync(http, stopping);
                answers.Add($"{(int)code}");
                if (code != HttpStatusCode.OK)
                {
                    unavailable = (code, body);
                }
            }
            catch (HttpRequestException e)
            {
                answers.Add(e.Message);
            }
        }

        await terminated;
        Assert.True(unavailable is not null, $"{stopping.Name} never answered /health with anything but 200 while shutting down; answers: {string.Join(", ", answers.Distinct())}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.Value.Code);
        Assert.Contains("\"status\":\"unavailable\"", unavailable.Value.Body, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"the silo is shutting down\"", unavailable.Value.Body, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Code, string Body)> HealthAsync(HttpClient http, BrokerProcess silo)
    {
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/health"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<PrometheusSample>> ScrapeAsync(HttpClient http, BrokerProcess silo) =>
        PrometheusText.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/metrics")));

    /// <summary>A counter's value for <paramref name="topic"/> summed over <paramref name="silos"/> (0 where absent).</summary>
    private static async Task<double> SumAsync(HttpClient http, IEnumerable<BrokerProcess> silos, string name, string topic)
    {
        var total = 0.0;
        foreach (var silo in silos)
        {
            total += (await ScrapeAsync(http, silo)).Where(s => s.Name == name && s.Labels.GetValueOrDefault("topic") == topic).Sum(s => s.Value);
        }

        return total;
    }

    private static async Task<double> OfflineAsync(HttpClient http, BrokerProcess silo) =>
        (await ScrapeAsync(http, silo)).Single(s => s.Name == "actors_broker_offline_partitions").Value;
}
