using Actors.Runtime;

namespace Actors;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    None = 0,
    ShuttingDown = 1,
    ActivationIdle = 2,
    ApplicationRequested = 3,
    InconsistentState = 4,
    ActivationFailed = 5,
    SiloDead = 6,
}

/// <summary>The reason passed to <see cref="Grain.OnDeactivateAsync"/>.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode Code, string Description);

/// <summary>
/// Base class of grain implementations, as in Orleans. The runtime constructs the grain through a
/// generated factory (constructor parameters come from DI, or from <see cref="PersistentStateAttribute"/>),
/// then calls <see cref="OnActivateAsync"/> before the first call is delivered.
/// </summary>
/// <remarks>Thread-safety: grain code runs one turn at a time on its activation (unless
/// <see cref="ReentrantAttribute"/>); never use ConfigureAwait(false) in grain code.</remarks>
public abstract class Grain : IAddressable
{
    protected Grain()
    {
        // The runtime publishes the activation's context while it runs the generated factory.
        GrainContext = RuntimeContext.ActivatingContext
            ?? throw new InvalidOperationException(
                "Grains are created by the runtime; get a reference with IGrainFactory.GetGrain<T>(key) instead of 'new'.");
    }

    /// <summary>The activation this grain instance belongs to.</summary>
    public IGrainContext GrainContext { get; }

    /// <summary>The grain's identity.</summary>
    public GrainId GrainId => GrainContext.GrainId;

    /// <summary>A factory for references to other grains.</summary>
    protected IGrainFactory GrainFactory => GrainContext.GrainFactory;

    /// <summary>Called once before the first call is delivered to the activation.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called once when the activation is collected, asked to deactivate, or the silo stops gracefully.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivate this activation once the current turn ends.</summary>
    protected void DeactivateOnIdle() => GrainContext.Deactivate(
        new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called."));

    /// <summary>Register a timer whose callback runs as a turn of this activation
    /// (it does not interleave with calls unless the grain is reentrant).</summary>
    protected IGrainTimer RegisterGrainTimer(
        Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        GrainContext.RegisterGrainTimer(callback, dueTime, period);

    /// <summary>Register a timer with a state argument.</summary>
    protected IGrainTimer RegisterGrainTimer<TState>(
        Func<TState, CancellationToken, Task> callback, TState state, TimeSpan dueTime, TimeSpan period) =>
        GrainContext.RegisterGrainTimer(ct => callback(state, ct), dueTime, period);

    /// <summary>Delay the idle collection of this activation by at least <paramref name="timeSpan"/>.</summary>
    protected void DelayDeactivation(TimeSpan timeSpan) => GrainContext.DelayDeactivation(timeSpan);
}

/// <summary>A timer registered by a grain. Dispose to stop it.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Change the due time and period of the timer.</summary>
    void Change(TimeSpan dueTime, TimeSpan period);
}

/// <summary>Key accessors, named as in Orleans.</summary>
public static class GrainExtensions
{
    public static string GetPrimaryKeyString(this Grain grain) => grain.GrainId.Key;

    public static long GetPrimaryKeyLong(this Grain grain) =>
        long.Parse(grain.GrainId.Key, System.Globalization.CultureInfo.InvariantCulture);

    public static Guid GetPrimaryKey(this Grain grain) => Guid.Parse(grain.GrainId.Key);

    public static GrainId GetGrainId(this IAddressable addressable) => addressable switch
    {
        Grain g => g.GrainId,
        Invocation.GrainReference r => r.GrainId,
        _ => throw new ArgumentException($"{addressable.GetType()} is neither a grain nor a grain reference.", nameof(addressable)),
    };

    public static string GetPrimaryKeyString(this IAddressable addressable) => addressable.GetGrainId().Key;
}
