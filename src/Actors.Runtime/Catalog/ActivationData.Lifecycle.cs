using Actors.Membership;
using Actors.Persistence;
using Actors.Runtime;

namespace Actors.Catalog;

internal sealed partial class ActivationData
{
    private readonly List<GrainTimer> timers = new();
    private readonly List<IPersistentStateLoader> persistentStates = new();
    private readonly CancellationTokenSource deactivation = new();

    /// <summary>Cancelled when the activation starts deactivating (timer callbacks get it).</summary>
    public CancellationToken DeactivationToken => deactivation.Token;

    IGrainFactory IGrainContext.GrainFactory => catalog.GrainFactory;

    SiloAddress IGrainContext.Silo => catalog.LocalSilo;

    IServiceProvider IGrainContext.ServiceProvider => catalog.Services;

    /// <summary>Constructs the grain, reads its persistent state and runs OnActivateAsync on the
    /// activation's scheduler; calls queued meanwhile start afterwards.</summary>
    public void StartActivation() =>
        _ = Task.Factory.StartNew(static s => ((ActivationData)s!).ActivateAsync(), this,
            CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler);

    public void Deactivate(DeactivationReason reason)
    {
        var deactivateNow = false;
        lock (gate)
        {
            if (pendingDeactivation is not null || state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                return;
            }

            pendingDeactivation = reason;
            if (state == ActivationState.Valid && Running == 0)
            {
                state = ActivationState.Deactivating;
                deactivateNow = true;
            }
        }

        if (deactivateNow)
        {
            StartDeactivation();
        }
    }

    /// <summary>Deactivates and completes when OnDeactivateAsync has run (graceful shutdown).</summary>
    public Task DeactivateAsync(DeactivationReason reason)
    {
        Deactivate(reason);
        return deactivated.Task;
    }

    private readonly TaskCompletionSource deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void DelayDeactivation(TimeSpan timeSpan)
    {
        lock (gate)
        {
            var until = catalog.TimeProvider.GetTimestamp() + (long)(timeSpan.TotalSeconds * catalog.TimeProvider.TimestampFrequency);
            keepAliveUntilTimestamp = Math.Max(keepAliveUntilTimestamp, until);
        }
    }

    public IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new GrainTimer(this, callback, dueTime, period, catalog.TimeProvider);
        lock (gate)
        {
            if (state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                timer.Dispose();
                return timer;
            }

            timers.Add(timer);
        }

        return timer;
    }

    public IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName)
        where TState : new()
    {
        var state = new PersistentState<TState>(stateName, storageName, this, catalog.Services);
        lock (gate)
        {
            persistentStates.Add(state);
        }

        return state;
    }

    internal void EnqueueTimerTick(TimerWorkItem tick) => Enqueue(tick);

    internal void OnTimerDisposed(GrainTimer timer)
    {
        lock (gate)
        {
            timers.Remove(timer);
        }
    }

    internal void OnTimerFailed(Exception error) => catalog.LogTimerFailed(GrainId, error);

    private async Task ActivateAsync()
    {
        try
        {
            using (RuntimeContext.EnterActivation(this))
            {
                GrainInstance = GrainClass.Create(this, catalog.Services);
            }

            using var timeout = new CancellationTokenSource(catalog.ActivationTimeout, catalog.TimeProvider);
            foreach (var persistent in persistentStates.ToArray())
            {
                await persistent.ReadStateAsync(timeout.Token).ConfigureAwait(true);
            }

            await GrainInstance.OnActivateAsync(timeout.Token).ConfigureAwait(true);
        }
        catch (Exception exception)
        {
            catalog.LogActivationFailed(GrainId, exception);
            FinishDeactivation(exception);
            return;
        }

        List<ActivationWorkItem>? start;
        var deactivateNow = false;
        lock (gate)
        {
            state = ActivationState.Valid;
            start = CollectRunnableLocked();
            if (pendingDeactivation is not null && Running == 0)
            {
                state = ActivationState.Deactivating;
                deactivateNow = true;
            }
        }

        StartAll(start);
        if (deactivateNow)
        {
            StartDeactivation();
        }
    }

    private void StartDeactivation() =>
        _ = Task.Factory.StartNew(static s => ((ActivationData)s!).DeactivateCoreAsync(), this,
            CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler);

    private async Task DeactivateCoreAsync()
    {
        DeactivationReason reason;
        GrainTimer[] ownTimers;
        lock (gate)
        {
            reason = pendingDeactivation ?? new DeactivationReason(DeactivationReasonCode.None, "unknown");
            ownTimers = timers.ToArray();
            timers.Clear();
        }

        deactivation.Cancel();
        foreach (var timer in ownTimers)
        {
            timer.Dispose();
        }

        try
        {
            using var timeout = new CancellationTokenSource(catalog.ActivationTimeout, catalog.TimeProvider);
            await GrainInstance!.OnDeactivateAsync(reason, timeout.Token).ConfigureAwait(true);
        }
        catch (Exception exception)
        {
            catalog.LogDeactivationFailed(GrainId, exception);
        }

        FinishDeactivation(null);
    }

    /// <summary>Leaves the catalog and sends queued calls back (or fails them with the activation error).</summary>
    private void FinishDeactivation(Exception? activationError)
    {
        ActivationWorkItem[] queued;
        GrainTimer[] ownTimers;
        lock (gate)
        {
            state = ActivationState.Invalid;
            queued = mailbox.ToArray();
            mailbox.Clear();
            ownTimers = timers.ToArray();
            timers.Clear();
        }

        foreach (var timer in ownTimers)
        {
            timer.Dispose();
        }

        catalog.OnActivationEnded(this, activationError is null);
        foreach (var item in queued)
        {
            item.Complete(activationError ?? new ActivationGoneException(GrainId));
        }

        deactivated.TrySetResult();
    }
}
