using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Actors.Kafka.Security;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Actors.Kafka.Listener;

/// <summary>
/// One client connection: a read loop takes whole frames from the socket and starts handling each at once; a write
/// loop answers them strictly in the order they came (Kafka clients pipeline and match answers by order).
/// </summary>
/// <remarks>
/// Invariants: 1. at most <c>maxInFlight</c> requests are read and not yet answered; at the bound the socket is not
/// read until the oldest is answered. 2. A frame larger than the limit, an API we do not serve, or any request the
/// protocol layer refuses (<see cref="KafkaProtocolException"/>) stops reading: the answers to earlier requests are
/// still written, then the connection is closed. Nothing that happens here affects other connections.
/// One read loop and one write loop; <see cref="RunAsync"/> is called once.
/// </remarks>
internal sealed partial class KafkaConnection(
    Socket socket, KafkaRequestHandler handler, KafkaFrameReader frames, int maxInFlight, ILogger logger,
    RequestBudget? budget = null, TimeSpan? idleTimeout = null, ConnectionSession? session = null, TimeSpan? tlsHandshakeTimeout = null)
{
    /// <summary>The most bytes of answers written in one call: each call over TLS makes records of up to 16 KiB, so
    /// small answers ready together share records and sends instead of one each.</summary>
    internal const int CoalesceBytes = 64 * 1024;

    /// <summary>The read buffer: several TLS records or produce batches per read.</summary>
    private const int ReadBufferBytes = 64 * 1024;

    private readonly RequestBudget budget = budget ?? new RequestBudget(long.MaxValue);
    private readonly ConnectionSession? session = session;
    private readonly TimeSpan idleTimeout = idleTimeout ?? Timeout.InfiniteTimeSpan;

    /// <summary>The turn of the last Produce request read (touched by the read loop only).</summary>
    private ProduceTurn? lastProduce;

    private readonly string remote = socket.RemoteEndPoint?.ToString() ?? "unknown";
    private readonly string? clientHost = (socket.RemoteEndPoint as System.Net.IPEndPoint)?.Address is { } address
        ? "/" + (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address)
        : null;

    /// <summary>Serves the connection until the client closes it, it breaks the protocol, or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var network = new NetworkStream(socket, ownsSocket: true);
        Stream stream = network;
        if (session?.Security is { Tls: true, Certificate: { } certificate } security)
        {
            var tls = new SslStream(network, leaveInnerStreamOpen: false);
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handshake.CancelAfter(tlsHandshakeTimeout ?? TimeSpan.FromSeconds(10));
            // Why a client certificate was refused (ssl.client.auth), for the log.
            string? refusal = null;
            try
            {
                await tls.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateRequired = security.ClientAuth != ClientAuth.None,
                        RemoteCertificateValidationCallback = security.ClientAuth == ClientAuth.None
                            ? null
                            : (_, presented, _, _) => (refusal = ClientCertificates.Refusal(security, presented)) is null,
                    },
                    handshake.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
            {
                if (refusal is not null)
                {
                    SecurityLog.ClientCertificateRefused(logger, remote, security.ListenerName, refusal);
                }
                else
                {
                    SecurityLog.TlsFailed(logger, remote, security.ListenerName, e.Message);
                }

                await tls.DisposeAsync().ConfigureAwait(false);
                return;
            }

            if (tls.RemoteCertificate is X509Certificate2 presented)
            {
                session.AuthenticateWithCertificate("User:" + ClientCertificates.Subject(presented));
            }

            stream = tls;
        }

        await using var owned = stream;
        // Large reads: a 16 KiB produce batch or a whole TLS record in one call, not in 4 KiB pieces.
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferBytes, minimumReadSize: ReadBufferBytes / 4, leaveOpen: true));
        var pending = Channel.CreateBounded<Task<byte[]?>>(new BoundedChannelOptions(maxInFlight)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One slot per request read and not yet answered: taken before a request starts, given back once its
        // answer is written.
        using var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        var reading = ReadLoopAsync(input, pending.Writer, slots, stop.Token);
        await WriteLoopAsync(pending.Reader, stream, slots, stop.Token).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await reading.ConfigureAwait(false);
        await input.CompleteAsync().ConfigureAwait(false);
        LogClosed(logger, remote);
    }

    private async Task ReadLoopAsync(PipeReader input, ChannelWriter<Task<byte[]?>> pending, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        // The frame being read: its bytes are copied out of the pipe as they arrive, into an array taken from the pool
        // once its size is known and the budget for it taken, so a frame is held once, and only within the budget.
        byte[]? body = null;
        var size = 0;
        var filled = 0;
        long reserved = 0;
        try
        {
            while (true)
            {
                var result = await ReadAsync(input, slots, cancellationToken).ConfigureAwait(false);
                if (result is null)
                {
                    LogIdle(logger, remote, (long)idleTimeout.TotalMilliseconds);
                    return;
                }

                var buffer = result.Value.Buffer;
                try
                {
                    while (true)
                    {
                        if (body is null)
                        {
                            if (!frames.TryPeekSize(buffer, out size))
                            {
                                break;
                            }

                            // Taken before the body is read: at the bound this connection is not read further.
                            reserved = size + KafkaFrameReader.SizePrefixBytes;
                            await budget.AcquireAsync(reserved, cancellationToken).ConfigureAwait(false);
                            buffer = buffer.Slice(KafkaFrameReader.SizePrefixBytes);
                            body = RequestArrays.Rent(size);
                            filled = 0;
                        }

                        var take = (int)Math.Min(buffer.Length, size - filled);
                        buffer.Slice(0, take).CopyTo(body.AsSpan(filled));
                        buffer = buffer.Slice(take);
                        filled += take;
                        if (filled < size)
                        {
                            break;
                        }

                        var request = body;
                        var held = reserved;
                        body = null;
                        reserved = 0;
                        await DispatchAsync(request, size, held, pending, slots, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.Value.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (KafkaProtocolException e)
        {
            LogBadRequest(logger, remote, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Stopping, or the write loop ended.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            LogReadFailed(logger, remote, e.Message);
        }
        finally
        {
            if (body is not null)
            {
                RequestArrays.Return(body);
            }

            budget.Release(reserved);
            pending.TryComplete();
        }
    }

    /// <summary>Starts handling one whole request: its header is checked first (an API we do not serve ends reading
    /// here), then it takes a slot and its answer is queued. The array and the budget go back once it is handled (the
    /// handlers copy what they keep).</summary>
    private Task DispatchAsync(byte[] request, int size, long held, ChannelWriter<Task<byte[]?>> pending, SemaphoreSlim slots,
        CancellationToken cancellationToken)
    {
        RequestHeader header;
        try
        {
            if (session is { RawTokens: true })
            {
                // After a version-0 SaslHandshake the frame is a bare SASL token, answered with a bare frame.
                return QueueAsync(request, size, held, pending, slots, cancellationToken, raw: true);
            }

            header = KafkaRequestHandler.ReadHeader(request.AsSpan(0, size), out _);
            if (session is { Authenticated: false } && header.ApiKey is not ((short)ApiKey.ApiVersions or (short)ApiKey.SaslHandshake or (short)ApiKey.SaslAuthenticate))
            {
                throw new KafkaProtocolException(
                    $"API key {header.ApiKey} before SASL authentication: the listener {session.Security.ListenerName} ({session.Security.Protocol}) needs a SASL handshake first (mechanisms {string.Join(", ", session.Security.Mechanisms)})",
                    0,
                    ErrorCode.IllegalSaslState);
            }
        }
        catch
        {
            RequestArrays.Return(request);
            budget.Release(held);
            throw;
        }

        return QueueAsync(request, size, held, pending, slots, cancellationToken, produce: header.ApiKey == (short)ApiKey.Produce);
    }

    private async Task QueueAsync(byte[] request, int size, long held, ChannelWriter<Task<byte[]?>> pending, SemaphoreSlim slots,
        CancellationToken cancellationToken, bool raw = false, bool produce = false)
    {
        Task<byte[]?> answer;
        ProduceTurn? turn = null;
        // Before authentication requests run one at a time, so the SASL state changes in order.
        var oneAtATime = session is { Authenticated: false };
        try
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (produce)
            {
                // Taken here, in the order the requests were read: the handler issues this request's partition calls
                // only after the previous Produce request issued its own (ProduceTurn).
                turn = lastProduce = new ProduceTurn(lastProduce);
            }

            answer = raw
                ? RawTokenAsync(request.AsMemory(0, size).ToArray(), session!)
                : handler.HandleAsync(request.AsMemory(0, size), clientHost, session, turn);
            if (oneAtATime)
            {
                answer = MarkLastAsync(answer, session!);
            }
        }
        catch
        {
            turn?.MarkIssued();
            RequestArrays.Return(request);
            budget.Release(held);
            throw;
        }

        _ = answer.ContinueWith(
            _ =>
            {
                turn?.MarkIssued();
                RequestArrays.Return(request);
                budget.Release(held);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        // Never waits: the channel holds as many as there are slots.
        await pending.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
        if (oneAtATime)
        {
            await ((Task)answer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Notes the answer after which the connection closes (a failed authentication), before the write loop
    /// can see it: the flag belongs to this answer, not to one written earlier.</summary>
    private static async Task<byte[]?> MarkLastAsync(Task<byte[]?> answer, ConnectionSession connection)
    {
        var response = await answer.ConfigureAwait(false);
        if (connection.CloseAfterResponse)
        {
            connection.LastResponse = response;
        }

        return response;
    }

    /// <summary>A bare SASL token (after a version-0 handshake) answered with a bare size-prefixed token; a failed
    /// exchange closes the connection, as Kafka does for this old form.</summary>
    private async Task<byte[]?> RawTokenAsync(byte[] token, ConnectionSession connection)
    {
        var step = await connection.AuthenticateAsync(token).ConfigureAwait(false);
        if (step.Failure is not null)
        {
            SecurityLog.AuthenticationFailed(logger, remote, connection.Security.ListenerName, step.Failure);
            throw new KafkaProtocolException($"SASL authentication failed: {step.Failure}", 0, ErrorCode.SaslAuthenticationFailed);
        }

        var frame = new byte[KafkaFrameReader.SizePrefixBytes + step.Response.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, step.Response.Length);
        step.Response.CopyTo(frame, KafkaFrameReader.SizePrefixBytes);
        return frame;
    }

    /// <summary>The next read; null when the connection stayed idle (nothing sent, nothing in flight) for the idle
    /// timeout. A request in flight (a long poll, a join waiting for its rebalance) keeps the connection open.</summary>
    private async Task<ReadResult?> ReadAsync(PipeReader input, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(idleTimeout);
            try
            {
                return await input.ReadAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (slots.CurrentCount == maxInFlight)
                {
                    return null;
                }
            }
        }
    }

    private async Task WriteLoopAsync(ChannelReader<Task<byte[]?>> pending, Stream output, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        // Answers already made when the one before is written go out in one write (one TLS record, one send) of up to
        // CoalesceBytes; an answer that large is written by itself, after what was gathered before it.
        var gathered = ArrayPool<byte>.Shared.Rent(CoalesceBytes);
        var length = 0;
        try
        {
            while (await pending.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (pending.TryRead(out var answer))
                {
                    byte[]? response;
                    try
                    {
                        response = await answer.ConfigureAwait(false);
                    }
                    catch (KafkaProtocolException e)
                    {
                        LogBadRequest(logger, remote, e.Message);
                        await WriteGatheredAsync().ConfigureAwait(false);
                        return;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // No Kafka error fits a request we could not serve at all (the controller unreachable): close, and
                        // the client reconnects and asks again, possibly another broker.
                        LogRequestFailed(logger, remote, e);
                        await WriteGatheredAsync().ConfigureAwait(false);
                        return;
                    }

                    if (response is not null)
                    {
                        if (length + response.Length > CoalesceBytes)
                        {
                            await WriteGatheredAsync().ConfigureAwait(false);
                        }

                        if (response.Length >= CoalesceBytes)
                        {
                            await output.WriteAsync(response, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            response.CopyTo(gathered, length);
                            length += response.Length;
                        }
                    }

                    // A null answer: Kafka answers nothing (a Produce with acks=0).
                    slots.Release();
                    if (response is not null && session is not null && ReferenceEquals(response, session.LastResponse))
                    {
                        // Authentication failed or the SASL state was broken: the answer says why; nothing more is served.
                        await WriteGatheredAsync().ConfigureAwait(false);
                        return;
                    }

                    if (!pending.TryPeek(out var next) || !next.IsCompleted)
                    {
                        // Nothing more ready: what was gathered goes now, not after the next answer.
                        await WriteGatheredAsync().ConfigureAwait(false);
                    }
                }

                await WriteGatheredAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            LogWriteFailed(logger, remote, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }

        async Task WriteGatheredAsync()
        {
            if (length > 0)
            {
                var count = length;
                length = 0;
                await output.WriteAsync(gathered.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "Closing Kafka connection from {Remote}: {Problem}")]
    private static partial void LogBadRequest(ILogger logger, string remote, string problem);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Closing Kafka connection from {Remote}: a request failed")]
    private static partial void LogRequestFailed(ILogger logger, string remote, Exception exception);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Debug, Message = "Reading from Kafka connection {Remote} failed: {Problem}")]
    private static partial void LogReadFailed(ILogger logger, string remote, string problem);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Debug, Message = "Writing to Kafka connection {Remote} failed: {Problem}")]
    private static partial void LogWriteFailed(ILogger logger, string remote, string problem);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Debug, Message = "Closing Kafka connection from {Remote}: idle for {IdleMs} ms (connections.max.idle.ms)")]
    private static partial void LogIdle(ILogger logger, string remote, long idleMs);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Debug, Message = "Kafka connection from {Remote} closed")]
    private static partial void LogClosed(ILogger logger, string remote);
}
