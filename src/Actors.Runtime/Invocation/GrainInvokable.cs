using Actors.Serialization;

namespace Actors.Invocation;

/// <summary>How a method may be scheduled; taken from attributes on the interface method.</summary>
[Flags]
public enum InvokeFlags : byte
{
    None = 0,
    OneWay = 1,
    AlwaysInterleave = 2,
    ReadOnly = 4,
}

/// <summary>
/// One call of one grain-interface method with its arguments. The source generator emits a sealed
/// subclass per interface method (arguments as fields, named Arg0..ArgN). The same object carries
/// the call through the runtime: the proxy fills the arguments, the transport serializes them
/// (or, inside one silo with immutable arguments, hands the object over as is), the target silo
/// invokes the grain and stores the result, and the response carries the result back.
/// </summary>
/// <remarks>Not thread-safe; owned by one call at a time.</remarks>
public abstract class GrainInvokable
{
    /// <summary>Stable id of the grain interface (FNV-1a 32 of its alias or full name).</summary>
    public abstract uint InterfaceId { get; }

    /// <summary>Index of the method within its interface, in declaration order (stable under appends).</summary>
    public abstract ushort MethodId { get; }

    /// <summary>For messages and errors: "IMyGrain".</summary>
    public abstract string InterfaceName { get; }

    /// <summary>For messages and errors: "DoWork".</summary>
    public abstract string MethodName { get; }

    public abstract InvokeFlags Flags { get; }

    /// <summary>True when every argument is a primitive, a string or [Immutable]: no copy is needed inside one silo.</summary>
    public abstract bool ArgumentsAreImmutable { get; }

    /// <summary>True when the result is void, primitive, a string or [Immutable].</summary>
    public abstract bool ResultIsImmutable { get; }

    /// <summary>True when the method's last parameter is a CancellationToken.</summary>
    public abstract bool AcceptsCancellation { get; }

    /// <summary>On the caller: the token the caller passed. On the target: a token the runtime cancels
    /// when the caller cancels (a cancel message crosses the wire) or the call times out.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Write the arguments (not the token) with the generated codecs.</summary>
    public abstract void WriteArguments(ref ActorWriter writer);

    /// <summary>Read arguments written by <see cref="WriteArguments"/>.</summary>
    public abstract void ReadArguments(ref ActorReader reader);

    /// <summary>Call the method on <paramref name="grain"/> (which implements the interface) and store its result.</summary>
    public abstract ValueTask InvokeAsync(object grain);

    /// <summary>Write the stored result (nothing for void methods).</summary>
    public abstract void WriteResult(ref ActorWriter writer);

    /// <summary>Read a result written by <see cref="WriteResult"/> into the stored result.</summary>
    public abstract void ReadResult(ref ActorReader reader);

    /// <summary>A new, empty invokable of the same method (used to deep-copy arguments inside a silo).</summary>
    public abstract GrainInvokable CreateEmpty();
}

/// <summary>An invokable whose method returns a value.</summary>
public abstract class GrainInvokable<TResult> : GrainInvokable
{
    /// <summary>The method's result, set on the target by <see cref="GrainInvokable.InvokeAsync"/> and on
    /// the caller by <see cref="GrainInvokable.ReadResult"/>.</summary>
    public TResult Result { get; set; } = default!;
}
