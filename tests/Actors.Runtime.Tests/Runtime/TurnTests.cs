using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

public sealed class TurnTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task NonReentrantGrainNeverRunsTwoCallsAtOnce()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITurnGrain>(Keys.New("turn"));

        // 64 concurrent callers through the client plus 64 from another silo's grains' factory.
        var fromClient = Enumerable.Range(0, 64).Select(_ => grain.Enter(5));
        var viaSilo = fixture.Cluster.Silos[1].GrainFactory.GetGrain<ITurnGrain>(grain.GetPrimaryKeyString());
        var fromSilo = Enumerable.Range(0, 64).Select(_ => viaSilo.Enter(5));
        await Task.WhenAll(fromClient.Concat(fromSilo));

        Assert.Equal(1, await grain.MaxConcurrency());
    }

    [Fact]
    public async Task ReentrantGrainInterleavesAtAwaits()
    {
        var grain = fixture.Cluster.Client.GetGrain<IReentrantTurnGrain>(Keys.New("reentrant"));
        var waiting = grain.WaitForRelease();
        await Eventually.UntilAsync(() => grain.IsWaiting(), w => w, "the first call to wait");

        // The second call runs while the first awaits; otherwise this would time out.
        await grain.Release("go");

        Assert.Equal("go", await waiting);
    }

    [Fact]
    public async Task AlwaysInterleaveMethodRunsWhileACallAwaits()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITurnGrain>(Keys.New("interleave"));
        var waiting = grain.WaitForRelease();
        await Eventually.UntilAsync(() => grain.IsWaiting(), w => w, "the first call to wait");

        await grain.ReleaseInterleaved("released");

        Assert.Equal("released", await waiting);
    }

    [Fact]
    public async Task ReadOnlyCallsInterleaveWithEachOther()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITurnGrain>(Keys.New("readonly"));
        var waiting = grain.ReadWaitingForReader();
        await Eventually.UntilAsync(() => grain.IsReaderWaiting(), w => w, "the first read-only call to wait");

        await grain.ReadReleasingReader("read");

        Assert.Equal("read", await waiting);
    }

    [Fact]
    public async Task NormalCallWaitsForTheRunningCall()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITurnGrain>(Keys.New("blocked"));
        var waiting = grain.WaitForRelease();
        await Eventually.UntilAsync(() => grain.IsWaiting(), w => w, "the first call to wait");

        // Release (not interleavable) is queued behind WaitForRelease, which never ends: both time out.
        var release = grain.Release("never delivered");

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => waiting);
        Assert.Contains("WaitForRelease", error.Message);
        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => release);
    }

    [Fact]
    public async Task TimerTicksRunAsTurns()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("timer"));
        await grain.StartTimer(20);

        var ticks = await Eventually.UntilAsync(() => grain.TimerTicks(), n => n >= 3, "three timer ticks");

        Assert.True(ticks >= 3);
    }
}
