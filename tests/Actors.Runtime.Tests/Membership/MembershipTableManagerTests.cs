using Actors.Membership;
using Microsoft.Extensions.Options;

namespace Actors.Runtime.Tests.Membership;

public sealed class MembershipTableManagerTests
{
    [Fact]
    public async Task A_silo_joins_as_Joining_then_becomes_Active_and_its_views_only_grow()
    {
        await using var cluster = new MembershipTestCluster();
        var a = cluster.Create("a", 11111);

        await a.Manager.JoinAsync(CancellationToken.None);
        Assert.Equal(SiloStatus.Joining, await cluster.StatusInTableAsync(a.Address));
        Assert.Equal(SiloStatus.Joining, a.Manager.CurrentSnapshot.GetStatus(a.Address));

        await a.Manager.BecomeActiveAsync(CancellationToken.None);
        var b = await cluster.StartAsync("b", 11112);
        await a.Manager.RefreshAsync();

        Assert.Equal(SiloStatus.Active, await cluster.StatusInTableAsync(a.Address));
        Assert.Equal([a.Address, b.Address], a.Manager.CurrentSnapshot.ActiveSilos.ToArray());
        var versions = a.Views.Select(v => v.Version).ToList();
        Assert.Equal(versions.Order().Distinct(), versions);
        Assert.Equal(4, a.Manager.CurrentSnapshot.Version);
        var row = (await cluster.Table.ReadAll()).Find(a.Address)!.Entry;
        Assert.Equal(12111, row.GatewayPort);
        Assert.Equal("a", row.SiloName);
        Assert.Equal(MembershipTestCluster.Start, row.StartTime);
    }

    [Fact]
    public async Task A_killed_silo_is_suspected_after_the_miss_limit_and_declared_Dead_once_by_the_second_vote()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        var c = await cluster.StartAsync("c", 3);
        cluster.Network.Kill(c.Address);

        // Rounds 1 and 2: misses below NumMissedProbesLimit (3) write nothing.
        await cluster.ProbeRoundAsync(a, b);
        await cluster.ProbeRoundAsync(a, b);
        Assert.Equal(0, a.Manager.VotesWritten + b.Manager.VotesWritten);

        // Round 3: a votes (1 of 2 needed in a 3-silo cluster), then b's vote declares c Dead.
        await cluster.ProbeRoundAsync(a);
        var suspected = (await cluster.Table.ReadAll()).Find(c.Address)!.Entry;
        Assert.Equal(SiloStatus.Active, suspected.Status);
        Assert.Equal([a.Address], suspected.SuspectVotes.Select(v => v.Voter));
        Assert.Equal(2, a.Manager.VotesRequired(await cluster.Table.ReadAll()));

        await cluster.ProbeRoundAsync(b);
        var dead = (await cluster.Table.ReadAll()).Find(c.Address)!.Entry;
        Assert.Equal(SiloStatus.Dead, dead.Status);
        Assert.Equal([a.Address, b.Address], dead.SuspectVotes.Select(v => v.Voter));
        Assert.Equal(1, b.Manager.DeathDeclarations);

