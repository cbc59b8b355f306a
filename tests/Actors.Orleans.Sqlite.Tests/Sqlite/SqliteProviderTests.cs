using System.Net;
using Actors.Orleans.Sqlite.Tests.Support;
using Actors.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite.Tests.Sqlite;

/// <summary>What the SQLite providers promise beyond the shared contract: the file's durability
/// settings, stricter version checks, several clusters in one file, the gateway list, and errors
/// that name the setting.</summary>
public sealed class SqliteProviderTests : IDisposable
{
    private readonly TempDirectory directory = new("sqlite-providers");
    private readonly ProviderHosts hosts = new();

    public void Dispose()
    {
        hosts.Dispose();
        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private SqliteMembershipTable Table(string clusterId = "c1", string? path = null) =>
        new(Options.Create(new SqliteClusteringOptions { DatabasePath = path ?? directory.File("cluster.db") }), Options.Create(new ClusterOptions { ClusterId = clusterId }));

    private static MembershipEntry Entry(int port, SiloStatus status, int proxyPort = 0) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 1),
        Status = status,
        ProxyPort = proxyPort,
        SiloName = $"silo{port}",
        HostName = "host",
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
    };

    [Fact]
    public async Task The_file_is_in_wal_mode_and_connections_sync_fully()
    {
        var table = Table();
        await table.InitializeMembershipTableAsync(true);

        using var connection = new SqliteConnection($"Data Source={table.DatabasePath}");
        connection.Open();
        using var journal = connection.CreateCommand();
        journal.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", journal.ExecuteScalar() as string);
        var database = new SqliteDatabase(table.DatabasePath, TimeSpan.FromSeconds(1), "test");
        using var opened = database.Open();
        using var synchronous = opened.CreateCommand();
        synchronous.CommandText = "PRAGMA synchronous;";
        Assert.Equal(2L, synchronous.ExecuteScalar()); // 2 = FULL
    }

    [Fact]
    public async Task A_version_that_skips_ahead_is_refused()
    {
        var table = Table();
        await table.InitializeMembershipTableAsync(true);
        var read = (await table.ReadAllAsync()).Version;

        Assert.False(await table.InsertRowAsync(Entry(1, SiloStatus.Joining), read.Next().Next()));
        Assert.Empty((await table.ReadAllAsync()).Members);
    }

    [Fact]
    public async Task Cleanup_dates_rows_by_their_IAmAlive_time()
    {
        var table = Table();
        await table.InitializeMembershipTableAsync(true);
        var old = Entry(1, SiloStatus.Dead);
        old.IAmAliveTime = DateTime.UtcNow.AddDays(-10);
        Assert.True(await table.InsertRowAsync(old, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(Entry(2, SiloStatus.Dead), (await table.ReadAllAsync()).Version.Next()));

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-1));

        Assert.Equal("silo2", Assert.Single((await table.ReadAllAsync()).Members).Item1.SiloName);
    }

    [Fact]
    public async Task Two_clusters_share_one_file_without_seeing_each_other()
    {
        var a = Table("a");
        var b = Table("b");
        await a.InitializeMembershipTableAsync(true);
        await b.InitializeMembershipTableAsync(true);

        Assert.True(await a.InsertRowAsync(Entry(1, SiloStatus.Active), (await a.ReadAllAsync()).Version.Next()));

        Assert.Single((await Table("a").ReadAllAsync()).Members);
        Assert.Empty((await b.ReadAllAsync()).Members);
        Assert.Equal(0, (await b.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task The_gateway_list_holds_the_active_silos_that_accept_clients()
    {
        var table = Table();
        await table.InitializeMembershipTableAsync(true);
        foreach (var entry in new[] { Entry(1, SiloStatus.Active, proxyPort: 2001), Entry(2, SiloStatus.Active), Entry(3, SiloStatus.Dead, proxyPort: 2003), Entry(4, SiloStatus.Joining, proxyPort: 2004) })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var gateways = new SqliteGatewayListProvider(
            Options.Create(new SqliteClusteringOptions { DatabasePath = table.DatabasePath, MaxStaleness = TimeSpan.FromSeconds(5) }),
            Options.Create(new ClusterOptions { ClusterId = "c1" }));
        await gateways.InitializeGatewayListProviderAsync();

        var uri = Assert.Single(await gateways.GetGatewaysAsync());
        Assert.Equal(SiloAddress.New(IPAddress.Loopback, 2001, 1).ToGatewayUri(), uri);
        Assert.Equal(TimeSpan.FromSeconds(5), gateways.MaxStaleness);
    }

    [Fact]
    public async Task A_client_may_read_gateways_before_any_silo_created_the_file()
    {
        var gateways = new SqliteGatewayListProvider(
            Options.Create(new SqliteClusteringOptions { DatabasePath = directory.File("later/cluster.db") }),
            Options.Create(new ClusterOptions { ClusterId = "c1" }));

        await gateways.InitializeGatewayListProviderAsync();

        Assert.Empty(await gateways.GetGatewaysAsync());
    }

    [Fact]
    public void An_empty_clustering_path_fails_naming_the_setting()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => Table(path: " "));

        Assert.Contains("SqliteClusteringOptions.DatabasePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_non_positive_busy_timeout_fails_naming_the_setting()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => new SqliteClusteringOptions { DatabasePath = "x.db", BusyTimeout = TimeSpan.Zero }.Validate());

        Assert.Contains("SqliteClusteringOptions.BusyTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unopenable_clustering_path_fails_naming_the_setting_and_the_file()
    {
        var blocker = directory.File("not-a-folder");
        await File.WriteAllTextAsync(blocker, "x");
        var table = Table(path: Path.Combine(blocker, "cluster.db"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => table.InitializeMembershipTableAsync(true));

        Assert.Contains("SqliteClusteringOptions.DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grain_storage_without_a_path_fails_naming_the_setting_and_the_provider()
    {
        var services = hosts.Build("c1", silo => silo.AddSqliteGrainStorage("orders", _ => { }));

        var error = Assert.Throws<OrleansConfigurationException>(() => services.GetRequiredKeyedService<IGrainStorage>("orders"));

        Assert.Contains("SqliteGrainStorageOptions.DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("'orders'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_with_a_bad_option_fails_to_start_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo => silo
            .UseSqliteClustering(options => (options.DatabasePath, options.MaxStaleness) = (directory.File("cluster.db"), TimeSpan.FromSeconds(-1)))
            .AddSqliteGrainStorageAsDefault(options => options.DatabasePath = directory.File("grains.db")));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OrleansConfigurationException>(() => host.StartAsync());

        Assert.Contains("SqliteClusteringOptions.MaxStaleness", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grain_state_survives_a_new_provider_on_the_same_file()
    {
        var path = directory.File("grains.db");
        var first = hosts.Build("c1", silo => silo.AddSqliteGrainStorageAsDefault(options => options.DatabasePath = path)).GetRequiredKeyedService<IGrainStorage>("Default");
        var written = new GrainState<CounterState>(new CounterState { Value = 41 }, null!);
        await first.WriteStateAsync("counter", GrainId.Create("account", "7"), written, CancellationToken.None);

        var second = hosts.Build("c1", silo => silo.UseEmbeddedSqlite(directory.Path)).GetRequiredKeyedService<IGrainStorage>("Default");
        var read = new GrainState<CounterState>();
        await second.ReadStateAsync("counter", GrainId.Create("account", "7"), read, CancellationToken.None);

        Assert.Equal(41, read.State!.Value);
        Assert.Equal(written.ETag, read.ETag);
    }

    [Fact]
    public async Task An_etag_read_gives_the_etag_a_full_read_gives_without_the_state()
    {
        var path = directory.File("grains.db");
        var storage = (SqliteGrainStorage)hosts.Build("c1", silo => silo.AddSqliteGrainStorageAsDefault(options => options.DatabasePath = path)).GetRequiredKeyedService<IGrainStorage>("Default");
        var grain = GrainId.Create("account", "8");
        Assert.Null(await storage.ReadETagAsync("counter", grain, CancellationToken.None));

        var mine = new GrainState<CounterState>(new CounterState { Value = 1 }, null!);
        await storage.WriteStateAsync("counter", grain, mine, CancellationToken.None);
        Assert.Equal(mine.ETag, await storage.ReadETagAsync("counter", grain, CancellationToken.None));

        // Another writer (a second activation) moves the stored ETag on; a full read agrees with the ETag read.
        var other = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", grain, other, CancellationToken.None);
        other.State!.Value = 2;
        await storage.WriteStateAsync("counter", grain, other, CancellationToken.None);
        var stored = await storage.ReadETagAsync("counter", grain, CancellationToken.None);
        Assert.NotEqual(mine.ETag, stored);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", grain, read, CancellationToken.None);
        Assert.Equal(read.ETag, stored);

        // A clear keeps the row with a fresh ETag, which the ETag read reports too.
        await storage.ClearStateAsync("counter", grain, read, CancellationToken.None);
        Assert.Equal(read.ETag, await storage.ReadETagAsync("counter", grain, CancellationToken.None));
    }
}
