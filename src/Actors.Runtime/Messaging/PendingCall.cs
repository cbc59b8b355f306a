using System.Threading.Tasks.Sources;
using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>Reads a system response body.</summary>
internal delegate void SystemResponseReader(ref ActorReader reader);

/// <summary>
/// A request sent on a connection and waiting for its response. Completed exactly once: by the
/// response, by the timeout sweep, by the caller's cancellation, or by the connection closing.
/// Continuations run asynchronously (so a caller never runs on a connection's receive loop) unless the
/// caller is grain code, whose continuation is posted to its activation's scheduler in any case.
/// </summary>
/// <remarks>Thread-safe: completion is arbitrated by an interlocked flag.</remarks>
internal sealed class PendingCall : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> core = new() { RunContinuationsAsynchronously = true };
    private int completed;
    private CancellationTokenRegistration cancellation;

    public PendingCall(long correlationId, GrainId target, GrainInvokable? call, SystemResponseReader? systemReader,
        long deadlineTimestamp, long startTimestamp, bool continueInline = false)
    {
        // A grain caller's continuation is posted to its activation's scheduler anyway, so it may be
        // released on the receive loop; any other caller resumes on the thread pool.
        core.RunContinuationsAsynchronously = !continueInline;
        CorrelationId = correlationId;
        Target = target;
        Call = call;
        SystemReader = systemReader;
        DeadlineTimestamp = deadlineTimestamp;
        StartTimestamp = startTimestamp;
    }

    public long CorrelationId { get; }

    public GrainId Target { get; }

    /// <summary>The caller's invokable (null for system requests).</summary>
    public GrainInvokable? Call { get; }

    public SystemResponseReader? SystemReader { get; }

    public long DeadlineTimestamp { get; }

    public long StartTimestamp { get; }

    /// <summary>Set when the response said the silo does not host the grain.</summary>
    public bool NotHere { get; private set; }

    public bool IsCompleted => Volatile.Read(ref completed) != 0;

    /// <summary>True when the call failed because its connection was already closed: nothing was sent,
    /// so the caller may safely send it again on another connection.</summary>
    public bool NotSent { get; private set; }

    /// <summary>Fails a call that never reached the socket (see <see cref="NotSent"/>).</summary>
    public void FailNotSent(Exception exception)
    {
        NotSent = true;
        TryFail(exception);
    }

    public short Version => core.Version;

    public ValueTask AsValueTask() => new(this, core.Version);

    public void SetCancellationRegistration(CancellationTokenRegistration registration) => cancellation = registration;

    public bool TryClaim() => Interlocked.Exchange(ref completed, 1) == 0;

    /// <summary>After a successful <see cref="TryClaim"/>: finish successfully.</summary>
    public void SetResult(bool notHere = false)
    {
        NotHere = notHere;
        cancellation.Dispose();
        core.SetResult(true);
    }

    /// <summary>After a successful <see cref="TryClaim"/>: finish with an error.</summary>
    public void SetException(Exception exception)
    {
        cancellation.Dispose();
        core.SetException(exception);
    }

    public bool TryFail(Exception exception)
    {
        if (!TryClaim())
        {
            return false;
        }

        SetException(exception);
        return true;
    }

    public void GetResult(short token) => core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);

    public string Describe() => Call is null
        ? $"system request to the directory for grain {Target}"
        : $"{Call.InterfaceName}.{Call.MethodName} on grain {Target}";
}
