namespace Actors.Catalog;

/// <summary>
/// A grain timer: each tick is queued to the activation's mailbox as a turn (so it does not interleave
/// with calls unless the grain is reentrant). A tick is skipped while the previous one is still queued
/// or running. Ticks do not count as activity for idle collection.
/// </summary>
/// <remarks>Thread-safe. Disposed with its activation.</remarks>
internal sealed class GrainTimer : IGrainTimer
{
    private readonly ActivationData activation;
    private readonly Func<CancellationToken, Task> callback;
    private readonly ITimer timer;
    private int tickInFlight;
    private volatile bool disposed;

    public GrainTimer(ActivationData activation, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period, TimeProvider timeProvider)
    {
        this.activation = activation;
        this.callback = callback;
        timer = timeProvider.CreateTimer(static s => ((GrainTimer)s!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
    }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        timer.Change(dueTime, period);
    }

    public void Dispose()
    {
        disposed = true;
        timer.Dispose();
        activation.OnTimerDisposed(this);
    }

    internal Task InvokeCallbackAsync() => disposed ? Task.CompletedTask : callback(activation.DeactivationToken);

    internal void OnTickCompleted(Exception? error)
    {
        Volatile.Write(ref tickInFlight, 0);
        if (error is not null)
        {
            activation.OnTimerFailed(error);
        }
    }

    private void OnTick()
    {
        if (disposed || Interlocked.Exchange(ref tickInFlight, 1) != 0)
        {
            return;
        }

        activation.EnqueueTimerTick(new TimerWorkItem(this));
    }
}
