using Actors.Invocation;

namespace Actors.Catalog;

/// <summary>The lifecycle states of an activation.</summary>
internal enum ActivationState
{
    /// <summary>Constructing the grain, reading its state, running OnActivateAsync; calls queue.</summary>
    Activating,

    /// <summary>Serving calls.</summary>
    Valid,

    /// <summary>Running OnDeactivateAsync; calls queue and are sent back to be looked up again.</summary>
    Deactivating,

    /// <summary>Gone; removed from the catalog.</summary>
    Invalid,
}

/// <summary>
/// One activation of a grain: the grain instance, its mailbox and its turn-based scheduling.
/// </summary>
/// <remarks>
/// Scheduling rules (checked under <see cref="gate"/>): a call starts when nothing blocks it —
/// (1) in a [Reentrant] class everything interleaves; (2) an [AlwaysInterleave] call always starts;
/// (3) a [ReadOnly] call starts when no exclusive call runs; (4) any other call (and every timer tick)
/// starts only when nothing else runs. Calls start in arrival order (FIFO) except rule (2).
/// All grain code runs on <see cref="Scheduler"/>, one task at a time. Thread-safe: every field
/// below the gate is read and written under it.
/// </remarks>
internal sealed partial class ActivationData : IGrainContext
{
    private readonly object gate = new();
    private readonly Queue<ActivationWorkItem> mailbox = new();
    private readonly ActivationCatalog catalog;
    private readonly bool isReentrant;
    private ActivationState state = ActivationState.Activating;
    private int runningExclusive;
    private int runningReadOnly;
    private int runningInterleaved;
    private long lastActivityTimestamp;
    private long keepAliveUntilTimestamp;
    private DeactivationReason? pendingDeactivation;

    public ActivationData(GrainId grainId, GrainClassDescriptor grainClass, bool isReentrant, ActivationCatalog catalog)
    {
        GrainId = grainId;
        GrainClass = grainClass;
        this.isReentrant = isReentrant;
        this.catalog = catalog;
        lastActivityTimestamp = catalog.TimeProvider.GetTimestamp();
    }

    public GrainId GrainId { get; }

    public GrainClassDescriptor GrainClass { get; }

    public ActivationTaskScheduler Scheduler { get; } = new();

    /// <summary>The grain instance once constructed.</summary>
    public Grain? GrainInstance { get; private set; }

    public ActivationState State
    {
        get
        {
            lock (gate)
            {
                return state;
            }
        }
    }

    private int Running => runningExclusive + runningReadOnly + runningInterleaved;

    /// <summary>Queues a call or a tick. Items that cannot be accepted are completed at once:
    /// with <see cref="ActivationGoneException"/> when the activation is gone, or an error when the mailbox is full.</summary>
    public void Enqueue(ActivationWorkItem item)
    {
        List<ActivationWorkItem>? start = null;
        Exception? reject = null;
        lock (gate)
        {
            if (state == ActivationState.Invalid)
            {
                reject = new ActivationGoneException(GrainId);
            }
            else if (mailbox.Count >= catalog.MaxEnqueuedRequests)
            {
                reject = new InvalidOperationException(
                    $"The mailbox of {GrainId} holds {mailbox.Count} calls, the limit set by " +
                    "MessagingOptions.MaxEnqueuedRequestsPerActivation; the call was rejected.");
            }
            else
            {
                if (item is not TimerWorkItem)
                {
                    lastActivityTimestamp = catalog.TimeProvider.GetTimestamp();
                }

                if (state == ActivationState.Valid && pendingDeactivation is null && (item.Flags & InvokeFlags.AlwaysInterleave) != 0)
                {
                    CountStartLocked(item, +1);
                    start = [item];
                }
                else
                {
                    mailbox.Enqueue(item);
                    start = CollectRunnableLocked();
                }
            }
        }

        if (reject is not null)
        {
            item.Complete(reject);
            return;
        }

        StartAll(start);
    }

    /// <summary>True when the activation has been idle for at least <paramref name="age"/> and may be collected.</summary>
    public bool IsIdle(long nowTimestamp, TimeSpan age)
    {
        lock (gate)
        {
            return state == ActivationState.Valid && Running == 0 && mailbox.Count == 0 && pendingDeactivation is null
                && catalog.TimeProvider.GetElapsedTime(lastActivityTimestamp, nowTimestamp) >= age
                && nowTimestamp >= keepAliveUntilTimestamp;
        }
    }

    public override string ToString() => $"activation of {GrainId}";

    private List<ActivationWorkItem>? CollectRunnableLocked()
    {
        if (state != ActivationState.Valid || pendingDeactivation is not null)
        {
            return null;
        }

        List<ActivationWorkItem>? start = null;
        while (mailbox.TryPeek(out var next) && CanStartLocked(next.Flags))
        {
            mailbox.Dequeue();
            CountStartLocked(next, +1);
            (start ??= new List<ActivationWorkItem>(1)).Add(next);
        }

        return start;
    }

    private bool CanStartLocked(InvokeFlags flags)
    {
        if (isReentrant || (flags & InvokeFlags.AlwaysInterleave) != 0)
        {
            return true;
        }

        if ((flags & InvokeFlags.ReadOnly) != 0)
        {
            return runningExclusive == 0;
        }

        return Running == 0;
    }

    private void CountStartLocked(ActivationWorkItem item, int delta)
    {
        var flags = item.Flags;
        if ((flags & InvokeFlags.AlwaysInterleave) != 0 || isReentrant)
        {
            runningInterleaved += delta;
        }
        else if ((flags & InvokeFlags.ReadOnly) != 0)
        {
            runningReadOnly += delta;
        }
        else
        {
            runningExclusive += delta;
        }
    }

    private void StartAll(List<ActivationWorkItem>? items)
    {
        if (items is null)
        {
            return;
        }

        foreach (var item in items)
        {
            item.Activation = this;
            _ = Task.Factory.StartNew(
                static s => ((ActivationWorkItem)s!).Activation!.RunTurnAsync((ActivationWorkItem)s!),
                item,
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                Scheduler);
        }
    }

    private async Task RunTurnAsync(ActivationWorkItem item)
    {
        Exception? error = null;
        try
        {
            await item.ExecuteAsync(GrainInstance!).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            error = exception;
        }

        List<ActivationWorkItem>? start;
        var deactivateNow = false;
        lock (gate)
        {
            CountStartLocked(item, -1);
            if (item is not TimerWorkItem)
            {
                lastActivityTimestamp = catalog.TimeProvider.GetTimestamp();
            }

            if (error is InconsistentStateException && pendingDeactivation is null && state == ActivationState.Valid)
            {
                pendingDeactivation = new DeactivationReason(DeactivationReasonCode.InconsistentState,
                    $"A call threw {nameof(InconsistentStateException)}: {error.Message}");
            }

            start = CollectRunnableLocked();
            deactivateNow = pendingDeactivation is not null && state == ActivationState.Valid && Running == 0;
            if (deactivateNow)
            {
                state = ActivationState.Deactivating;
            }
        }

        item.Complete(error);
        StartAll(start);
        if (deactivateNow)
        {
            StartDeactivation();
        }
    }
}
