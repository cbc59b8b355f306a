namespace Actors.Runtime;

/// <summary>Ambient runtime state used while a grain is constructed.</summary>
public static class RuntimeContext
{
    [ThreadStatic]
    private static IGrainContext? activatingContext;

    /// <summary>The activation whose grain instance is being constructed on this thread, or null.</summary>
    public static IGrainContext? ActivatingContext => activatingContext;

    /// <summary>Publishes <paramref name="context"/> for the duration of a grain constructor call.</summary>
    public static Scope EnterActivation(IGrainContext context)
    {
        var previous = activatingContext;
        activatingContext = context;
        return new Scope(previous);
    }

    public readonly struct Scope(IGrainContext? previous) : IDisposable
    {
        public void Dispose() => activatingContext = previous;
    }
}
