using System.Collections.Concurrent;
using Actors.Membership;

namespace Actors.Runtime.Tests.Membership;

/// <summary>Which silos can reach which, for unit tests of the membership oracle. Thread-safe.</summary>
internal sealed class FakeNetwork
{
    private readonly ConcurrentDictionary<SiloAddress, bool> down = new();
    private readonly ConcurrentDictionary<SiloAddress, bool> cutOff = new();

    /// <summary>The silo answers no probe (it was killed).</summary>
    public void Kill(SiloAddress silo) => down[silo] = true;

    /// <summary>Probes to and from the silo are dropped; it is alive but isolated.</summary>
    public void CutOff(SiloAddress silo) => cutOff[silo] = true;

    public bool CanReach(SiloAddress from, SiloAddress to) =>
        !down.ContainsKey(to) && !cutOff.ContainsKey(to) && !cutOff.ContainsKey(from);
}

/// <summary>An <see cref="ISiloProber"/> over a <see cref="FakeNetwork"/>; answers at once.</summary>
internal sealed class FakeProber(FakeNetwork network, Func<SiloAddress> self) : ISiloProber
{
    private readonly ConcurrentQueue<SiloAddress> probed = new();

    public int ProbesOf(SiloAddress target) => probed.Count(t => t == target);

    public Task<bool> ProbeAsync(SiloAddress target, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        probed.Enqueue(target);
        return Task.FromResult(network.CanReach(self(), target));
    }
}

internal sealed class RecordingTerminator : ISiloTerminator
{
    private readonly ConcurrentQueue<string> reasons = new();

    public IReadOnlyCollection<string> Reasons => reasons;

    public void TerminateSelf(string reason) => reasons.Enqueue(reason);
}

internal sealed record FixedSiloDetails(SiloAddress SiloAddress, string Name, int GatewayPort) : ILocalSiloDetails;

/// <summary>Polls a condition with a deadline; the failure names what was awaited and what was seen.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string awaited, Func<string> seen, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {awaited}; saw: {seen()}");
            }

            await Task.Delay(10);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string awaited, Func<Task<string>> seen, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {awaited}; saw: {await seen()}");
            }

            await Task.Delay(10);
        }
    }
}
