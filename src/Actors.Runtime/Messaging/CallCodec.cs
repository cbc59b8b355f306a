using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>
/// Reads and copies arguments and results with the serialization context set, so grain references
/// inside arguments deserialize into proxies bound to the receiving runtime.
/// </summary>
internal static class CallCodec
{
    public static void ReadArguments(GrainInvokable call, ref ActorReader reader, IGrainCallRuntime runtime)
    {
        using var scope = SerializationContextScope.Enter(runtime);
        call.ReadArguments(ref reader);
    }

    public static void ReadResult(GrainInvokable call, ref ActorReader reader, IGrainCallRuntime runtime)
    {
        using var scope = SerializationContextScope.Enter(runtime);
        call.ReadResult(ref reader);
    }

    /// <summary>A deep copy of the call's arguments in a new invokable (calls inside one silo whose
    /// arguments are not immutable).</summary>
    public static GrainInvokable CopyArguments(GrainInvokable call, IGrainCallRuntime runtime)
    {
        var copy = call.CreateEmpty();
        using var buffer = new PooledArrayWriter();
        var writer = new ActorWriter(buffer);
        call.WriteArguments(ref writer);
        var reader = new ActorReader(buffer.WrittenSpan);
        ReadArguments(copy, ref reader, runtime);
        copy.CancellationToken = call.CancellationToken;
        return copy;
    }

    /// <summary>Copies the result of <paramref name="source"/> into <paramref name="target"/> (the same
    /// object when arguments were handed over), through the serializer unless the result is immutable.</summary>
    public static void CopyResult(GrainInvokable source, GrainInvokable target, IGrainCallRuntime runtime)
    {
        if (ReferenceEquals(source, target) && source.ResultIsImmutable)
        {
            return;
        }

        using var buffer = new PooledArrayWriter();
        var writer = new ActorWriter(buffer);
        source.WriteResult(ref writer);
        var reader = new ActorReader(buffer.WrittenSpan);
        ReadResult(target, ref reader, runtime);
    }
}
