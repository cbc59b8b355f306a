using System.Buffers;
using Actors.Invocation;

namespace Actors.Serialization;

/// <summary>
/// Isolation for calls that stay inside one silo (no network hop): the caller and the grain must not
/// share mutable objects. An invokable whose arguments are all immutable is handed over as is;
/// otherwise the arguments are deep-copied (written and read back with the generated codecs) into a
/// fresh invokable. Results are treated the same way on the way back.
/// </summary>
/// <remarks>Thread-safe (per-thread scratch buffers). Grain references inside copied values are bound
/// to the given runtime.</remarks>
public static class LocalCallCopier
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    /// <summary>The invokable to deliver to the target activation: <paramref name="call"/> itself when
    /// its arguments are immutable, else a new invokable of the same method holding copies of them
    /// (and the same cancellation token).</summary>
    public static GrainInvokable PrepareLocalCall(GrainInvokable call, IGrainCallRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(runtime);
        if (call.ArgumentsAreImmutable)
        {
            return call;
        }

        var copy = call.CreateEmpty();
        var buffer = Rent();
        try
        {
            var writer = new ActorWriter(buffer);
            call.WriteArguments(ref writer);
            using (SerializationContext.Enter(runtime))
            {
                var reader = new ActorReader(buffer.WrittenSpan);
                copy.ReadArguments(ref reader);
            }
        }
        finally
        {
            Return(buffer);
        }

        copy.CancellationToken = call.CancellationToken;
        return copy;
    }

    /// <summary>After <paramref name="target"/> (from <see cref="PrepareLocalCall"/>) was invoked, makes the
    /// result available on <paramref name="caller"/>: nothing to do when both are the same object and the
    /// result is immutable; otherwise the result is copied, so the caller never shares a mutable result
    /// with the grain.</summary>
    public static void CompleteLocalCall(GrainInvokable caller, GrainInvokable target, IGrainCallRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(runtime);
        if (ReferenceEquals(caller, target) && caller.ResultIsImmutable)
        {
            return;
        }

        var buffer = Rent();
        try
        {
            var writer = new ActorWriter(buffer);
            target.WriteResult(ref writer);
            using (SerializationContext.Enter(runtime))
            {
                var reader = new ActorReader(buffer.WrittenSpan);
                caller.ReadResult(ref reader);
            }
        }
        finally
        {
            Return(buffer);
        }
    }

    private static ArrayBufferWriter<byte> Rent()
    {
        var buffer = scratch;
        scratch = null;
        return buffer ?? new ArrayBufferWriter<byte>(256);
    }

    private static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= 1024 * 1024)
        {
            buffer.ResetWrittenCount();
            scratch = buffer;
        }
    }
}
