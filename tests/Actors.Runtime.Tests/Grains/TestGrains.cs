using System.Collections.Concurrent;
using Actors.Placement;

namespace Actors.Runtime.Tests.Grains;

/// <summary>What test grains record where tests can see it, by grain key (keys are unique per test).</summary>
public static class GrainEvents
{
    public static ConcurrentDictionary<string, ConcurrentQueue<string>> Log { get; } = new();

    public static ConcurrentDictionary<string, int> Activations { get; } = new();

    public static void Add(string key, string entry) => Log.GetOrAdd(key, _ => new ConcurrentQueue<string>()).Enqueue(entry);

    public static string[] For(string key) => Log.TryGetValue(key, out var q) ? q.ToArray() : [];
}

public sealed class TurnGrain : Grain, ITurnGrain
{
    private int inside;
    private int maxInside;
    private TaskCompletionSource<string> release = new();
    private TaskCompletionSource<string> readerRelease = new();

    public async Task<int> Enter(int yields)
    {
        inside++;
        maxInside = Math.Max(maxInside, inside);
        for (var i = 0; i < yields; i++)
        {
            await Task.Yield();
        }

        inside--;
        return maxInside;
    }

    public Task<int> MaxConcurrency() => Task.FromResult(maxInside);

    private bool waiting;
    private bool readerWaiting;

    public async Task<string> WaitForRelease()
    {
        waiting = true;
        var value = await release.Task;
        waiting = false;
        release = new TaskCompletionSource<string>();
        return value;
    }

    public Task<bool> IsWaiting() => Task.FromResult(waiting);

    public Task<bool> IsReaderWaiting() => Task.FromResult(readerWaiting);

    public Task ReleaseInterleaved(string value)
    {
        release.TrySetResult(value);
        return Task.CompletedTask;
    }

    public Task Release(string value)
    {
        release.TrySetResult(value);
        return Task.CompletedTask;
    }

    public async Task<string> ReadWaitingForReader()
    {
        readerWaiting = true;
        var value = await readerRelease.Task;
        readerWaiting = false;
        readerRelease = new TaskCompletionSource<string>();
        return value;
    }

    public Task ReadReleasingReader(string value)
    {
        readerRelease.TrySetResult(value);
        return Task.CompletedTask;
    }
}

[Reentrant]
public sealed class ReentrantTurnGrain : Grain, IReentrantTurnGrain
{
    private readonly TaskCompletionSource<string> release = new();
    private bool waiting;

    public async Task<string> WaitForRelease()
    {
        waiting = true;
        return await release.Task;
    }

    public Task<bool> IsWaiting() => Task.FromResult(waiting);

    public Task Release(string value)
    {
        release.TrySetResult(value);
        return Task.CompletedTask;
    }
}

public sealed class ThrowingGrainException(string message) : Exception(message);

/// <summary>Has no constructor the exception codec can use, so callers get a RemoteGrainException.</summary>
public sealed class UnconstructibleException : Exception
{
    public UnconstructibleException(int code)
        : base($"code {code}")
    {
    }
}

public sealed class ProbeGrain : Grain, IProbeGrain
{
    private readonly List<string> notes = new();
    private TaskCompletionSource blocker = new();
    private int activationNumber;
    private int cancellationState;
    private int timerTicks;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        activationNumber = GrainEvents.Activations.AddOrUpdate(key, 1, (_, n) => n + 1);
        GrainEvents.Add(key, $"activate:{GrainContext.Silo.Port}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        GrainEvents.Add(this.GetPrimaryKeyString(), $"deactivate:{reason.Code}");
        return Task.CompletedTask;
    }

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());

    public Task<int> ActivationNumber() => Task.FromResult(activationNumber);

    public async Task<string> CallOther(string otherKey)
    {
        var other = GrainFactory.GetGrain<IProbeGrain>(otherKey);
        var where = await other.WhereAmI();
        return where;
    }

    public Task Notify(string message)
    {
        notes.Add(message);
        return Task.CompletedTask;
    }

    public async Task BlockOneWay()
    {
        notes.Add("blocked");
        await blocker.Task;
        notes.Add("unblocked");
    }

    public Task UnblockOneWay()
    {
        blocker.TrySetResult();
        return Task.CompletedTask;
    }

    public Task<List<string>> Notes() => Task.FromResult(notes.ToList());

    public Task Throw(string kind, string message) => kind switch
    {
        "argument" => throw new ArgumentOutOfRangeException(message, "bad argument"),
        "invalid" => throw new InvalidOperationException(message),
        "custom" => throw new ThrowingGrainException(message),
        "unknown" => throw new UnconstructibleException(message.Length),
        "inconsistent" => throw new InconsistentStateException(message),
        _ => Task.CompletedTask,
    };

    public async Task<string> Hang()
    {
        GrainEvents.Add(this.GetPrimaryKeyString(), "hang");
        await new TaskCompletionSource().Task;
        return "never";
    }

    public async Task<bool> WaitForCancellation(CancellationToken cancellationToken)
    {
        cancellationState = 1;
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            return false;
        }
        catch (OperationCanceledException)
        {
            cancellationState = 2;
            throw;
        }
    }

    public Task<int> CancellationState() => Task.FromResult(cancellationState);

    public Task<byte[]> Echo(byte[] data) => Task.FromResult(data);

    public Task<int> Length(ReadOnlyMemory<byte> data) => Task.FromResult(data.Length);

    public Task<byte[]> Make(int length) => Task.FromResult(new byte[length]);

    public Task<List<string>> MutateList(List<string> items)
    {
        items.Add("added-by-grain");
        return Task.FromResult(items);
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task KeepAlive(int seconds)
    {
        DelayDeactivation(TimeSpan.FromSeconds(seconds));
        return Task.CompletedTask;
    }

    public Task<int> StartTimer(int periodMs)
    {
        RegisterGrainTimer(_ =>
        {
            timerTicks++;
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(periodMs), TimeSpan.FromMilliseconds(periodMs));
        return Task.FromResult(timerTicks);
    }

    public Task<int> TimerTicks() => Task.FromResult(timerTicks);
}

[SiloPinnedPlacement]
public sealed class PinnedGrain : Grain, IPinnedGrain
{
    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }
}

