using System.Collections.Immutable;
using Actors.Membership;
using Actors.Placement;
using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

public sealed class PlacementTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task SiloPinnedGrainRunsOnTheSiloNamedInItsKey()
    {
        foreach (var silo in fixture.Cluster.Silos)
        {
            var grain = fixture.Cluster.Client.GetGrain<IPinnedGrain>($"{Guid.NewGuid():N}@{silo.Name}");

            Assert.Equal(silo.SiloAddress.ToString(), await grain.WhereAmI());
        }
    }

    [Fact]
    public async Task SiloPinnedGrainOnAnUnknownSiloFailsAtOnce()
    {
        var grain = fixture.Cluster.Client.GetGrain<IPinnedGrain>("x@no-such-silo");

        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => grain.WhereAmI());

        Assert.Contains("no-such-silo", error.Message);
    }

    [Fact]
    public async Task DirectedPlacementAsksTheRegisteredDirector()
    {
        var highest = fixture.Cluster.Silos.OrderByDescending(s => s.SiloAddress.Port).First();

        var wheres = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => fixture.Cluster.Client.GetGrain<IDirectedGrain>(Keys.New($"directed{i}")).WhereAmI()));

        Assert.All(wheres, w => Assert.Equal(highest.SiloAddress.ToString(), w));
    }

    [Fact]
    public async Task DefaultPlacementSpreadsGrainsOverEverySilo()
    {
        var wheres = await Task.WhenAll(Enumerable.Range(0, 60)
            .Select(i => fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New($"spread{i}")).WhereAmI()));

        Assert.Equal(fixture.Cluster.Silos.Count, wheres.Distinct().Count());
    }

    [Fact]
    public void RendezvousHashIsStableAndMovesOnlyTheRemovedSilosGrains()
    {
        var silos = Enumerable.Range(0, 5).Select(i => new SiloAddress("10.0.0.1", 11111 + i, 1)).ToImmutableArray();
        var fewer = silos.RemoveAt(2);
        var grains = Enumerable.Range(0, 2000).Select(i => new GrainId("probe", $"k{i}")).ToArray();

        var moved = 0;
        foreach (var grain in grains)
        {
            var before = RendezvousHash.Pick(grain, silos, RendezvousHash.PlacementSalt)!;
            var after = RendezvousHash.Pick(grain, fewer, RendezvousHash.PlacementSalt)!;
            Assert.Equal(before, RendezvousHash.Pick(grain, silos.Reverse().ToImmutableArray(), RendezvousHash.PlacementSalt));
            if (!before.Equals(after))
            {
                Assert.Equal(silos[2], before);
                moved++;
            }
        }

        // Each silo holds about a fifth of the grains; only the removed silo's grains move.
        Assert.InRange(moved, 300, 500);
    }
}
