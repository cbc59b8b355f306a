using Actors.Orleans.Sqlite.Tests.Support;
using Actors.Testing;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite.Tests.Contract;

/// <summary>The provider contract on Orleans' own Azure Table clustering and Azure Blob grain
/// storage, against Azurite. Each test has its own table and container.</summary>
public sealed class AzureProviderContractTests(Azurite azurite) : ProviderContractTests, IClassFixture<Azurite>
{
    private readonly ProviderHosts hosts = new();
    private readonly string tableName = Azurite.UniqueName("membership");
    private readonly string containerName = Azurite.UniqueName("grainstate");

    protected override Task<IMembershipTable> CreateMembershipTableAsync(string clusterId) =>
        Task.FromResult(hosts
            .Build(clusterId, silo => silo.UseAzureStorageClustering(options =>
            {
                options.TableServiceClient = new TableServiceClient(azurite.ConnectionString);
                options.TableName = tableName;
            }))
            .GetRequiredService<IMembershipTable>());

    protected override async Task<IGrainStorage> CreateGrainStorageAsync()
    {
        var storage = hosts
            .Build(NewClusterId(), silo => silo
                .UseAzureStorageClustering(options =>
                {
                    // The default JSON state serializer is built from services that need a membership table.
                    options.TableServiceClient = new TableServiceClient(azurite.ConnectionString);
                    options.TableName = tableName;
                })
                .AddAzureBlobGrainStorage("contract", options =>
                {
                    options.BlobServiceClient = new BlobServiceClient(azurite.ConnectionString);
                    options.ContainerName = containerName;
                }))
            .GetRequiredKeyedService<IGrainStorage>("contract");

        // The provider connects in its silo lifecycle stage; run that stage alone.
        var lifecycle = new StartOnlyLifecycle();
        ((ILifecycleParticipant<ISiloLifecycle>)storage).Participate(lifecycle);
        await lifecycle.StartAsync();
        return storage;
    }

    /// <summary>Orleans writes the row and the version in one table transaction with both ETags, and
    /// Azure checks both; Azurite 3.37.0 ignores If-Match on an update inside a transaction
    /// (Azure/Azurite#1233), so the stale row ETag is not caught here. The version ETag is, which the
    /// other membership tests show.</summary>
    [Fact(Skip = "Azurite ignores If-Match on updates inside a table transaction (Azure/Azurite#1233); real Azure Table storage enforces it.")]
    public override Task Membership_an_update_with_a_stale_row_etag_returns_false_even_with_a_fresh_version() =>
        base.Membership_an_update_with_a_stale_row_etag_returns_false_even_with_a_fresh_version();

    public override Task DisposeAsync()
    {
        hosts.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A silo lifecycle that only starts its observers, in stage order.</summary>
    private sealed class StartOnlyLifecycle : ISiloLifecycle
    {
        private readonly List<(int Stage, ILifecycleObserver Observer)> observers = [];

        public int HighestCompletedStage { get; private set; }

        public int LowestStoppedStage => int.MaxValue;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            observers.Add((stage, observer));
            return new NoUnsubscribe();
        }

        public async Task StartAsync()
        {
            foreach (var (stage, observer) in observers.OrderBy(o => o.Stage))
            {
                await observer.OnStart(CancellationToken.None);
                HighestCompletedStage = stage;
            }
        }

        private sealed class NoUnsubscribe : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}
