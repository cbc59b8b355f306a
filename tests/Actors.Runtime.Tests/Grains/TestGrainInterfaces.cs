namespace Actors.Runtime.Tests.Grains;

public interface ITurnGrain : IGrainWithStringKey
{
    /// <summary>Enters, yields a few times, leaves; returns the most calls ever seen inside at once.</summary>
    Task<int> Enter(int yields);

    Task<int> MaxConcurrency();

    /// <summary>Waits until <see cref="Release"/> (or <see cref="ReleaseInterleaved"/>) is called.</summary>
    Task<string> WaitForRelease();

    [AlwaysInterleave]
    Task ReleaseInterleaved(string value);

    /// <summary>True while a call waits in <see cref="WaitForRelease"/>.</summary>
    [AlwaysInterleave]
    Task<bool> IsWaiting();

    [ReadOnly]
    Task<bool> IsReaderWaiting();

    Task Release(string value);

    [ReadOnly]
    Task<string> ReadWaitingForReader();

    [ReadOnly]
    Task ReadReleasingReader(string value);
}

public interface IReentrantTurnGrain : IGrainWithStringKey
{
    Task<string> WaitForRelease();

    Task<bool> IsWaiting();

    Task Release(string value);
}

public interface IProbeGrain : IGrainWithStringKey
{
    Task<string> WhereAmI();

    Task<int> ActivationNumber();

    Task<string> CallOther(string otherKey);

    [OneWay]
    Task Notify(string message);

    [OneWay]
    Task BlockOneWay();

    [AlwaysInterleave]
    Task UnblockOneWay();

    [AlwaysInterleave]
    Task<List<string>> Notes();

    Task Throw(string kind, string message);

    Task<string> Hang();

    Task<bool> WaitForCancellation(CancellationToken cancellationToken);

    [AlwaysInterleave]
    Task<int> CancellationState();

    Task<byte[]> Echo(byte[] data);

    Task<int> Length(ReadOnlyMemory<byte> data);

    Task<byte[]> Make(int length);

    Task<List<string>> MutateList(List<string> items);

    Task Deactivate();

    /// <summary>Keeps the activation from idle collection for this long.</summary>
    Task KeepAlive(int seconds);

    Task<int> StartTimer(int periodMs);

    Task<int> TimerTicks();
}

public interface IPinnedGrain : IGrainWithStringKey
{
    Task<string> WhereAmI();
}

public interface IStatefulGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Read();

    Task<string?> Etag();
}

public interface IDirectedGrain : IGrainWithStringKey
{
    Task<string> WhereAmI();
}

public interface IFailingActivationGrain : IGrainWithStringKey
{
    Task<int> Ping();
}

public interface ITimerTurnGrain : IGrainWithStringKey
{
    /// <summary>Starts a timer whose ticks log "enter:tick"/"exit:tick" around <paramref name="awaits"/> calls to another grain.</summary>
    Task StartTimer(int periodMs, int awaits);

    Task StopTimer();

    /// <summary>Logs "enter:call"/"exit:call" around <paramref name="awaits"/> calls to another grain.</summary>
    Task Work(int awaits);

    /// <summary>The most calls and ticks ever seen inside the grain at once.</summary>
    Task<int> MaxConcurrency();
}

public interface IValueTaskGrain : IGrainWithStringKey
{
    Task<string> WhereAmI();

    /// <summary>Completes synchronously.</summary>
    ValueTask<int> Double(int value);

    /// <summary>Completes after an await.</summary>
    ValueTask<string> Greet(string name);

    ValueTask Store(string value);

    ValueTask<string?> Load();

    /// <summary>Throws before returning a ValueTask.</summary>
    ValueTask Fail(string message);

    /// <summary>Throws after an await.</summary>
    ValueTask<int> FailAfterAwait(string message);

    /// <summary>Calls <see cref="Double"/> on another grain.</summary>
    ValueTask<int> DoubleVia(string otherKey, int value);

    /// <summary>Calls <see cref="FailAfterAwait"/> on another grain and lets its exception through.</summary>
    ValueTask<int> FailVia(string otherKey, string message);
}
