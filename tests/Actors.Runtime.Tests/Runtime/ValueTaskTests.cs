using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>ValueTask and ValueTask&lt;T&gt; grain methods across silos.</summary>
public sealed class ValueTaskTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task ClientCallsValueTaskMethodsOnAGrainBehindAnotherSilo()
    {
        var grain = await GrainAwayFromAsync(await GatewayAsync(), "vt-client");
        var where = await grain.WhereAmI();

        Assert.Equal(42, await grain.Double(21));
        Assert.Equal($"hello ada from {where}", await grain.Greet("ada"));
        await grain.Store("kept");
        Assert.Equal("kept", await grain.Load());
    }

    [Fact]
    public async Task ValueTaskExceptionsArriveWithTheirTypeAndMessage()
    {
        var grain = await GrainAwayFromAsync(await GatewayAsync(), "vt-throw");
        var viaSilo = fixture.Cluster.Silos.First(s => !s.Silo.HostsActivation(grain.GetGrainId()))
            .GrainFactory.GetGrain<IValueTaskGrain>(grain.GetPrimaryKeyString());

        // From the client (through a gateway that does not host the grain) and from another silo.
        foreach (var (caller, from) in new[] { (grain, "client"), (viaSilo, "silo") })
        {
            var thrownBeforeReturn = await Assert.ThrowsAsync<ThrowingGrainException>(async () => await caller.Fail($"sync failure from {from}"));
            var thrownAfterAwait = await Assert.ThrowsAsync<ThrowingGrainException>(async () => await caller.FailAfterAwait($"async failure from {from}"));

            Assert.Equal($"sync failure from {from}", thrownBeforeReturn.Message);
            Assert.Equal($"async failure from {from}", thrownAfterAwait.Message);
        }

        Assert.Equal(4, await grain.Double(2));
    }

    [Fact]
    public async Task GrainCallsValueTaskMethodsOfAGrainOnAnotherSilo()
    {
        var first = fixture.Cluster.Client.GetGrain<IValueTaskGrain>(Keys.New("vt-caller"));
        var firstSilo = await first.WhereAmI();
        var second = await GrainAwayFromAsync(firstSilo, "vt-callee");

        Assert.Equal(14, await first.DoubleVia(second.GetPrimaryKeyString(), 7));

        // The exception crosses two hops: the callee's silo to the caller's, then on to the client.
        var error = await Assert.ThrowsAsync<ThrowingGrainException>(async () => await first.FailVia(second.GetPrimaryKeyString(), "two hops"));
        Assert.Equal("two hops", error.Message);
        Assert.NotEqual(firstSilo, await second.WhereAmI());
    }

    /// <summary>The silo the client's calls enter the cluster through.</summary>
    private async Task<string> GatewayAsync()
    {
        var client = (Client.ClusterClient)fixture.Cluster.Client;
        await client.GetGrain<IValueTaskGrain>(Keys.New("vt-connect")).WhereAmI();
        return client.CurrentGateway!.ToString();
    }

    /// <summary>A fresh grain whose activation is not on the silo <paramref name="avoid"/>.</summary>
    private async Task<IValueTaskGrain> GrainAwayFromAsync(string avoid, string prefix)
    {
        for (var i = 0; i < 100; i++)
        {
            var candidate = fixture.Cluster.Client.GetGrain<IValueTaskGrain>(Keys.New(prefix));
            if (await candidate.WhereAmI() != avoid)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"100 grains all landed on {avoid}; placement is not spreading grains.");
    }
}
