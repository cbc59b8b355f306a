using System.Diagnostics;

namespace Actors.Testing;

/// <summary>Polls a condition with a deadline instead of sleeping; a timeout names what was awaited
/// and what was last seen.</summary>
internal static class Wait
{
    private static readonly TimeSpan PollMax = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="condition"/> until it is true; after <paramref name="timeout"/>
    /// throws a <see cref="TimeoutException"/> naming <paramref name="what"/> and, if given, <paramref name="seen"/>().</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? seen = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, seen);

    /// <inheritdoc cref="UntilAsync(Func{bool}, TimeSpan, string, Func{string}?)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? seen = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(10);
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                var last = seen is null ? string.Empty : $" Last seen: {seen()}";
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.{last}");
            }

            await Task.Delay(pause);
            pause = pause * 2 < PollMax ? pause * 2 : PollMax;
        }
    }
}
