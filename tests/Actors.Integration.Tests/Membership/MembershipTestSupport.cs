using Actors.Hosting;
using Actors.Membership;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Integration.Tests.Membership;

/// <summary>A fresh temp folder per test, deleted after.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"actors-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A killed child process may still hold a file; the folder is under the temp root.
        }
    }
}

internal static class MembershipTestSupport
{
    /// <summary>Protocol timings for in-process tests: half the defaults, so tests stay short.</summary>
    public static readonly ClusterMembershipOptions FastOptions = new()
    {
        ProbePeriod = TimeSpan.FromMilliseconds(500),
        ProbeTimeout = TimeSpan.FromMilliseconds(500),
        NumMissedProbesLimit = 3,
        TableRefreshPeriod = TimeSpan.FromMilliseconds(500),
        IAmAlivePeriod = TimeSpan.FromSeconds(2),
    };

    /// <summary>The longest a death should take with <see cref="FastOptions"/>: every probe timing out,
    /// two voters, one refresh, plus generous slack for a loaded 2-core machine.</summary>
    public static readonly TimeSpan DetectionDeadline =
        ((FastOptions.ProbePeriod + FastOptions.ProbeTimeout) * (FastOptions.NumMissedProbesLimit + 1)) + (FastOptions.TableRefreshPeriod * 2) + TimeSpan.FromSeconds(10);

    /// <summary>A cluster whose silos and client use the SQLite membership file and SQLite grain storage.</summary>
    public static TestCluster SqliteCluster(TempFolder folder, int silos = 3, string clusterFile = "cluster.db", string grainsFile = "grains.db")
    {
        var builder = new TestClusterBuilder(silos)
            .AddConfiguration("Actors:Messaging:ResponseTimeout", "00:00:05")
            .ConfigureSilo(silo => silo
                .UseSqliteClustering(folder.File(clusterFile))
                .ConfigureMembership(Fast)
                .AddSqliteGrainStorage("Default", folder.File(grainsFile)))
            .ConfigureClient(client => client
                .UseSqliteClustering(folder.File(clusterFile))
                .ConfigureMembership(Fast));
        return builder.Build();
    }

    /// <summary>A cluster whose silos and client share one in-memory membership table, with memory grain storage.</summary>
    public static TestCluster InMemoryCluster(InMemoryMembershipTable table, int silos = 3) =>
        new TestClusterBuilder(silos)
            .AddConfiguration("Actors:Messaging:ResponseTimeout", "00:00:05")
            .ConfigureSilo(silo => silo.UseInMemoryClustering(table).ConfigureMembership(Fast).AddMemoryGrainStorage())
            .ConfigureClient(client => client.UseInMemoryClustering(table).ConfigureMembership(Fast))
            .Build();

    public static void Fast(ClusterMembershipOptions o)
    {
        o.ProbePeriod = FastOptions.ProbePeriod;
        o.ProbeTimeout = FastOptions.ProbeTimeout;
        o.NumMissedProbesLimit = FastOptions.NumMissedProbesLimit;
        o.TableRefreshPeriod = FastOptions.TableRefreshPeriod;
        o.IAmAlivePeriod = FastOptions.IAmAlivePeriod;
    }

    public static MembershipTableManager Oracle(this SiloHandle silo) => silo.Services.GetRequiredService<MembershipTableManager>();

    public static IClusterMembershipService View(this SiloHandle silo) => silo.Services.GetRequiredService<IClusterMembershipService>();

    /// <summary>Polls until <paramref name="condition"/> holds or the deadline passes; the failure names what was awaited and what was seen.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string awaited, Func<string> seen)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {awaited}; saw: {seen()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits until every listed silo sees <paramref name="target"/> with <paramref name="status"/>.</summary>
    public static Task WaitForStatusAsync(IEnumerable<SiloHandle> observers, SiloAddress target, SiloStatus status, TimeSpan timeout)
    {
        var list = observers.ToList();
        return WaitUntilAsync(
            () => list.All(o => o.View().CurrentSnapshot.GetStatus(target) == status),
            timeout,
            $"{string.Join(", ", list.Select(o => o.Name))} to see {target} {status}",
            () => string.Join(" | ", list.Select(o => $"{o.Name}: {o.View().CurrentSnapshot}")));
    }
}
