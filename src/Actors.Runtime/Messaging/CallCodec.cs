using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>
/// Reads arguments and results off the wire with the serialization context set (grain references inside
/// become proxies bound to the receiving runtime), and isolates calls inside one silo with
/// <see cref="LocalCallCopier"/>.
/// </summary>
internal static class CallCodec
{
    public static void ReadArguments(GrainInvokable call, ref ActorReader reader, IGrainCallRuntime runtime)
    {
        using var scope = SerializationContext.Enter(runtime);
        call.ReadArguments(ref reader);
    }

    public static void ReadResult(GrainInvokable call, ref ActorReader reader, IGrainCallRuntime runtime)
    {
        using var scope = SerializationContext.Enter(runtime);
        call.ReadResult(ref reader);
    }

    /// <summary>The invokable to deliver locally: the call itself when its arguments are immutable, else a deep copy.</summary>
    public static GrainInvokable CopyArguments(GrainInvokable call, IGrainCallRuntime runtime) =>
        LocalCallCopier.PrepareLocalCall(call, runtime);

    /// <summary>Makes the result of <paramref name="source"/> available on <paramref name="target"/> (copied unless immutable and shared).</summary>
    public static void CopyResult(GrainInvokable source, GrainInvokable target, IGrainCallRuntime runtime) =>
        LocalCallCopier.CompleteLocalCall(target, source, runtime);
}
