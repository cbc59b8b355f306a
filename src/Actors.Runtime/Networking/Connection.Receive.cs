using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Actors.Messaging;
using Actors.Serialization;

namespace Actors.Networking;

internal sealed partial class Connection
{
    private long skipRemaining;

    /// <summary>Accepting side of a request: a token the caller's cancel message (or the time to live) cancels.</summary>
    public CancellationToken RegisterIncomingCancellation(long correlationId, uint timeToLiveMs)
    {
        var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, timeToLiveMs)), timeProvider);
        incomingCancellations[correlationId] = cts;
        if (IsClosed)
        {
            cts.Cancel();
        }

        return cts.Token;
    }

    /// <summary>Accepting side: records who the peer is (called before the peer is registered anywhere).</summary>
    public void OnHandshakeAccepted(HandshakeRequest request)
    {
        if (request.IsClient)
        {
            RemoteClientId = request.Sender;
        }
        else
        {
            RemoteSilo = request.SenderSilo;
        }

        IsEstablished = true;
    }

    /// <summary>Forgets the token source of a finished incoming request.</summary>
    public void CompleteIncoming(long correlationId)
    {
        if (incomingCancellations.TryRemove(correlationId, out var cts))
        {
            cts.Dispose();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var reason = "the peer closed the connection";
        PipeReader? reader = null;
        try
        {
            var stream = new NetworkStream(socket, ownsSocket: false);
            reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 128 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
            while (true)
            {
                var result = await reader.ReadAsync(closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                ProcessBuffer(ref buffer);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            reason = "closed locally";
        }
        catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
        {
            reason = exception.Message;
        }
        catch (Exception exception)
        {
            reason = $"protocol error: {exception.Message}";
            Log.FrameFailed(logger, exception, Describe());
        }
        finally
        {
            if (reader is not null)
            {
                await reader.CompleteAsync().ConfigureAwait(false);
            }
        }

        Close(reason);
    }

    private void ProcessBuffer(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (skipRemaining > 0)
            {
                var skip = Math.Min(skipRemaining, buffer.Length);
                buffer = buffer.Slice(skip);
                skipRemaining -= skip;
                if (skipRemaining > 0)
                {
                    return;
                }
            }

            if (!TryReadFrame(ref buffer, out var frame))
            {
                return;
            }

            if (!frame.IsEmpty)
            {
                ProcessFrame(frame);
            }
        }
    }

    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/>. An oversize frame is
    /// answered (if its header is already readable) and then skipped without being buffered.</summary>
    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (length <= 0)
        {
            throw new InvalidDataException($"Frame length {length} is not positive.");
        }

        if (length > options.MaxFrameBytes)
        {
            if (buffer.Length < 4L + Math.Min(length, OversizeHeaderProbeBytes))
            {
                // Wait for the frame's header (a bounded few bytes) so the call it carries can be answered.
                return false;
            }

            OnOversizeFrame(buffer.Slice(4), length);
            buffer = buffer.Slice(4);
            skipRemaining = length;
            return true;
        }

        if (buffer.Length < 4L + length)
        {
            return false;
        }

        frame = buffer.Slice(4, length);
        buffer = buffer.Slice(4L + length);
        return true;
    }

    /// <summary>Reads one frame where the pipe holds it: a frame that straddles pipe segments is read across them,
    /// so a byte payload is copied once, from the pipe's memory into the array the call receives.</summary>
    private void ProcessFrame(ReadOnlySequence<byte> frame)
    {
        var reader = frame.IsSingleSegment ? new ActorReader(frame.FirstSpan) : new ActorReader(frame);
        var header = MessageHeader.Read(ref reader);
        Dispatch(in header, ref reader);
    }

    private void Dispatch(in MessageHeader header, ref ActorReader body)
    {
        if (!IsEstablished)
        {
            DispatchHandshake(in header, ref body);
            return;
        }

        switch (header.Kind)
        {
            case MessageKind.Request:
            case MessageKind.OneWay:
                Diagnostics.RuntimeMetrics.CallsReceived.Add(1);
                handler.OnRequest(this, in header, ref body);
                break;
            case MessageKind.SystemRequest:
                handler.OnSystemRequest(this, in header, ref body);
                break;
            case MessageKind.Response:
                OnResponse(in header, ref body);
                break;
            case MessageKind.Cancel:
                if (incomingCancellations.TryRemove(header.CorrelationId, out var cts))
                {
                    cts.Cancel();
                    cts.Dispose();
                }

                break;
            case MessageKind.Ping:
                if (!faults.DropProbes)
                {
                    SendSimple(MessageKind.Pong, header.CorrelationId,
                        static (ref ActorWriter w, long id) => MessageHeader.WriteSimple(ref w, MessageKind.Pong, id));
                }

                break;
            case MessageKind.Pong:
                if (pendingPings.TryRemove(header.CorrelationId, out var pong))
                {
                    pong.TrySetResult(true);
                }

                break;
            default:
                throw new InvalidDataException($"Unexpected {header.Kind} frame on an established connection.");
        }
    }

    private void DispatchHandshake(in MessageHeader header, ref ActorReader body)
    {
        switch (header.Kind)
        {
            case MessageKind.Handshake when !IsOutbound:
                var request = HandshakeRequest.Read(ref body);
                var accept = handler.AcceptHandshake(this, request, out var rejectReason);
                if (accept is null)
                {
                    Log.HandshakeRefused(logger, RemoteEndPointText, rejectReason);
                    SendSimple(MessageKind.HandshakeReject, 0, (ref ActorWriter w, long id) =>
                    {
                        MessageHeader.WriteSimple(ref w, MessageKind.HandshakeReject, id);
                        w.WriteString(rejectReason);
                    });
                    CloseAfterFlush($"refused the handshake: {rejectReason}");
                    return;
                }

                OnHandshakeAccepted(request);
                var frame = new FrameBuffer(options.MaxFrameBytes);
                WriteFrame(frame, accept, static (ref ActorWriter w, HandshakeAccept a) =>
                {
                    MessageHeader.WriteSimple(ref w, MessageKind.HandshakeAccept, 0);
                    a.Write(ref w);
                });
                TryEnqueue(frame);

                // Registered only once the accept is queued, so no frame of ours can precede it.
                handler.OnInboundEstablished(this);
                break;
            case MessageKind.HandshakeAccept when IsOutbound:
                // Established here, on the receive loop, before any later frame of the peer is read.
                var accepted = HandshakeAccept.Read(ref body);
                Accepted = accepted;
                RemoteSilo = accepted.Silo;
                IsEstablished = true;
                handshakeDone.TrySetResult(accepted);
                break;
            case MessageKind.HandshakeReject when IsOutbound:
                var reason = body.ReadString();
                handshakeDone.TrySetException(new SiloUnavailableException($"{RemoteEndPointText} refused the connection: {reason}"));
                throw new OperationCanceledException(reason);
            default:
                throw new InvalidDataException($"Expected a handshake, got a {header.Kind} frame.");
        }
    }

    private void OnResponse(in MessageHeader header, ref ActorReader body)
    {
        if (!pendingCalls.TryRemove(header.CorrelationId, out var pending) || !pending.TryClaim())
        {
            return;
        }

        var elapsed = timeProvider.GetElapsedTime(pending.StartTimestamp);
        Diagnostics.RuntimeMetrics.CallLatency.Record(elapsed.TotalMicroseconds);
        try
        {
            switch (header.Status)
            {
                case ResponseStatus.Ok:
                    if (pending.Call is not null)
                    {
                        CallCodec.ReadResult(pending.Call, ref body, handler.CallRuntime);
                    }
                    else
                    {
                        pending.SystemReader!(ref body);
                    }

                    pending.SetResult();
                    break;
                case ResponseStatus.NotHere:
                    pending.SetResult(notHere: true);
                    break;
                case ResponseStatus.Exception:
                    pending.SetException(RemoteExceptionCodec.Read(ref body));
                    break;
                default:
                    pending.SetException(new InvalidDataException($"Unknown response status {(byte)header.Status}."));
                    break;
            }
        }
        catch (Exception exception)
        {
            pending.SetException(exception);
        }
    }

    /// <summary>How much of an oversize frame is read to find the header of the call it carries.</summary>
    private const int OversizeHeaderProbeBytes = 2048;

    private void OnOversizeFrame(ReadOnlySequence<byte> available, int length)
    {
        Log.OversizeFrame(logger, length, Describe(), options.MaxFrameBytes);
        var probe = available.Slice(0, Math.Min(available.Length, OversizeHeaderProbeBytes)).ToArray();
        MessageHeader header;
        try
        {
            var reader = new ActorReader(probe);
            header = MessageHeader.Read(ref reader);
        }
        catch (SerializationException)
        {
            return;
        }
        catch (OverflowException)
        {
            return;
        }

        var error = new FrameTooLargeException(
            $"A {header.Kind} frame of {length} bytes for grain {header.Target} exceeds the receiver's " +
            $"MessagingOptions.MaxFrameBytes ({options.MaxFrameBytes} bytes); raise MessagingOptions.MaxFrameBytes on every silo and client.");
        if (header.Kind == MessageKind.Request)
        {
            SendException(header.CorrelationId, error);
        }
        else if (header.Kind == MessageKind.Response && pendingCalls.TryRemove(header.CorrelationId, out var pending))
        {
            pending.TryFail(error);
        }
    }
}
