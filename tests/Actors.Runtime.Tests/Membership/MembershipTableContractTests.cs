using Actors.Membership;

namespace Actors.Runtime.Tests.Membership;

/// <summary>The conditional-write contract every <see cref="IMembershipTable"/> provider keeps.</summary>
public abstract class MembershipTableContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract IMembershipTable CreateTable();

    private static MembershipEntry Entry(int port, long generation = 1, SiloStatus status = SiloStatus.Joining) => new()
    {
        SiloAddress = new SiloAddress("127.0.0.1", port, generation),
        SiloName = $"silo{port}",
        Status = status,
        GatewayPort = port + 1000,
        StartTime = T0,
        IAmAliveTime = T0,
    };

    private async Task<IMembershipTable> InitializedAsync()
    {
        var table = CreateTable();
        await table.InitializeMembershipTable(tryInitTableVersion: true);
        return table;
    }

    [Fact]
    public async Task A_new_table_is_empty_at_version_zero_and_initializing_again_keeps_it()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));

        await table.InitializeMembershipTable(tryInitTableVersion: true);

        var data = await table.ReadAll();
        Assert.Equal(1, data.Version.Version);
        Assert.Single(data.Rows);
    }

    [Fact]
    public async Task Insert_round_trips_every_field_and_moves_the_version()
    {
        var table = await InitializedAsync();
        var entry = Entry(11111) with
        {
            SuspectVotes = [new SuspectVote(new SiloAddress("127.0.0.1", 2, 7), T0.AddSeconds(3))],
            StartTime = T0.AddMilliseconds(123),
        };

        Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));

        var data = await table.ReadAll();
        Assert.Equal(1, data.Version.Version);
        var row = Assert.Single(data.Rows);
        Assert.Equal(entry.SiloAddress, row.Entry.SiloAddress);
        Assert.Equal(entry.SiloName, row.Entry.SiloName);
        Assert.Equal(entry.Status, row.Entry.Status);
        Assert.Equal(entry.GatewayPort, row.Entry.GatewayPort);
        Assert.Equal(entry.StartTime, row.Entry.StartTime);
        Assert.Equal(entry.IAmAliveTime, row.Entry.IAmAliveTime);
        Assert.Equal(entry.SuspectVotes, row.Entry.SuspectVotes);
    }

    [Fact]
    public async Task A_write_with_a_stale_table_version_is_refused_and_changes_nothing()
    {
        var table = await InitializedAsync();
        var stale = (await table.ReadAll()).Version;
        Assert.True(await table.InsertRow(Entry(1), stale.Next()));

        Assert.False(await table.InsertRow(Entry(2), stale.Next()));
        var row = (await table.ReadAll()).Rows.Single();
        Assert.False(await table.UpdateRow(row.Entry with { Status = SiloStatus.Dead }, row.ETag, stale.Next()));

        var data = await table.ReadAll();
        Assert.Equal(1, data.Version.Version);
        Assert.Equal(SiloStatus.Joining, Assert.Single(data.Rows).Entry.Status);
    }

    [Fact]
    public async Task A_version_that_skips_ahead_is_refused()
    {
        var table = await InitializedAsync();
        var read = (await table.ReadAll()).Version;

        Assert.False(await table.InsertRow(Entry(1), read.Next().Next()));
        Assert.Empty((await table.ReadAll()).Rows);
    }

    [Fact]
    public async Task An_update_with_a_stale_row_etag_is_refused_even_with_a_fresh_version()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var first = await table.ReadAll();
        var row = first.Rows.Single();
        Assert.True(await table.UpdateRow(row.Entry with { Status = SiloStatus.Active }, row.ETag, first.Version.Next()));

        var second = await table.ReadAll();
        Assert.False(await table.UpdateRow(row.Entry with { Status = SiloStatus.Dead }, row.ETag, second.Version.Next()));

        var data = await table.ReadAll();
        Assert.Equal(SiloStatus.Active, data.Rows.Single().Entry.Status);
        Assert.Equal(2, data.Version.Version);
    }

    [Fact]
    public async Task Inserting_an_existing_row_is_refused()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));

        Assert.False(await table.InsertRow(Entry(1, status: SiloStatus.Active), (await table.ReadAll()).Version.Next()));

        Assert.Equal(SiloStatus.Joining, (await table.ReadAll()).Rows.Single().Entry.Status);
    }

    [Fact]
    public async Task IAmAlive_changes_only_the_alive_time_and_the_row_etag_not_the_version()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var before = await table.ReadAll();
        var row = before.Rows.Single();

        await table.UpdateIAmAlive(row.Entry with { IAmAliveTime = T0.AddMinutes(1), Status = SiloStatus.Dead });

        var after = await table.ReadAll();
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(T0.AddMinutes(1), after.Rows.Single().Entry.IAmAliveTime);
        Assert.Equal(SiloStatus.Joining, after.Rows.Single().Entry.Status);
        Assert.NotEqual(row.ETag, after.Rows.Single().ETag);
        Assert.False(await table.UpdateRow(row.Entry, row.ETag, after.Version.Next()));
    }

    [Fact]
    public async Task ReadRow_returns_only_that_row_with_the_table_version()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        Assert.True(await table.InsertRow(Entry(2), (await table.ReadAll()).Version.Next()));

        var one = await table.ReadRow(new SiloAddress("127.0.0.1", 2, 1));
        var none = await table.ReadRow(new SiloAddress("127.0.0.1", 2, 99));

        Assert.Equal("silo2", Assert.Single(one.Rows).Entry.SiloName);
        Assert.Equal(2, one.Version.Version);
        Assert.Empty(none.Rows);
    }

    [Fact]
    public async Task Cleanup_deletes_only_dead_rows_older_than_the_date()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1, status: SiloStatus.Dead), (await table.ReadAll()).Version.Next()));
        Assert.True(await table.InsertRow(Entry(2, status: SiloStatus.Active), (await table.ReadAll()).Version.Next()));
        Assert.True(await table.InsertRow(Entry(3, status: SiloStatus.Dead) with { IAmAliveTime = T0.AddHours(2) }, (await table.ReadAll()).Version.Next()));

        Assert.Equal(1, await table.CleanupDefunctSiloEntries(T0.AddHours(1)));

        Assert.Equal(["silo2", "silo3"], (await table.ReadAll()).Rows.Select(r => r.Entry.SiloName).Order().ToArray());
    }

    [Fact]
    public async Task Concurrent_writers_on_the_same_read_produce_exactly_one_winner()
    {
        var table = await InitializedAsync();
        Assert.True(await table.InsertRow(Entry(1), (await table.ReadAll()).Version.Next()));
        var read = await table.ReadAll();
        var row = read.Rows.Single();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            table.UpdateRow(row.Entry with { GatewayPort = 5000 + i }, row.ETag, read.Version.Next()))));

        Assert.Equal(1, results.Count(r => r));
        var winner = Array.IndexOf(results, true);
        Assert.Equal(5000 + winner, (await table.ReadAll()).Rows.Single().Entry.GatewayPort);
    }
}

public sealed class InMemoryMembershipTableTests : MembershipTableContractTests
{
    protected override IMembershipTable CreateTable() => new InMemoryMembershipTable();

    [Fact]
    public async Task Reading_before_initialization_fails_with_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new InMemoryMembershipTable().ReadAll());
        Assert.Contains("InitializeMembershipTable", error.Message, StringComparison.Ordinal);
    }
}
