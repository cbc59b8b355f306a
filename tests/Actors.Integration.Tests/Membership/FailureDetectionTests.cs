using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Membership;

/// <summary>
/// The silo's default failure detection (Actors.Silo's FailureDetection, nothing overridden under
/// Actors:Membership) with three real silo processes on SQLite: a SIGKILLed silo is declared Dead and every
/// partition it led has a new leader within 10 s; a frozen (SIGSTOPped) silo within 15 s.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FailureDetectionTests(ITestOutputHelper output)
{
    private const string Topic = "detect";
    private const int Partitions = 6;

    [Fact]
    public Task A_SIGKILLed_silo_is_declared_Dead_and_its_partitions_have_new_leaders_within_10_s() =>
        MeasureAsync("SIGKILL", victim => victim.Kill(), TimeSpan.FromSeconds(10));

    [Fact]
    public Task A_frozen_silo_is_declared_Dead_and_its_partitions_have_new_leaders_within_15_s() =>
        MeasureAsync("SIGSTOP", victim => victim.Freeze(), TimeSpan.FromSeconds(15));

    private async Task MeasureAsync(string signal, Action<BrokerProcess> fail, TimeSpan bound)
    {
        await using var cluster = await ProcessCluster.StartAsync(3, output.WriteLine);
        var before = await ClusterPolling.CreateTopicAsync(cluster, Topic, Partitions, replicationFactor: 3, minInsyncReplicas: 2);
        var leaders = before.GroupBy(p => p.Leader!).ToDictionary(g => g.Key, g => g.Select(p => p.Partition).ToArray(), StringComparer.Ordinal);
        Assert.True(cluster.Silos.All(s => leaders.ContainsKey(s.Name)),
            $"every silo should lead a partition of {Topic} before one fails; leaders: {string.Join("; ", before.Select(p => p.ToString()))}");

        // The victim is silo2: whatever it hosts (perhaps the controller) moves as it would in production.
        var victim = cluster.Silo("silo2");
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var victimAddress = hosts.Single(h => h.SiloName == victim.Name).SiloAddress;
        var controllerHost = await management.GetActivationAddress(cluster.Controller);
        var led = leaders[victim.Name];
        output.WriteLine($"{victim.Name} ({victimAddress}) leads partitions [{string.Join(',', led)}]; controller on {controllerHost}");

        var clock = Stopwatch.StartNew();
        fail(victim);
        var signalled = clock.Elapsed;
        TimeSpan? tableDead = null, viewDead = null, reelected = null;
        var seen = new ConcurrentDictionary<string, string>(StringComparer.Ordinal) { ["table"] = "-", ["view"] = "-", ["leaders"] = "-" };

        // Polled against a deadline past the bound, so a miss is reported with the time it took.
        var deadline = bound + TimeSpan.FromSeconds(15);
        while ((tableDead is null || viewDead is null || reelected is null) && clock.Elapsed < deadline)
        {
            var table = tableDead is null ? PollAsync(seen, "table", async () =>
            {
                // GetDetailedHosts reads the membership table: the cluster's declaration.
                var entries = await management.GetDetailedHosts(onlyActive: false);
                var entry = entries.SingleOrDefault(e => e.SiloAddress.Equals(victimAddress));
                seen["table"] = entry?.Status.ToString() ?? "absent";
                return entry?.Status == SiloStatus.Dead;
            }, () => tableDead = clock.Elapsed) : Task.CompletedTask;
            var view = viewDead is null ? PollAsync(seen, "view", async () =>
            {
                // GetHosts is the view of the silo that answers (the management grain is a stateless worker on the
                // client's gateway silo).
                var statuses = await management.GetHosts(onlyActive: false);
                seen["view"] = statuses.TryGetValue(victimAddress, out var status) ? status.ToString() : "absent";
                return status == SiloStatus.Dead;
            }, () => viewDead = clock.Elapsed) : Task.CompletedTask;
            var moved = reelected is null ? PollAsync(seen, "leaders", async () =>
            {
                var states = await Task.WhenAll(led.Select(p => cluster.Controller.GetPartitionStateAsync(new TopicPartition(Topic, p))));
                seen["leaders"] = string.Join("; ", states.Select(s => s.ToString()));
                return states.All(s => s.Leader is not null && s.Leader != victim.Name);
            }, () => reelected = clock.Elapsed) : Task.CompletedTask;
            await Task.WhenAll(table, view, moved);
            if (tableDead is null || viewDead is null || reelected is null)
            {
                await Task.Delay(50);
            }
        }

        string Figures() =>
            $"{signal} of {victim.Name} (signal sent in {signalled.TotalMilliseconds:0} ms): " +
            $"Dead in the membership table after {Ms(tableDead)}, Dead in the answering silo's view after {Ms(viewDead)}, " +
            $"new leaders for partitions [{string.Join(',', led)}] after {Ms(reelected)} (bound {bound.TotalSeconds:0} s)";
        output.WriteLine(Figures());
        var missed = new[] { ("Dead in the membership table", tableDead), ("Dead in the answering silo's view", viewDead), ("new leaders", reelected) }
            .Where(x => x.Item2 is null || x.Item2 > bound)
            .Select(x => x.Item1)
            .ToArray();
        Assert.True(missed.Length == 0,
            $"{Figures()}.{Environment.NewLine}Awaited within {bound.TotalSeconds:0} s but not met: {string.Join(", ", missed)}. " +
            $"Last seen: table {seen["table"]}; view {seen["view"]}; leaders {seen["leaders"]}{Environment.NewLine}{cluster.Tails()}");

        if (signal == "SIGSTOP")
        {
            // Thawed, the silo finds itself declared Dead and stops; the cluster's dispose kills it by id if not.
            victim.Thaw();
            output.WriteLine($"{victim.Name} thawed at {clock.ElapsedMilliseconds} ms");
        }
    }

    /// <summary>One polled call with the call timeout: a slow or failed call counts as "not yet".</summary>
    private static async Task PollAsync(ConcurrentDictionary<string, string> seen, string what, Func<Task<bool>> condition, Action met)
    {
        try
        {
            if (await condition().WaitAsync(ClusterPolling.CallTimeout))
            {
                met();
            }
        }
        catch (Exception e) when (Transient.Is(e))
        {
            seen[what] = $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static string Ms(TimeSpan? t) => t is { } v ? $"{v.TotalMilliseconds:0} ms" : "never";
}
