using System.Net;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite.Tests.Contract;

/// <summary>
/// The contract every clustering and grain storage provider keeps, run unchanged against each
/// provider (SQLite, Azure on Azurite): conditional writes on the membership table version and row
/// etags, and ETag-conditional grain state. A subclass supplies the providers.
/// </summary>
/// <remarks>Each test works in its own cluster id (and, for Azure, its own table and container), so
/// tests never see each other's rows. Times are whole seconds in UTC: every provider keeps at least
/// that precision.</remarks>
public abstract partial class ProviderContractTests : IAsyncLifetime
{
    protected ProviderContractTests()
    {
        var now = DateTime.UtcNow;
        Now = new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, DateTimeKind.Utc);
    }

    /// <summary>The test's start, in whole seconds.</summary>
    protected DateTime Now { get; }

    /// <summary>A cluster id no other test uses.</summary>
    protected static string NewClusterId() => $"cluster-{Guid.NewGuid():N}"[..20];

    /// <summary>A membership table of <paramref name="clusterId"/>, not yet initialized. Tables of
    /// several cluster ids made by one test share one store (file or storage table).</summary>
    protected abstract Task<IMembershipTable> CreateMembershipTableAsync(string clusterId);

    /// <summary>A grain storage provider; two made by one test share one store.</summary>
    protected abstract Task<IGrainStorage> CreateGrainStorageAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private async Task<IMembershipTable> InitializedTableAsync(string? clusterId = null)
    {
        var table = await CreateMembershipTableAsync(clusterId ?? NewClusterId());
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private MembershipEntry Entry(int port, SiloStatus status = SiloStatus.Joining, int generation = 1) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation),
        Status = status,
        ProxyPort = port + 1000,
        HostName = "host-a",
        SiloName = $"silo{port}",
        StartTime = Now,
        IAmAliveTime = Now,
    };

    private static MembershipEntry Copy(MembershipEntry entry, Action<MembershipEntry> change)
    {
        var copy = new MembershipEntry
        {
            SiloAddress = entry.SiloAddress,
            Status = entry.Status,
            SuspectTimes = entry.SuspectTimes is null ? null : [.. entry.SuspectTimes],
            ProxyPort = entry.ProxyPort,
            HostName = entry.HostName,
            SiloName = entry.SiloName,
            RoleName = entry.RoleName,
            UpdateZone = entry.UpdateZone,
            FaultZone = entry.FaultZone,
            StartTime = entry.StartTime,
            IAmAliveTime = entry.IAmAliveTime,
        };
        change(copy);
        return copy;
    }

    private static async Task<bool> InsertAsync(IMembershipTable table, MembershipEntry entry) =>
        await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next());
}
