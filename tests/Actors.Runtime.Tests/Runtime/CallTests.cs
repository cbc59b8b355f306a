using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

public sealed class CallTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task ClientCallsAGrainThroughAGateway()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("gateway"));

        var where = await grain.WhereAmI();

        Assert.Contains(fixture.Cluster.Silos, s => s.SiloAddress.ToString() == where);
        Assert.Equal(where, fixture.Cluster.FindActivationSilo(grain)!.SiloAddress.ToString());
    }

    [Fact]
    public async Task GrainCallsAGrainOnAnotherSilo()
    {
        var (first, second) = await TwoGrainsOnDifferentSilosAsync();

        var whereSecond = await first.CallOther(second.GetPrimaryKeyString());

        Assert.Equal(await second.WhereAmI(), whereSecond);
        Assert.NotEqual(await first.WhereAmI(), whereSecond);
    }

    [Fact]
    public async Task OneWayCallReturnsBeforeTheGrainFinishes()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("oneway"));

        // BlockOneWay never finishes until unblocked, yet the call returns.
        await grain.BlockOneWay();
        await Eventually.UntilAsync(() => grain.Notes(), n => n.Contains("blocked"), "the one-way call to start");
        await grain.UnblockOneWay();
        var notes = await Eventually.UntilAsync(() => grain.Notes(), n => n.Contains("unblocked"), "the one-way call to finish");

        Assert.Equal(["blocked", "unblocked"], notes);
    }

    [Fact]
    public async Task OneWayCallIsDelivered()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("notify"));

        await grain.Notify("hello");

        await Eventually.UntilAsync(() => grain.Notes(), n => n.Contains("hello"), "the one-way message");
    }

    [Fact]
    public async Task GrainExceptionReachesTheCallerWithItsTypeAndMessage()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("throw"));

        var invalid = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw("invalid", "bad state"));
        var custom = await Assert.ThrowsAsync<ThrowingGrainException>(() => grain.Throw("custom", "custom failure"));

        Assert.Equal("bad state", invalid.Message);
        Assert.Equal("custom failure", custom.Message);
    }

    [Fact]
    public async Task GrainExceptionCrossesSilosFromGrainToGrain()
    {
        var (first, second) = await TwoGrainsOnDifferentSilosAsync();
        var viaSilo = fixture.Cluster.FindActivationSilo(first)!.GrainFactory.GetGrain<IProbeGrain>(second.GetPrimaryKeyString());

        var error = await Assert.ThrowsAsync<ThrowingGrainException>(() => viaSilo.Throw("custom", "remote failure"));

        Assert.Equal("remote failure", error.Message);
    }

    [Fact]
    public async Task ExceptionOfAnUnusableTypeArrivesAsRemoteGrainException()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("unknown"));

        var error = await Assert.ThrowsAsync<RemoteGrainException>(() => grain.Throw("unknown", "abc"));

        Assert.Equal(typeof(UnconstructibleException).FullName, error.RemoteTypeName);
        Assert.Contains("code 3", error.Message);
    }

    [Fact]
    public async Task CallWithoutResponseTimesOutNamingGrainAndMethod()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("hang"));

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => grain.Hang());

        Assert.Contains("Hang", error.Message);
        Assert.Contains(grain.GetPrimaryKeyString(), error.Message);
        Assert.Contains("MessagingOptions.ResponseTimeout", error.Message);
    }

    [Fact]
    public async Task GrainToGrainCallTimesOutAcrossSilos()
    {
        var (first, second) = await TwoGrainsOnDifferentSilosAsync();
        var viaSilo = fixture.Cluster.FindActivationSilo(first)!.GrainFactory.GetGrain<IProbeGrain>(second.GetPrimaryKeyString());

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => viaSilo.Hang());

        Assert.Contains("IProbeGrain.Hang", error.Message);
    }

    [Fact]
    public async Task CancellationCrossesSilos()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("cancel"));
        await grain.WhereAmI();
        using var cts = new CancellationTokenSource();

        var call = grain.WaitForCancellation(cts.Token);
        await Eventually.UntilAsync(() => grain.CancellationState(), s => s == 1, "the grain to start waiting");
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually.UntilAsync(() => grain.CancellationState(), s => s == 2, "the grain's token to be cancelled");
    }

    [Fact]
    public async Task CancellationCrossesSilosFromGrainToGrain()
    {
        var (first, second) = await TwoGrainsOnDifferentSilosAsync();
        var viaSilo = fixture.Cluster.FindActivationSilo(first)!.GrainFactory.GetGrain<IProbeGrain>(second.GetPrimaryKeyString());
        using var cts = new CancellationTokenSource();

        var call = viaSilo.WaitForCancellation(cts.Token);
        await Eventually.UntilAsync(() => second.CancellationState(), s => s == 1, "the grain to start waiting");
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually.UntilAsync(() => second.CancellationState(), s => s == 2, "the grain's token to be cancelled");
    }

    [Fact]
    public async Task ByteArraysRoundTripThroughTheNetwork()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("bytes"));
        var data = new byte[100_000];
        new Random(42).NextBytes(data);

        var echoed = await grain.Echo(data);

        Assert.Equal(data, echoed);
        Assert.Equal(70_000, await grain.Length(data.AsMemory(0, 70_000)));
    }

    [Fact]
    public async Task MutableArgumentsAreCopiedInsideOneSilo()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("copy"));
        var silo = fixture.Cluster.FindActivationSilo(await ActivateAsync(grain))!;
        var local = silo.GrainFactory.GetGrain<IProbeGrain>(grain.GetPrimaryKeyString());
        var items = new List<string> { "mine" };

        var returned = await local.MutateList(items);

        Assert.Equal(["mine"], items);
        Assert.Equal(["mine", "added-by-grain"], returned);
    }

    [Fact]
    public async Task FailedActivationFailsTheCallAndLeavesNoActivation()
    {
        var grain = fixture.Cluster.Client.GetGrain<IFailingActivationGrain>(Keys.New("fail"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Ping());

        Assert.Contains("refused", error.Message);
        Assert.Null(fixture.Cluster.FindActivationSilo(grain));
        Assert.Equal(1, await fixture.Cluster.Client.GetGrain<IFailingActivationGrain>(Keys.New("ok")).Ping());
    }

    private static async Task<IProbeGrain> ActivateAsync(IProbeGrain grain)
    {
        await grain.WhereAmI();
        return grain;
    }

    private async Task<(IProbeGrain First, IProbeGrain Second)> TwoGrainsOnDifferentSilosAsync()
    {
        var client = fixture.Cluster.Client;
        var first = client.GetGrain<IProbeGrain>(Keys.New("first"));
        var firstSilo = await first.WhereAmI();
        for (var i = 0; i < 100; i++)
        {
            var candidate = client.GetGrain<IProbeGrain>(Keys.New("second"));
            if (await candidate.WhereAmI() != firstSilo)
            {
                return (first, candidate);
            }
        }

        throw new InvalidOperationException($"100 grains all landed on {firstSilo}; placement is not spreading grains.");
    }
}
