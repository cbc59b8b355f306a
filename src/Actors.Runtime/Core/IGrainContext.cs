namespace Actors;

/// <summary>The runtime's view of one activation, as seen by the grain.</summary>
public interface IGrainContext
{
    GrainId GrainId { get; }

    IGrainFactory GrainFactory { get; }

    /// <summary>The silo hosting this activation.</summary>
    Membership.SiloAddress Silo { get; }

    /// <summary>Services of the hosting silo.</summary>
    IServiceProvider ServiceProvider { get; }

    /// <summary>Ask the runtime to deactivate this activation once the current turn ends.</summary>
    void Deactivate(DeactivationReason reason);

    void DelayDeactivation(TimeSpan timeSpan);

    IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period);

    /// <summary>Used by generated grain factories for <see cref="PersistentStateAttribute"/> parameters.</summary>
    IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName)
        where TState : new();
}
