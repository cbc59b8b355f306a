using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Actors.Configuration;
using Actors.Membership;
using Actors.Messaging;
using Microsoft.Extensions.Logging;

namespace Actors.Networking;

/// <summary>
/// One TCP connection between two silos, or between a client and a gateway. Frames are
/// <c>length(int32, big-endian) header body</c> (see <see cref="MessageHeader"/>). Outgoing frames are
/// built by callers in pooled <see cref="FrameBuffer"/>s and queued on a bounded channel; one send loop
/// writes batches of them with gathered socket sends. One receive loop reads frames from a
/// <see cref="PipeReader"/>. Requests in both directions are multiplexed by correlation id.
/// </summary>
/// <remarks>
/// Invariants: (1) every <see cref="PendingCall"/> registered here completes exactly once, at the
/// latest when the connection closes; (2) a frame never exceeds <see cref="MessagingOptions.MaxFrameBytes"/>
/// on the wire; (3) after <see cref="Close"/> nothing is sent. Thread-safe.
/// </remarks>
internal sealed partial class Connection
{
    private readonly Socket socket;
    private readonly IConnectionHandler handler;
    private readonly MessagingOptions options;
    private readonly NetworkFaultInjector faults;
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly Channel<FrameBuffer> sendQueue;
    private readonly ConcurrentDictionary<long, PendingCall> pendingCalls = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> pendingPings = new();
    private readonly ConcurrentDictionary<long, CancellationTokenSource> incomingCancellations = new();
    private readonly TaskCompletionSource<HandshakeAccept> handshakeDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource closing = new();
    private long nextCorrelationId;
    private int closed;

    public Connection(Socket socket, bool isOutbound, IConnectionHandler handler, MessagingOptions options,
        NetworkFaultInjector faults, TimeProvider timeProvider, ILogger logger)
    {
        this.socket = socket;
        IsOutbound = isOutbound;
        this.handler = handler;
        this.options = options;
        this.faults = faults;
        this.timeProvider = timeProvider;
        this.logger = logger;
        socket.NoDelay = true;
        sendQueue = Channel.CreateBounded<FrameBuffer>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,

            // The send loop resumes on a pool thread, not on the writer's: frames that other threads queue meanwhile
            // go out in the same gathered send. Running the loop on the writer's thread saved a hop per frame but sent
            // about two frames per system call; with socket completions inline this way measured 40% more calls/s and
            // 20% more payload MB/s in the runtime benchmark, for 2-4 us more round trip.
            AllowSynchronousContinuations = false,
        });
        RemoteEndPointText = socket.RemoteEndPoint?.ToString() ?? "unknown";
    }

    public bool IsOutbound { get; }

    public string RemoteEndPointText { get; }

    /// <summary>The peer silo (after the handshake), or null for a client peer.</summary>
    public SiloAddress? RemoteSilo { get; private set; }

    /// <summary>The peer client id (after the handshake) when the peer is a cluster client.</summary>
    public string? RemoteClientId { get; private set; }

    /// <summary>The accepting side's answer, on the connecting side.</summary>
    public HandshakeAccept? Accepted { get; private set; }

    public bool IsClosed => Volatile.Read(ref closed) != 0;

    public bool IsEstablished { get; private set; }

    public int PendingCallCount => pendingCalls.Count;

    /// <summary>Completes when the connection has closed.</summary>
    public Task Completion => completion.Task;

    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts the send and receive loops.</summary>
    public void Start()
    {
        _ = Task.Run(SendLoopAsync);
        _ = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Connecting side: sends the handshake and waits for the answer.</summary>
    public async Task<HandshakeAccept> HandshakeAsync(HandshakeRequest request, CancellationToken cancellationToken)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        WriteFrame(frame, request, static (ref Serialization.ActorWriter w, HandshakeRequest r) =>
        {
            MessageHeader.WriteSimple(ref w, MessageKind.Handshake, 0);
            r.Write(ref w);
        });
        Enqueue(frame);
        return await handshakeDone.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection and fails everything in flight with <see cref="SiloUnavailableException"/>.</summary>
    /// <param name="reason">Why (for the callers' exceptions and the log).</param>
    /// <param name="abortive">True to reset the socket at once (an abrupt kill in tests).</param>
    public void Close(string reason, bool abortive = false)
    {
        if (Interlocked.Exchange(ref closed, 1) != 0)
        {
            return;
        }

        try
        {
            closing.Cancel();
        }
        catch (AggregateException)
        {
        }

        sendQueue.Writer.TryComplete();
        try
        {
            if (abortive)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception)
        {
            // Already torn down by the peer.
        }

        socket.Dispose();
        var peer = Describe();
        handshakeDone.TrySetException(new SiloUnavailableException($"The connection to {peer} closed during the handshake: {reason}"));
        foreach (var pending in pendingCalls.Values)
        {
            if (pendingCalls.TryRemove(pending.CorrelationId, out _))
            {
                pending.TryFail(new SiloUnavailableException(
                    $"The connection to {peer} closed while {pending.Describe()} was in flight: {reason}"));
            }
        }

        foreach (var ping in pendingPings.Values)
        {
            ping.TrySetResult(false);
        }

        foreach (var cts in incomingCancellations.Values)
        {
            try
            {
                cts.Cancel();
            }
            catch (AggregateException)
            {
            }
        }

        while (sendQueue.Reader.TryRead(out var frame))
        {
            frame.Release();
        }

        Log.ConnectionClosed(logger, peer, reason);
        completion.TrySetResult();
        handler.OnClosed(this);
    }

    public string Describe() => RemoteSilo?.ToString() ?? (RemoteClientId is null ? RemoteEndPointText : $"client {RemoteClientId}");

    /// <summary>Fails calls whose response deadline has passed. Called by the runtime's timeout sweep.</summary>
    public void ExpireCalls(long nowTimestamp, TimeSpan responseTimeout)
    {
        foreach (var pending in pendingCalls.Values)
        {
            if (pending.DeadlineTimestamp > nowTimestamp || !pendingCalls.TryRemove(pending.CorrelationId, out _))
            {
                continue;
            }

            if (pending.TryFail(new GrainCallTimeoutException(
                    $"The call {pending.Describe()} (on silo {Describe()}) got no response within {responseTimeout} " +
                    "(MessagingOptions.ResponseTimeout).")))
            {
                SendCancel(pending.CorrelationId);
            }
        }
    }

    private long NextCorrelationId() => Interlocked.Increment(ref nextCorrelationId);

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Debug, "Connection to {Peer} closed: {Reason}")]
        public static partial void ConnectionClosed(ILogger logger, string peer, string reason);

        [LoggerMessage(1002, LogLevel.Warning, "Dropping an oversize frame of {Length} bytes from {Peer} (MessagingOptions.MaxFrameBytes is {Max})")]
        public static partial void OversizeFrame(ILogger logger, long length, string peer, int max);

        [LoggerMessage(1003, LogLevel.Warning, "Connection to {Peer} failed while processing a frame")]
        public static partial void FrameFailed(ILogger logger, Exception exception, string peer);

        [LoggerMessage(1004, LogLevel.Debug, "Refused the handshake from {Peer}: {Reason}")]
        public static partial void HandshakeRefused(ILogger logger, string peer, string reason);
    }
}
