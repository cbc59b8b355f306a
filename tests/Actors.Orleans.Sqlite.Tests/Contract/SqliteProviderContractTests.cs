using Actors.Orleans.Sqlite.Tests.Support;
using Actors.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite.Tests.Contract;

/// <summary>The provider contract on the SQLite providers, resolved from silo hosts configured with
/// <c>UseSqliteClustering</c> and <c>AddSqliteGrainStorage</c>; one file per test.</summary>
public sealed class SqliteProviderContractTests : ProviderContractTests
{
    private readonly TempDirectory directory = new("sqlite-contract");
    private readonly ProviderHosts hosts = new();

    private string DatabasePath => directory.File("providers.db");

    protected override Task<IMembershipTable> CreateMembershipTableAsync(string clusterId) =>
        Task.FromResult(hosts
            .Build(clusterId, silo => silo.UseSqliteClustering(options => options.DatabasePath = DatabasePath))
            .GetRequiredService<IMembershipTable>());

    protected override Task<IGrainStorage> CreateGrainStorageAsync() =>
        Task.FromResult(hosts
            .Build(NewClusterId(), silo => silo.AddSqliteGrainStorage("contract", options => options.DatabasePath = DatabasePath))
            .GetRequiredKeyedService<IGrainStorage>("contract"));

    public override Task DisposeAsync()
    {
        hosts.Dispose();
        SqliteConnection.ClearAllPools();
        directory.Dispose();
        return Task.CompletedTask;
    }
}