        // Later rounds neither probe nor declare the dead silo again.
        var probesOfC = a.Prober.ProbesOf(c.Address) + b.Prober.ProbesOf(c.Address);
        await cluster.ProbeRoundAsync(a, b);
        await cluster.ProbeRoundAsync(a, b);
        Assert.Equal(1, cluster.TotalDeathDeclarations);
        Assert.Equal(probesOfC, a.Prober.ProbesOf(c.Address) + b.Prober.ProbesOf(c.Address));
        Assert.Equal(SiloStatus.Dead, a.Manager.CurrentSnapshot.GetStatus(c.Address));
        Assert.Equal([a.Address, b.Address], a.Manager.CurrentSnapshot.ActiveSilos.ToArray());
    }

    [Fact]
    public async Task In_a_two_silo_cluster_one_vote_declares_the_other_Dead()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        cluster.Network.Kill(b.Address);

        for (var round = 0; round < cluster.Options.NumMissedProbesLimit; round++)
        {
            await cluster.ProbeRoundAsync(a);
        }

        Assert.Equal(SiloStatus.Dead, await cluster.StatusInTableAsync(b.Address));
        Assert.Equal(1, a.Manager.DeathDeclarations);
        Assert.Equal(1, a.Manager.VotesWritten);
    }

    [Fact]
    public async Task Misses_that_stop_short_of_the_limit_are_forgiven_by_an_answer()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        var network = new FakeNetwork();
        var flaky = new FlakyProber();
        var manager = new MembershipTableManager(
            cluster.Table, new FixedSiloDetails(new SiloAddress("127.0.0.1", 3, 1), "c", 0), flaky, new RecordingTerminator(),
            Options.Create(cluster.Options), cluster.Time) { RunLoops = false };
        await using var _ = manager;
        await manager.JoinAsync(CancellationToken.None);
        await manager.BecomeActiveAsync(CancellationToken.None);

        // Two misses, an answer, two misses: never three in a row.
        foreach (var answers in new[] { false, false, true, false, false })
        {
            flaky.Answer = answers;
            cluster.Time.Advance(cluster.Options.ProbePeriod);
            await manager.RefreshAsync();
            await manager.ProbeRoundAsync(CancellationToken.None);
        }

        Assert.Equal(0, manager.VotesWritten);
        Assert.All((await cluster.Table.ReadAll()).Rows, r => Assert.Empty(r.Entry.SuspectVotes));
    }

    [Fact]
    public async Task An_expired_vote_does_not_count_toward_a_death_declaration()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        var c = await cluster.StartAsync("c", 3);
        cluster.Network.Kill(c.Address);
        Assert.False(await a.Manager.TrySuspectOrKillAsync(c.Address, CancellationToken.None));

        cluster.Time.Advance(cluster.Options.DeathVoteExpiration + TimeSpan.FromSeconds(1));
        Assert.False(await b.Manager.TrySuspectOrKillAsync(c.Address, CancellationToken.None));

        var entry = (await cluster.Table.ReadAll()).Find(c.Address)!.Entry;
        Assert.Equal(SiloStatus.Active, entry.Status);
        Assert.Equal([b.Address], entry.SuspectVotes.Select(v => v.Voter));
        Assert.True(await a.Manager.TrySuspectOrKillAsync(c.Address, CancellationToken.None));
    }

    [Fact]
    public async Task A_silo_cut_off_from_the_others_reads_itself_Dead_and_terminates_once()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        var c = await cluster.StartAsync("c", 3);
        cluster.Network.CutOff(c.Address);

        for (var round = 0; round < cluster.Options.NumMissedProbesLimit + 1; round++)
        {
            await cluster.ProbeRoundAsync(a, b, c);
        }

        // c's own votes on a and b were not enough (2 needed); a and b declared c Dead.
        var data = await cluster.Table.ReadAll();
        Assert.Equal(SiloStatus.Dead, data.Find(c.Address)!.Entry.Status);
        Assert.Equal(SiloStatus.Active, data.Find(a.Address)!.Entry.Status);
        Assert.Equal(SiloStatus.Active, data.Find(b.Address)!.Entry.Status);
        Assert.Equal(1, cluster.TotalDeathDeclarations);
        var reason = Assert.Single(c.Terminator.Reasons);
        Assert.Contains("Dead", reason, StringComparison.Ordinal);
        Assert.True(c.Manager.IsTerminated);
        Assert.Empty(a.Terminator.Reasons);
        Assert.Empty(b.Terminator.Reasons);

        // Further reads do not terminate it again.
        await c.Manager.RefreshAsync();
        Assert.Single(c.Terminator.Reasons);
    }

    [Fact]
    public async Task A_restarted_silo_joins_with_a_new_incarnation_and_its_old_row_is_marked_Dead()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        b.Manager.Abort();

        var b2 = await cluster.StartAsync("b", 2, generation: 2);
        await a.Manager.RefreshAsync();

        var view = a.Manager.CurrentSnapshot;
        Assert.Equal(SiloStatus.Dead, view.GetStatus(b.Address));
        Assert.Equal(SiloStatus.Active, view.GetStatus(b2.Address));
        Assert.Equal(b2.Address, view.FindByName("b")!.Address);
        Assert.Equal([a.Address, b2.Address], view.ActiveSilos.ToArray());
        Assert.Empty(b2.Terminator.Reasons);
    }

    [Fact]
    public async Task An_old_incarnation_that_sees_its_successor_terminates_itself()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        await cluster.StartAsync("a", 1, generation: 2);

        await a.Manager.RefreshAsync();

        Assert.Single(a.Terminator.Reasons);
    }

    [Fact]
    public async Task Joining_beside_a_newer_live_incarnation_of_the_same_name_fails_with_a_clear_error()
    {
        await using var cluster = new MembershipTestCluster();
        await cluster.StartAsync("a", 1, generation: 5);
        var old = cluster.Create("a", 9, generation: 4);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => old.Manager.JoinAsync(CancellationToken.None));

        Assert.Contains("must not share a name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_graceful_shutdown_writes_ShuttingDown_then_Dead_and_does_not_terminate()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);

        await b.Manager.ShutdownAsync(CancellationToken.None);
        await a.Manager.RefreshAsync();

        Assert.Equal(SiloStatus.Dead, a.Manager.CurrentSnapshot.GetStatus(b.Address));
        Assert.Contains(b.Views, v => v.GetStatus(b.Address) == SiloStatus.ShuttingDown);
        Assert.Empty(b.Terminator.Reasons);
        Assert.Equal(0, cluster.TotalDeathDeclarations);
    }

    [Fact]
    public async Task A_silo_whose_IAmAlive_is_stale_is_suspected_without_missed_probes()
    {
        await using var cluster = new MembershipTestCluster();
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);

        // b answers probes but stopped writing IAmAlive (no loops run here); a keeps writing its own.
        cluster.Time.Advance(cluster.Options.IAmAliveStaleAfter + TimeSpan.FromSeconds(1));
        var own = (await cluster.Table.ReadAll()).Find(a.Address)!.Entry;
        await cluster.Table.UpdateIAmAlive(own with { IAmAliveTime = cluster.Time.GetUtcNow() });
        await a.Manager.RefreshAsync();
        await a.Manager.ProbeRoundAsync(CancellationToken.None);

        Assert.Equal(SiloStatus.Dead, await cluster.StatusInTableAsync(b.Address));
    }

    [Fact]
    public async Task Defunct_Dead_rows_are_deleted_after_the_expiration_and_live_rows_stay()
    {
        await using var cluster = new MembershipTestCluster(configure: o => o.DefunctSiloExpiration = TimeSpan.FromHours(2));
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        await b.Manager.ShutdownAsync(CancellationToken.None);

        cluster.Time.Advance(TimeSpan.FromHours(1));
        await a.Manager.CleanupDefunctRowsAsync(CancellationToken.None);
        Assert.Equal(2, (await cluster.Table.ReadAll()).Rows.Length);

        cluster.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await a.Manager.CleanupDefunctRowsAsync(CancellationToken.None);
        var row = Assert.Single((await cluster.Table.ReadAll()).Rows);
        Assert.Equal(a.Address, row.Entry.SiloAddress);
    }

    [Fact]
    public async Task With_running_loops_a_killed_silo_is_declared_Dead_in_every_view_as_time_passes()
    {
        await using var cluster = new MembershipTestCluster(runLoops: true);
        var a = await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        var c = await cluster.StartAsync("c", 3);
        await Poll.UntilAsync(
            () =>
            {
                cluster.Time.Advance(TimeSpan.FromMilliseconds(100));
                return new[] { a, b, c }.All(n => n.Manager.CurrentSnapshot.ActiveSilos.Length == 3);
            },
            "every silo to see three Active silos",
            () => string.Join(" | ", new[] { a, b, c }.Select(n => n.Manager.CurrentSnapshot.ToString())));

        cluster.Network.Kill(c.Address);
        c.Manager.Abort();
        var killedAt = cluster.Time.GetUtcNow();
        await Poll.UntilAsync(
            () =>
            {
                cluster.Time.Advance(TimeSpan.FromMilliseconds(100));
                return a.Manager.CurrentSnapshot.GetStatus(c.Address) == SiloStatus.Dead
                    && b.Manager.CurrentSnapshot.GetStatus(c.Address) == SiloStatus.Dead;
            },
            "a and b to see c Dead",
            () => $"a: {a.Manager.CurrentSnapshot} | b: {b.Manager.CurrentSnapshot}");

        var detection = cluster.Time.GetUtcNow() - killedAt;
        Assert.True(detection < TimeSpan.FromSeconds(10), $"Detection took {detection} of fake time with default options; expected under 10 s.");
        Assert.Equal(1, cluster.TotalDeathDeclarations);
        Assert.Empty(a.Terminator.Reasons);
        Assert.Empty(b.Terminator.Reasons);
    }

    [Fact]
    public async Task The_loops_write_IAmAlive_without_moving_the_table_version()
    {
        await using var cluster = new MembershipTestCluster(runLoops: true);
        var a = await cluster.StartAsync("a", 1);
        var version = (await cluster.Table.ReadAll()).Version.Version;

        cluster.Time.Advance(cluster.Options.IAmAlivePeriod);

        await Poll.UntilAsync(
            async () => (await cluster.Table.ReadAll()).Find(a.Address)!.Entry.IAmAliveTime >= MembershipTestCluster.Start + cluster.Options.IAmAlivePeriod,
            "a's IAmAlive time to move",
            async () => (await cluster.Table.ReadAll()).ToString());
        Assert.Equal(version, (await cluster.Table.ReadAll()).Version.Version);
    }

    [Fact]
    public async Task The_client_view_follows_the_table_and_lists_gateways_of_Active_silos()
    {
        await using var cluster = new MembershipTestCluster();
        var client = new ClientMembershipService(cluster.Table, Options.Create(cluster.Options), cluster.Time);
        await using var _ = client;
        var versions = new List<long>();
        client.SnapshotChanged += s => versions.Add(s.Version);
        await client.StartAsync(CancellationToken.None);

        await cluster.StartAsync("a", 1);
        var b = await cluster.StartAsync("b", 2);
        await Poll.UntilAsync(
            () =>
            {
                cluster.Time.Advance(cluster.Options.TableRefreshPeriod);
                return client.ActiveGateways.Count == 2;
            },
            "the client to list two gateways",
            () => client.CurrentSnapshot.ToString());
        Assert.Equal(["127.0.0.1:1001", "127.0.0.1:1002"], client.ActiveGateways);

        await b.Manager.ShutdownAsync(CancellationToken.None);
        await client.RefreshAsync();

        Assert.Equal(["127.0.0.1:1001"], client.ActiveGateways);
        Assert.Equal(versions.Order().Distinct(), versions);
    }
}

internal sealed class FlakyProber : ISiloProber
{
    public volatile bool Answer = true;

    public Task<bool> ProbeAsync(SiloAddress target, TimeSpan timeout, CancellationToken cancellationToken = default) => Task.FromResult(Answer);
}
