using Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Actors.Testing;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>A 3-silo cluster shared by the tests of one class: response timeout 2 s, frames up to 256 KiB.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int MaxFrameBytes = 256 * 1024;

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(3)
            .AddConfiguration("Actors:Messaging:ResponseTimeout", "00:00:02")
            .AddConfiguration("Actors:Messaging:MaxFrameBytes", MaxFrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .ConfigureSilo(silo => silo.AddMemoryGrainStorage())
            .ConfigureSilo(silo => silo.Services.AddSingleton<Grains.HighestPortDirector>());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Polling with a deadline: never a fixed sleep.</summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string awaited, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {awaited}; last seen: {Describe(last)}.");
            }

            await Task.Delay(20);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string awaited, Func<string> seen, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), ok => ok, awaited + $" (seen: {seen()})", timeout);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable items and not string => "[" + string.Join(", ", items.Cast<object>()) + "]",
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary>Keys unique per test (grains are shared across a fixture's tests).</summary>
public static class Keys
{
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