public sealed class StatefulGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, IStatefulGrain
{
    public async Task<int> Increment()
    {
        state.State.Value++;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> Read() => Task.FromResult(state.State.Value);

    public Task<string?> Etag() => Task.FromResult(state.Etag);
}

/// <summary>Places every grain on the Active silo with the highest port (a stand-in for "the silo metadata names").</summary>
public sealed class HighestPortDirector : IPlacementDirector
{
    public int Calls;

    public ValueTask<Actors.Membership.SiloAddress> PickSiloAsync(PlacementContext context, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Calls);
        return ValueTask.FromResult(context.Membership.ActiveSilos.OrderByDescending(s => s.Port).First());
    }
}

[DirectedPlacement(typeof(HighestPortDirector))]
public sealed class DirectedGrain : Grain, IDirectedGrain
{
    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}

/// <summary>OnActivateAsync fails while the key starts with "fail".</summary>
public sealed class FailingActivationGrain : Grain, IFailingActivationGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        this.GetPrimaryKeyString().StartsWith("fail", StringComparison.Ordinal)
            ? throw new InvalidOperationException($"activation of {this.GetPrimaryKeyString()} refused")
            : Task.CompletedTask;

    public Task<int> Ping() => Task.FromResult(1);
}

/// <summary>Calls and timer ticks share one concurrency counter and log their entries and exits under the grain key;
/// between entry and exit each awaits calls to a helper grain.</summary>
public sealed class TimerTurnGrain : Grain, ITimerTurnGrain
{
    private int inside;
    private int maxInside;
    private IGrainTimer? timer;

    public Task StartTimer(int periodMs, int awaits)
    {
        var period = TimeSpan.FromMilliseconds(periodMs);
        timer = RegisterGrainTimer(_ => RunAsync("tick", awaits), period, period);
        return Task.CompletedTask;
    }

    public Task StopTimer()
    {
        timer?.Dispose();
        return Task.CompletedTask;
    }

    public Task Work(int awaits) => RunAsync("call", awaits);

    public Task<int> MaxConcurrency() => Task.FromResult(Volatile.Read(ref maxInside));

    /// <summary>Interlocked, so that the counter stays exact even if a broken scheduler ran two turns in parallel.</summary>
    private async Task RunAsync(string what, int awaits)
    {
        var key = this.GetPrimaryKeyString();
        var now = Interlocked.Increment(ref inside);
        int seen;
        while (now > (seen = Volatile.Read(ref maxInside)) && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
        {
        }

        GrainEvents.Add(key, "enter:" + what);
        for (var i = 0; i < awaits; i++)
        {
            // A call to another grain: the turn stays open while the activation idles, a chance for anything allowed to interleave.
            await GrainFactory.GetGrain<IProbeGrain>(key + "-helper").WhereAmI();
        }

        GrainEvents.Add(key, "exit:" + what);
        Interlocked.Decrement(ref inside);
    }
}

public sealed class ValueTaskGrain : Grain, IValueTaskGrain
{
    private string? stored;

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());

    public ValueTask<int> Double(int value) => ValueTask.FromResult(value * 2);

    public async ValueTask<string> Greet(string name)
    {
        await Task.Yield();
        return $"hello {name} from {GrainContext.Silo}";
    }

    public ValueTask Store(string value)
    {
        stored = value;
        return ValueTask.CompletedTask;
    }

    public ValueTask<string?> Load() => ValueTask.FromResult(stored);

    public ValueTask Fail(string message) => throw new ThrowingGrainException(message);

    public async ValueTask<int> FailAfterAwait(string message)
    {
        await Task.Yield();
        throw new ThrowingGrainException(message);
    }

    public async ValueTask<int> DoubleVia(string otherKey, int value) =>
        await GrainFactory.GetGrain<IValueTaskGrain>(otherKey).Double(value);

    public async ValueTask<int> FailVia(string otherKey, string message) =>
        await GrainFactory.GetGrain<IValueTaskGrain>(otherKey).FailAfterAwait(message);
}
