using System.Diagnostics;
using Actors.Hosting;
using Actors.Membership;
using Actors.Testing;
using Xunit.Abstractions;
using static Actors.Integration.Tests.Membership.MembershipTestSupport;

namespace Actors.Integration.Tests.Membership;

/// <summary>The membership protocol in an in-process TestCluster over one SQLite membership file.</summary>
public sealed class MembershipProtocolTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder folder = new("membership-protocol");

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task A_killed_silo_is_declared_Dead_within_the_configured_time_and_only_once()
    {
        await using var cluster = SqliteCluster(folder);
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        var victim = cluster.Silos[2];
        var survivors = cluster.Silos.Where(s => s != victim).ToList();

        var watch = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        await WaitForStatusAsync(survivors, victim.SiloAddress, SiloStatus.Dead, DetectionDeadline);
        output.WriteLine($"{victim.Name} declared Dead in every survivor's view after {watch.ElapsedMilliseconds} ms");

        // Let a few more probe rounds pass: nobody declares it again, nobody else is suspected.
        var table = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = folder.File("cluster.db") });
        await table.InitializeMembershipTable(false);
        var versionAfterDeath = (await table.ReadAll()).Version.Version;
        await WaitUntilAsync(
            () => survivors.All(s => s.View().CurrentSnapshot.Version >= versionAfterDeath),
            DetectionDeadline,
            "survivors to read the table version that declared the death",
            () => string.Join(" | ", survivors.Select(s => s.View().CurrentSnapshot.ToString())));
        Assert.Equal(1, survivors.Sum(s => s.Oracle().DeathDeclarations));
        var data = await table.ReadAll();
        var dead = data.Find(victim.SiloAddress)!.Entry;
        Assert.Equal(SiloStatus.Dead, dead.Status);
        Assert.Equal(survivors.Count, dead.SuspectVotes.Select(v => v.Voter).Distinct().Count());
        Assert.All(survivors, s => Assert.Equal(SiloStatus.Active, data.Find(s.SiloAddress)!.Entry.Status));
        Assert.All(survivors, s => Assert.False(s.Silo.IsStopped));
    }

    [Fact]
    public async Task With_an_in_memory_table_a_killed_silo_is_declared_Dead_once_and_its_grains_move()
    {
        var table = new InMemoryMembershipTable();
        await using var cluster = InMemoryCluster(table);
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        var victim = cluster.Silos[0];
        var survivors = cluster.Silos.Skip(1).ToList();
        string? key = null;
        for (var i = 0; key is null && i < 300; i++)
        {
            if (await cluster.Client.GetGrain<ILocatorGrain>($"locator-{i}").WhereAmI() == victim.SiloAddress.ToString())
            {
                key = $"locator-{i}";
            }
        }

        Assert.True(key is not null, $"None of 300 grains was placed on {victim.Name}.");

        await cluster.KillSiloAsync(victim);
        await WaitForStatusAsync(survivors, victim.SiloAddress, SiloStatus.Dead, DetectionDeadline);

        Assert.Equal(1, survivors.Sum(s => s.Oracle().DeathDeclarations));
        Assert.Equal(SiloStatus.Dead, (await table.ReadAll()).Find(victim.SiloAddress)!.Entry.Status);
        var moved = await cluster.Client.GetGrain<ILocatorGrain>(key).WhereAmI();
        Assert.Contains(survivors, s => s.SiloAddress.ToString() == moved);
    }

    [Fact]
    public async Task A_silo_whose_probes_are_dropped_reads_itself_Dead_and_stops()
    {
        await using var cluster = SqliteCluster(folder);
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        var isolated = cluster.Silos[1];
        var others = cluster.Silos.Where(s => s != isolated).ToList();

        isolated.Faults.DropProbes = true;

        await WaitUntilAsync(
            () => isolated.Silo.IsStopped && isolated.Oracle().IsTerminated,
            DetectionDeadline,
            $"{isolated.Name} to find itself Dead and stop",
            () => $"stopped={isolated.Silo.IsStopped} terminated={isolated.Oracle().IsTerminated} view={isolated.View().CurrentSnapshot}");
        await WaitForStatusAsync(others, isolated.SiloAddress, SiloStatus.Dead, DetectionDeadline);
        Assert.All(others, o => Assert.Equal(SiloStatus.Active, o.View().CurrentSnapshot.GetStatus(o.SiloAddress)));
        Assert.All(others, o => Assert.False(o.Silo.IsStopped));
    }

    [Fact]
    public async Task A_restarted_silo_rejoins_with_a_new_incarnation_and_its_old_row_stays_Dead()
    {
        await using var cluster = SqliteCluster(folder);
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        var old = cluster.Silos[0];
        var others = cluster.Silos.Skip(1).ToList();
        await cluster.KillSiloAsync(old);
        await WaitForStatusAsync(others, old.SiloAddress, SiloStatus.Dead, DetectionDeadline);

        var restarted = await cluster.RestartSiloAsync(old);
        await cluster.WaitForLivenessToStabilizeAsync();

        Assert.Equal(old.Name, restarted.Name);
        Assert.True(restarted.SiloAddress.IsSameEndpoint(old.SiloAddress));
        Assert.True(restarted.SiloAddress.Generation > old.SiloAddress.Generation);
        foreach (var silo in cluster.Silos)
        {
            var view = silo.View().CurrentSnapshot;
            Assert.Equal(SiloStatus.Dead, view.GetStatus(old.SiloAddress));
            Assert.Equal(SiloStatus.Active, view.GetStatus(restarted.SiloAddress));
            Assert.Equal(restarted.SiloAddress, view.FindByName(old.Name)!.Address);
        }
    }

    [Fact]
    public async Task Grains_of_a_dead_silo_reactivate_elsewhere_at_their_next_call_with_their_state()
    {
        await using var cluster = SqliteCluster(folder);
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        var victim = cluster.Silos[1];

        // Grains whose activations live on the victim, each with state written once.
        var onVictim = new List<string>();
        for (var i = 0; onVictim.Count < 3 && i < 300; i++)
        {
            var key = $"tally-{i}";
            var grain = cluster.Client.GetGrain<ITallyGrain>(key);
            var where = await grain.Describe();
            if (where.EndsWith(victim.SiloAddress.ToString(), StringComparison.Ordinal))
            {
                Assert.Equal(1, await grain.Increment());
                onVictim.Add(key);
            }
        }

        Assert.True(onVictim.Count == 3, $"Found only {onVictim.Count} of 300 grains placed on {victim.Name}.");
        var survivors = cluster.Silos.Where(s => s != victim).ToList();
        await cluster.KillSiloAsync(victim);
        await WaitForStatusAsync(survivors, victim.SiloAddress, SiloStatus.Dead, DetectionDeadline);

        foreach (var key in onVictim)
        {
            var grain = cluster.Client.GetGrain<ITallyGrain>(key);
            var where = await grain.Describe();
            Assert.StartsWith("1@", where, StringComparison.Ordinal);
            Assert.Contains(survivors, s => where.EndsWith(s.SiloAddress.ToString(), StringComparison.Ordinal));
            Assert.Equal(2, await grain.Increment());
        }
    }

    [Fact]
    public async Task An_ETag_conflict_between_two_activations_of_one_grain_leaves_exactly_one_write()
    {
        // Two clusters that do not know each other (two membership files) share one grain-state
        // file: the split-brain case ETags exist for. Each activates the same grain.
        await using var left = SqliteCluster(folder, silos: 1, clusterFile: "left.db");
        await using var right = SqliteCluster(folder, silos: 1, clusterFile: "right.db");
        await left.DeployAsync();
        await right.DeployAsync();
        var fromLeft = left.Client.GetGrain<ITallyGrain>("contested");
        var fromRight = right.Client.GetGrain<ITallyGrain>("contested");

        // Both activations read "no record" before either writes.
        Assert.StartsWith("0@", await fromLeft.Describe(), StringComparison.Ordinal);
        Assert.StartsWith("0@", await fromRight.Describe(), StringComparison.Ordinal);

        Assert.Equal(1, await fromLeft.Increment());
        var conflict = await Assert.ThrowsAnyAsync<Exception>(() => fromRight.Increment());
        output.WriteLine($"second writer: {conflict.GetType().Name}: {conflict.Message}");
        Assert.True(
            conflict is InconsistentStateException || conflict.Message.Contains(nameof(InconsistentStateException), StringComparison.Ordinal)
                || (conflict is RemoteGrainException remote && remote.RemoteTypeName.Contains(nameof(InconsistentStateException), StringComparison.Ordinal)),
            $"Expected an InconsistentStateException, got {conflict}");

        var storage = new Actors.Persistence.SqliteGrainStorage("check", new Actors.Persistence.SqliteGrainStorageOptions { DatabasePath = folder.File("grains.db") });
        var stored = await storage.ReadAsync("tally", new GrainId("tally", "contested"));
        Assert.NotNull(stored);
        Assert.Equal(1, Actors.Persistence.GrainStateSerializer.Deserialize<TallyState>(stored.Data.Span).Value);

        // The losing activation was deactivated; its next call reads the winner's write and builds on it.
        await WaitUntilAsync(
            () => !right.Silos[0].Silo.HostsActivation(new GrainId("tally", "contested")),
            TimeSpan.FromSeconds(30),
            "the losing activation to deactivate",
            () => "still active");
        Assert.Equal(2, await fromRight.Increment());
        stored = await storage.ReadAsync("tally", new GrainId("tally", "contested"));
        Assert.Equal(2, Actors.Persistence.GrainStateSerializer.Deserialize<TallyState>(stored!.Data.Span).Value);
    }
}
