using System.Net;

namespace Actors.Orleans.Sqlite.Tests.Contract;

public abstract partial class ProviderContractTests
{
    [Fact]
    public async Task Membership_a_new_table_is_empty_at_version_zero_and_initializing_again_keeps_it()
    {
        var table = await InitializedTableAsync();
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);
        Assert.True(await InsertAsync(table, Entry(1)));

        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var data = await table.ReadAllAsync();
        Assert.Equal(1, data.Version.Version);
        Assert.Single(data.Members);
    }

    [Fact]
    public async Task Membership_insert_round_trips_every_field_and_moves_the_version_under_a_fresh_etag()
    {
        var table = await InitializedTableAsync();
        var before = (await table.ReadAllAsync()).Version;
        var entry = Copy(Entry(11111, SiloStatus.Active, generation: 7), e =>
        {
            e.SuspectTimes = [Tuple.Create(SiloAddress.New(IPAddress.Loopback, 2, 3), Now.AddSeconds(-5)), Tuple.Create(SiloAddress.New(IPAddress.Loopback, 4, 5), Now.AddSeconds(-2))];
            e.RoleName = "broker";
            e.UpdateZone = 3;
            e.FaultZone = 4;
            e.StartTime = Now.AddMinutes(-1);
        });

        Assert.True(await table.InsertRowAsync(entry, before.Next()));

        var data = await table.ReadAllAsync();
        Assert.Equal(1, data.Version.Version);
        Assert.NotEqual(before.VersionEtag, data.Version.VersionEtag);
        var (read, etag) = Assert.Single(data.Members);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(entry.SiloAddress, read.SiloAddress);
        Assert.Equal(entry.Status, read.Status);
        Assert.Equal(entry.ProxyPort, read.ProxyPort);
        Assert.Equal(entry.HostName, read.HostName);
        Assert.Equal(entry.SiloName, read.SiloName);
        Assert.Equal(entry.RoleName, read.RoleName);
        Assert.Equal(entry.UpdateZone, read.UpdateZone);
        Assert.Equal(entry.FaultZone, read.FaultZone);
        Assert.Equal(entry.StartTime, read.StartTime);
        Assert.Equal(entry.IAmAliveTime, read.IAmAliveTime);
        Assert.Equal(entry.SuspectTimes, read.SuspectTimes);
    }

    [Fact]
    public async Task Membership_a_write_with_a_stale_version_returns_false_and_changes_nothing()
    {
        var table = await InitializedTableAsync();
        var stale = (await table.ReadAllAsync()).Version;
        Assert.True(await table.InsertRowAsync(Entry(1), stale.Next()));
        var (row, etag) = (await table.ReadAllAsync()).Members.Single();

        Assert.False(await table.InsertRowAsync(Entry(2), stale.Next()));
        Assert.False(await table.UpdateRowAsync(Copy(row, e => e.Status = SiloStatus.Dead), etag, stale.Next()));

        var data = await table.ReadAllAsync();
        Assert.Equal(1, data.Version.Version);
        Assert.Equal(SiloStatus.Joining, Assert.Single(data.Members).Item1.Status);
    }

    [Fact]
    public virtual async Task Membership_an_update_with_a_stale_row_etag_returns_false_even_with_a_fresh_version()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));
        var first = await table.ReadAllAsync();
        var (row, etag) = first.Members.Single();
        Assert.True(await table.UpdateRowAsync(Copy(row, e => e.Status = SiloStatus.Active), etag, first.Version.Next()));

        var second = await table.ReadAllAsync();
        Assert.NotEqual(etag, second.Members.Single().Item2);
        Assert.False(await table.UpdateRowAsync(Copy(row, e => e.Status = SiloStatus.Dead), etag, second.Version.Next()));

        var data = await table.ReadAllAsync();
        Assert.Equal(SiloStatus.Active, data.Members.Single().Item1.Status);
        Assert.Equal(2, data.Version.Version);
    }

    [Fact]
    public async Task Membership_inserting_an_existing_row_returns_false_and_keeps_the_stored_one()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));

        Assert.False(await InsertAsync(table, Entry(1, SiloStatus.Active)));

        var data = await table.ReadAllAsync();
        Assert.Equal(SiloStatus.Joining, data.Members.Single().Item1.Status);
        Assert.Equal(1, data.Version.Version);
    }

    [Fact]
    public async Task Membership_IAmAlive_writes_only_the_alive_time_and_never_moves_the_version()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));
        var before = await table.ReadAllAsync();
        var (row, etag) = before.Members.Single();

        await table.UpdateIAmAliveAsync(Copy(row, e => (e.IAmAliveTime, e.Status) = (Now.AddMinutes(1), SiloStatus.Dead)));

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var (alive, aliveEtag) = after.Members.Single();
        Assert.Equal(Now.AddMinutes(1), alive.IAmAliveTime);
        Assert.Equal(SiloStatus.Joining, alive.Status);
        Assert.NotEqual(etag, aliveEtag);
        Assert.True(await table.UpdateRowAsync(Copy(alive, e => e.Status = SiloStatus.Active), aliveEtag, after.Version.Next()));
    }

    [Fact]
    public async Task Membership_ReadRow_returns_only_that_row_with_the_table_version()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));
        Assert.True(await InsertAsync(table, Entry(2)));

        var one = await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 2, 1));
        var none = await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 2, 99));

        Assert.Equal("silo2", Assert.Single(one.Members).Item1.SiloName);
        Assert.Equal(2, one.Version.Version);
        Assert.Empty(none.Members);
        Assert.Equal(one.Version, none.Version);
    }

    [Fact]
    public async Task Membership_cleanup_deletes_only_dead_rows_dated_before_the_date_and_keeps_the_version()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1, SiloStatus.Dead)));
        Assert.True(await InsertAsync(table, Entry(2, SiloStatus.Active)));
        Assert.True(await InsertAsync(table, Entry(3, SiloStatus.Joining)));
        var before = await table.ReadAllAsync();

        await table.CleanupDefunctSiloEntriesAsync(Now.AddDays(-1));
        Assert.Equal(3, (await table.ReadAllAsync()).Members.Count);

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(1));
        var after = await table.ReadAllAsync();
        Assert.Equal(["silo2", "silo3"], after.Members.Select(m => m.Item1.SiloName).Order().ToArray());
        Assert.Equal(before.Version, after.Version);
    }

    [Fact]
    public async Task Membership_deleting_a_clusters_entries_removes_its_rows_and_version_and_no_other_clusters()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var other = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));
        Assert.True(await InsertAsync(table, Entry(2)));
        Assert.True(await InsertAsync(other, Entry(1)));

        await table.DeleteMembershipTableEntriesAsync(clusterId);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var data = await table.ReadAllAsync();
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        var kept = await other.ReadAllAsync();
        Assert.Single(kept.Members);
        Assert.Equal(1, kept.Version.Version);
    }

    [Fact]
    public async Task Membership_writers_racing_on_the_same_read_produce_exactly_one_winner()
    {
        var table = await InitializedTableAsync();
        Assert.True(await InsertAsync(table, Entry(1)));
        var read = await table.ReadAllAsync();
        var (row, etag) = read.Members.Single();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            table.UpdateRowAsync(Copy(row, e => e.UpdateZone = 100 + i), etag, read.Version.Next()))));

        Assert.Equal(1, results.Count(r => r));
        var winner = Array.IndexOf(results, true);
        var data = await table.ReadAllAsync();
        Assert.Equal(100 + winner, data.Members.Single().Item1.UpdateZone);
        Assert.Equal(2, data.Version.Version);
    }

    [Fact]
    public async Task Membership_concurrent_read_modify_write_through_conditional_writes_loses_no_update()
    {
        const int writers = 4;
        const int incrementsEach = 15;
        var table = await InitializedTableAsync();
        var counter = Entry(1);
        Assert.True(await InsertAsync(table, counter));

        // Each writer reads the row and the version, adds one to UpdateZone and writes conditionally,
        // retrying on a fresh read until its write wins.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            for (var done = 0; done < incrementsEach;)
            {
                var data = await table.ReadRowAsync(counter.SiloAddress);
                var (row, etag) = data.Members.Single();
                if (await table.UpdateRowAsync(Copy(row, e => e.UpdateZone++), etag, data.Version.Next()))
                {
                    done++;
                }
            }
        })));

        var final = await table.ReadAllAsync();
        Assert.Equal(writers * incrementsEach, final.Members.Single().Item1.UpdateZone);
        Assert.Equal(1 + (writers * incrementsEach), final.Version.Version);
    }
}
