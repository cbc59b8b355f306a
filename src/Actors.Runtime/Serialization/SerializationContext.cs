using Actors.Invocation;

namespace Actors.Serialization;

/// <summary>
/// Ambient state for reading values that need the runtime: a grain reference read from the wire
/// becomes a proxy bound to <see cref="Runtime"/>. The transport enters a scope around
/// <see cref="GrainInvokable.ReadArguments"/> and <see cref="GrainInvokable.ReadResult"/>.
/// </summary>
/// <remarks>Per thread: a scope must be entered and disposed on the same thread, around synchronous
/// reading only (ActorReader is a ref struct, so reading never spans an await).</remarks>
public static class SerializationContext
{
    [ThreadStatic]
    private static IGrainCallRuntime? runtime;

    /// <summary>The runtime that grain references read on this thread are bound to, or null.</summary>
    public static IGrainCallRuntime? Runtime
    {
        get => runtime;
        set => runtime = value;
    }

    /// <summary>Sets <see cref="Runtime"/> until the returned scope is disposed (then restores the previous one).</summary>
    public static Scope Enter(IGrainCallRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var previous = SerializationContext.runtime;
        SerializationContext.runtime = runtime;
        return new Scope(previous);
    }

    /// <summary>Restores the previous runtime when disposed.</summary>
    public readonly struct Scope(IGrainCallRuntime? previous) : IDisposable
    {
        public void Dispose() => runtime = previous;
    }
}
