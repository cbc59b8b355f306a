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

    [Fact]
    public async Task TimerTicksNeverOverlapCalls()
    {
        var key = Keys.New("timer-turns");
        var grain = fixture.Cluster.Client.GetGrain<ITimerTurnGrain>(key);
        var viaSilo = fixture.Cluster.Silos[1].GrainFactory.GetGrain<ITimerTurnGrain>(key);
        await grain.StartTimer(periodMs: 2, awaits: 2);

        // Batches of concurrent calls (client and another silo) until at least 100 ticks ran inside a batch's window. So many,
        // because a runtime that let ticks interleave would show it only for ticks that fall due while a call awaits.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var batches = 0;
        while (TicksDuringBatches(GrainEvents.For(key)) < 100)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for 100 timer ticks while calls were in flight; {batches} batches made, " +
                    $"log: {string.Join(", ", GrainEvents.For(key).TakeLast(40))}.");
            }

            GrainEvents.Add(key, "batch-start");
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => (i % 2 == 0 ? grain : viaSilo).Work(8)));
            GrainEvents.Add(key, "batch-end");
            batches++;
        }

        await grain.StopTimer();
        var log = GrainEvents.For(key);

        Assert.Equal(1, await grain.MaxConcurrency());
        var turns = log.Where(e => !e.StartsWith("batch-", StringComparison.Ordinal)).ToArray();
        Assert.True(turns.Length % 2 == 0, $"a turn never exited: {string.Join(", ", turns.TakeLast(10))}");
        for (var i = 0; i + 1 < turns.Length; i += 2)
        {
            Assert.True(turns[i].StartsWith("enter:", StringComparison.Ordinal) && turns[i + 1] == "exit:" + turns[i]["enter:".Length..],
                $"turn {i / 2} did not run alone: {string.Join(", ", turns.Skip(Math.Max(0, i - 4)).Take(10))}");
        }

        Assert.True(turns.Count(e => e == "exit:call") >= 16 * batches, $"calls finished: {turns.Count(e => e == "exit:call")} of {16 * batches}");
    }

    /// <summary>Ticks logged between a "batch-start" and its "batch-end", i.e. while that batch's calls were in flight.</summary>
    private static int TicksDuringBatches(string[] log)
    {
        var inBatch = false;
        var ticks = 0;
        foreach (var entry in log)
        {
            switch (entry)
            {
                case "batch-start":
                    inBatch = true;
                    break;
                case "batch-end":
                    inBatch = false;
                    break;
                case "enter:tick" when inBatch:
                    ticks++;
                    break;
            }
        }

        return ticks;
    }
}
