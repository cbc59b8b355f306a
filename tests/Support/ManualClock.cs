namespace Actors.Testing;

/// <summary>A clock that moves only when a test moves it (thread-safe), for code that reads time through a
/// <see cref="TimeProvider"/>. Timers are not driven by it: code that waits on timers gets the real clock.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;

    /// <summary>Starts at 2026-01-01 00:00 UTC.</summary>
    public ManualClock()
        : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public long NowMs => GetUtcNow().ToUnixTimeMilliseconds();

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
