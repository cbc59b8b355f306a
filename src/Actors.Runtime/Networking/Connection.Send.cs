using System.Net.Sockets;
using Actors.Invocation;
using Actors.Messaging;
using Actors.Serialization;

namespace Actors.Networking;

/// <summary>Writes one frame's header and body.</summary>
internal delegate void FrameBodyWriter<TState>(ref ActorWriter writer, TState state);

internal sealed partial class Connection
{
    private const int SendBatchFramesMax = 256;
    private const long SendBatchBytesMax = 1024 * 1024;
    private volatile string? closeAfterFlushReason;

    /// <summary>Sends a request; the returned call completes with its response (or fails).</summary>
    /// <exception cref="FrameTooLargeException">The request exceeds <c>MessagingOptions.MaxFrameBytes</c>.</exception>
    /// <exception cref="SiloUnavailableException">The connection is closed.</exception>
    public PendingCall SendRequest(GrainId target, GrainInvokable call, TimeSpan timeout)
    {
        var correlationId = NextCorrelationId();
        var now = timeProvider.GetTimestamp();
        var pending = new PendingCall(correlationId, target, call, null, now + ToTimestampTicks(timeout), now,
            continueInline: TaskScheduler.Current is Catalog.ActivationTaskScheduler);
        var frame = BuildRequestFrame(MessageKind.Request, correlationId, target, call, timeout);
        pendingCalls[correlationId] = pending;
        if (call.AcceptsCancellation && call.CancellationToken.CanBeCanceled)
        {
            pending.SetCancellationRegistration(call.CancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var (connection, p) = ((Connection, PendingCall))state!;
                    connection.OnCallerCancelled(p, token);
                },
                (this, pending)));
        }

        if (!TryEnqueue(frame) || IsClosed)
        {
            if (pendingCalls.TryRemove(correlationId, out _))
            {
                pending.FailNotSent(new SiloUnavailableException($"The connection to {Describe()} is closed; {pending.Describe()} was not sent."));
            }
        }

        return pending;
    }

    /// <summary>Sends a one-way request.</summary>
    public void SendOneWay(GrainId target, GrainInvokable call, TimeSpan timeout)
    {
        var frame = BuildRequestFrame(MessageKind.OneWay, 0, target, call, timeout);
        if (!TryEnqueue(frame))
        {
            throw new SiloUnavailableException($"The connection to {Describe()} is closed; the one-way call {call.InterfaceName}.{call.MethodName} was not sent.");
        }
    }

    /// <summary>Sends a system request (directory traffic) whose response body is read by <paramref name="readResponse"/>.</summary>
    public PendingCall SendSystemRequest<TState>(SystemOperation operation, GrainId target, TState state,
        FrameBodyWriter<TState> writeBody, SystemResponseReader readResponse, TimeSpan timeout)
    {
        var correlationId = NextCorrelationId();
        var now = timeProvider.GetTimestamp();
        var pending = new PendingCall(correlationId, target, null, readResponse, now + ToTimestampTicks(timeout), now);
        var frame = new FrameBuffer(options.MaxFrameBytes);
        try
        {
            var writer = new ActorWriter(frame);
            MessageHeader.WriteSystemRequest(ref writer, correlationId, operation);
            writeBody(ref writer, state);
            frame.Complete();
        }
        catch
        {
            frame.Release();
            throw;
        }

        pendingCalls[correlationId] = pending;
        if (!TryEnqueue(frame) || IsClosed)
        {
            if (pendingCalls.TryRemove(correlationId, out _))
            {
                pending.FailNotSent(new SiloUnavailableException($"The connection to {Describe()} is closed; {pending.Describe()} was not sent."));
            }
        }

        return pending;
    }

    /// <summary>Answers a request with its result; a result too large for a frame is answered with a
    /// <see cref="FrameTooLargeException"/> instead.</summary>
    public void SendResponse(long correlationId, GrainInvokable call)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        try
        {
            var writer = new ActorWriter(frame);
            MessageHeader.WriteResponse(ref writer, correlationId, ResponseStatus.Ok);
            call.WriteResult(ref writer);
            frame.Complete();
        }
        catch (FrameLimitExceeded)
        {
            frame.Release();
            SendException(correlationId, new FrameTooLargeException(
                $"The response of {call.InterfaceName}.{call.MethodName} exceeds MessagingOptions.MaxFrameBytes ({options.MaxFrameBytes} bytes); " +
                "raise MessagingOptions.MaxFrameBytes or return less data per call."));
            return;
        }
        catch (Exception exception)
        {
            frame.Release();
            SendException(correlationId, exception);
            return;
        }

        TryEnqueue(frame);
    }

    /// <summary>Answers a request with an exception.</summary>
    public void SendException(long correlationId, Exception exception)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        try
        {
            var writer = new ActorWriter(frame);
            MessageHeader.WriteResponse(ref writer, correlationId, ResponseStatus.Exception);
            RemoteExceptionCodec.Write(ref writer, exception);
            frame.Complete();
        }
        catch (FrameLimitExceeded)
        {
            frame.Release();
            SendException(correlationId, new FrameTooLargeException("The exception thrown by the grain was too large to send."));
            return;
        }

        TryEnqueue(frame);
    }

    /// <summary>Answers "this silo does not host the grain": the caller looks it up again and retries once.</summary>
    public void SendNotHere(long correlationId) =>
        SendSimple(MessageKind.Response, correlationId, static (ref ActorWriter w, long id) => MessageHeader.WriteResponse(ref w, id, ResponseStatus.NotHere));

    /// <summary>Answers a system request.</summary>
    public void SendSystemResponse<TState>(long correlationId, TState state, FrameBodyWriter<TState> writeBody)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        var writer = new ActorWriter(frame);
        MessageHeader.WriteResponse(ref writer, correlationId, ResponseStatus.Ok);
        writeBody(ref writer, state);
        frame.Complete();
        TryEnqueue(frame);
    }

    public void SendCancel(long correlationId) => SendSimple(MessageKind.Cancel, correlationId,
        static (ref ActorWriter w, long id) => MessageHeader.WriteSimple(ref w, MessageKind.Cancel, id));

    /// <summary>Sends a ping and waits for the pong. False on timeout, on a closed connection, or when
    /// <see cref="NetworkFaultInjector.DropProbes"/> is set.</summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (faults.DropProbes || IsClosed)
        {
            return false;
        }

        var correlationId = NextCorrelationId();
        var pong = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        pendingPings[correlationId] = pong;
        try
        {
            SendSimple(MessageKind.Ping, correlationId, static (ref ActorWriter w, long id) => MessageHeader.WriteSimple(ref w, MessageKind.Ping, id));
            return await pong.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            pendingPings.TryRemove(correlationId, out _);
        }
    }

    /// <summary>Sends what is queued, then closes (used after refusing a handshake).</summary>
    public void CloseAfterFlush(string reason)
    {
        closeAfterFlushReason = reason;
        sendQueue.Writer.TryComplete();
    }

    private FrameBuffer BuildRequestFrame(MessageKind kind, long correlationId, GrainId target, GrainInvokable call, TimeSpan timeout)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        try
        {
            var writer = new ActorWriter(frame);
            var timeToLiveMs = (uint)Math.Clamp(timeout.TotalMilliseconds, 1, uint.MaxValue);
            MessageHeader.WriteRequest(ref writer, kind, MessageHeader.FlagsOf(call), correlationId, target,
                call.InterfaceId, call.MethodId, timeToLiveMs);
            call.WriteArguments(ref writer);
            frame.Complete();
            return frame;
        }
        catch (FrameLimitExceeded)
        {
            frame.Release();
            throw new FrameTooLargeException(
                $"The request for {call.InterfaceName}.{call.MethodName} on grain {target} exceeds MessagingOptions.MaxFrameBytes " +
                $"({options.MaxFrameBytes} bytes); raise MessagingOptions.MaxFrameBytes or send less data per call.");
        }
        catch
        {
            frame.Release();
            throw;
        }
    }

    private void SendSimple(MessageKind kind, long correlationId, FrameBodyWriter<long> write)
    {
        var frame = new FrameBuffer(options.MaxFrameBytes);
        var writer = new ActorWriter(frame);
        write(ref writer, correlationId);
        frame.Complete();
        TryEnqueue(frame);
    }

    private void WriteFrame<TState>(FrameBuffer frame, TState state, FrameBodyWriter<TState> write)
    {
        var writer = new ActorWriter(frame);
        write(ref writer, state);
        frame.Complete();
    }

    private void OnCallerCancelled(PendingCall pending, CancellationToken token)
    {
        if (pendingCalls.TryRemove(pending.CorrelationId, out _) && pending.TryClaim())
        {
            pending.SetException(new OperationCanceledException(
                $"The caller cancelled {pending.Describe()}.", token));
            SendCancel(pending.CorrelationId);
        }
    }

    /// <summary>Queues a frame. False (and the frame released) when the connection is closed.</summary>
    private bool TryEnqueue(FrameBuffer frame)
    {
        if (sendQueue.Writer.TryWrite(frame))
        {
            return true;
        }

        if (IsClosed || closeAfterFlushReason is not null)
        {
            frame.Release();
            return false;
        }

        _ = EnqueueSlowAsync(frame);
        return true;
    }

    private async Task EnqueueSlowAsync(FrameBuffer frame)
    {
        try
        {
            await sendQueue.Writer.WriteAsync(frame, closing.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            frame.Release();
        }
    }

    private void Enqueue(FrameBuffer frame)
    {
        if (!TryEnqueue(frame))
        {
            throw new SiloUnavailableException($"The connection to {Describe()} is closed.");
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = sendQueue.Reader;
        var batch = new List<FrameBuffer>(SendBatchFramesMax);
        var segments = new List<ArraySegment<byte>>(SendBatchFramesMax * 2);
        var reason = "the send loop ended";
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                long bytes = 0;
                while (batch.Count < SendBatchFramesMax && bytes < SendBatchBytesMax && reader.TryRead(out var frame))
                {
                    batch.Add(frame);
                    frame.AddSegmentsTo(segments);
                    bytes += frame.Length;
                }

                await SendAllAsync(segments, bytes).ConfigureAwait(false);
                foreach (var frame in batch)
                {
                    frame.Release();
                }

                batch.Clear();
                segments.Clear();
            }

            reason = closeAfterFlushReason ?? reason;
        }
        catch (Exception exception)
        {
            reason = $"sending failed: {exception.Message}";
        }
        finally
        {
            foreach (var frame in batch)
            {
                frame.Release();
            }
        }

        Close(reason);
    }

    private async ValueTask SendAllAsync(List<ArraySegment<byte>> segments, long bytes)
    {
        var sent = (long)await socket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        while (sent < bytes)
        {
            // A partial send: drop what went out and send the rest.
            var skip = sent;
            var rest = new List<ArraySegment<byte>>();
            foreach (var segment in segments)
            {
                if (skip >= segment.Count)
                {
                    skip -= segment.Count;
                    continue;
                }

                rest.Add(segment.Slice((int)skip));
                skip = 0;
            }

            segments = rest;
            bytes -= sent;
            sent = await socket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        }
    }

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * timeProvider.TimestampFrequency);
}
