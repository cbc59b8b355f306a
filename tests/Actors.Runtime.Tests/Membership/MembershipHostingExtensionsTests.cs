using Actors.Hosting;
using Actors.Membership;
using Actors.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Actors.Runtime.Tests.Membership;

public sealed class MembershipHostingExtensionsTests : IDisposable
{
    private readonly TempDirectory directory = new("hosting");

    public void Dispose() => directory.Dispose();

    private sealed class Builder(IConfiguration configuration) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();

        public IConfiguration Configuration { get; } = configuration;
    }

    private sealed class ClientBuilder(IConfiguration configuration) : IClientBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();

        public IConfiguration Configuration { get; } = configuration;
    }

    private static Builder SiloBuilder(Dictionary<string, string?>? settings = null)
    {
        var builder = new Builder(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build());
        var address = new SiloAddress("127.0.0.1", 11111, 1);
        builder.Services.AddSingleton<ILocalSiloDetails>(new FixedSiloDetails(address, "silo1", 30000));
        builder.Services.AddSingleton<ISiloProber>(new FakeProber(new FakeNetwork(), () => address));
        builder.Services.AddSingleton<ISiloTerminator>(new RecordingTerminator());
        return builder;
    }

    [Fact]
    public async Task Sqlite_clustering_registers_the_oracle_for_both_contracts_and_joins_through_the_file()
    {
        var builder = SiloBuilder(new() { ["Actors:Membership:ProbePeriod"] = "00:00:02" });
        builder.UseSqliteClustering(directory.File("cluster.db"));
        await using var services = builder.Services.BuildServiceProvider();

        var oracle = services.GetRequiredService<IClusterMembershipService>();
        Assert.Same(oracle, services.GetRequiredService<IMembershipLifecycle>());
        Assert.IsType<MembershipTableManager>(oracle);
        Assert.IsType<SqliteMembershipTable>(services.GetRequiredService<IMembershipTable>());
        Assert.Equal(TimeSpan.FromSeconds(2), services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value.ProbePeriod);

        var lifecycle = services.GetRequiredService<IMembershipLifecycle>();
        await lifecycle.JoinAsync(CancellationToken.None);
        await lifecycle.BecomeActiveAsync(CancellationToken.None);
        Assert.Single(oracle.CurrentSnapshot.ActiveSilos);
        await lifecycle.ShutdownAsync(CancellationToken.None);
        Assert.Empty(oracle.CurrentSnapshot.ActiveSilos);
    }

    [Fact]
    public void A_bad_membership_setting_from_configuration_is_named_when_options_are_read()
    {
        var builder = SiloBuilder(new() { ["Actors:Membership:NumMissedProbesLimit"] = "0" });
        builder.UseInMemoryClustering(new InMemoryMembershipTable());
        using var services = builder.Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value);

        Assert.Contains("ClusterMembershipOptions.NumMissedProbesLimit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_providers_are_keyed_by_name()
    {
        var builder = SiloBuilder();
        builder.AddMemoryGrainStorage().AddSqliteGrainStorage("durable", directory.File("grains.db"));
        using var services = builder.Services.BuildServiceProvider();

        Assert.IsType<MemoryGrainStorage>(services.GetRequiredKeyedService<IGrainStorage>("Default"));
        var sqlite = Assert.IsType<SqliteGrainStorage>(services.GetRequiredKeyedService<IGrainStorage>("durable"));
        Assert.Equal(directory.File("grains.db"), sqlite.DatabasePath);
    }

    [Fact]
    public void A_client_gets_the_table_reading_view()
    {
        var builder = new ClientBuilder(new ConfigurationBuilder().Build());
        var table = new InMemoryMembershipTable();
        builder.UseInMemoryClustering(table);
        using var services = builder.Services.BuildServiceProvider();

        Assert.IsType<ClientMembershipService>(services.GetRequiredService<IClusterMembershipService>());
        Assert.Same(table, services.GetRequiredService<IMembershipTable>());
    }

    [Fact]
    public void Sqlite_clustering_without_a_path_names_the_setting()
    {
        var builder = SiloBuilder();
        builder.UseSqliteClustering(_ => { });
        using var services = builder.Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SqliteClusteringOptions>>().Value);

        Assert.Contains("SqliteClusteringOptions.DatabasePath", error.Message, StringComparison.Ordinal);
    }
}
