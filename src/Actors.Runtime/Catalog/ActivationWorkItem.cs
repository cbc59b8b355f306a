using System.Threading.Tasks.Sources;
using Actors.Invocation;
using Actors.Networking;

namespace Actors.Catalog;

/// <summary>One unit of work for an activation's mailbox: a call or a timer tick.</summary>
internal abstract class ActivationWorkItem
{
    /// <summary>The activation running the item (set when its turn starts).</summary>
    public ActivationData? Activation { get; set; }

    /// <summary>How the item may interleave with others.</summary>
    public abstract InvokeFlags Flags { get; }

    /// <summary>Runs the item on the grain (on the activation's scheduler).</summary>
    public abstract ValueTask ExecuteAsync(object grain);

    /// <summary>Reports the outcome; called once, off the activation's lock.</summary>
    public abstract void Complete(Exception? error);
}

/// <summary>The activation was deactivated before the call ran; the caller looks the grain up again.</summary>
internal sealed class ActivationGoneException(GrainId grainId)
    : Exception($"The activation of {grainId} was deactivated before the call ran.")
{
    public GrainId GrainId { get; } = grainId;
}

/// <summary>A call that arrived over a connection; its response goes back on that connection.</summary>
internal sealed class RemoteCallWorkItem(GrainInvokable call, Connection connection, long correlationId, bool oneWay, bool cancellable)
    : ActivationWorkItem
{
    public GrainInvokable Call { get; } = call;

    public override InvokeFlags Flags => Call.Flags;

    public override ValueTask ExecuteAsync(object grain) => Call.InvokeAsync(grain);

    public override void Complete(Exception? error)
    {
        if (cancellable)
        {
            connection.CompleteIncoming(correlationId);
        }

        if (oneWay)
        {
            return;
        }

        if (error is ActivationGoneException)
        {
            connection.SendNotHere(correlationId);
        }
        else if (error is not null)
        {
            connection.SendException(correlationId, error);
        }
        else
        {
            connection.SendResponse(correlationId, Call);
        }
    }
}

/// <summary>A call made inside this silo; the caller awaits it as a <see cref="ValueTask"/>.</summary>
/// <remarks>Completed exactly once (result, error, timeout or the caller's cancellation).</remarks>
internal sealed class LocalCallWorkItem : ActivationWorkItem, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> core = new() { RunContinuationsAsynchronously = true };
    private int completed;

    public LocalCallWorkItem(GrainInvokable call, long deadlineTimestamp)
    {
        Call = call;
        DeadlineTimestamp = deadlineTimestamp;
    }

    public GrainInvokable Call { get; }

    public long DeadlineTimestamp { get; }

    public long Id { get; set; }

    public GrainId GrainId { get; init; }

    public CancellationTokenRegistration Cancellation { get; set; }

    public override InvokeFlags Flags => Call.Flags;

    public ValueTask AsValueTask() => new(this, core.Version);

    public override ValueTask ExecuteAsync(object grain) => Call.InvokeAsync(grain);

    public override void Complete(Exception? error)
    {
        if (Interlocked.Exchange(ref completed, 1) != 0)
        {
            return;
        }

        Cancellation.Dispose();
        if (error is null)
        {
            core.SetResult(true);
        }
        else
        {
            core.SetException(error);
        }
    }

    public void GetResult(short token) => core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);
}

/// <summary>A tick of a grain timer, run as a turn.</summary>
internal sealed class TimerWorkItem(GrainTimer timer) : ActivationWorkItem
{
    public override InvokeFlags Flags => InvokeFlags.None;

    public override ValueTask ExecuteAsync(object grain) => new(timer.InvokeCallbackAsync());

    public override void Complete(Exception? error) => timer.OnTickCompleted(error);
}
