using System.Net.Sockets;
using Actors.Catalog;
using Actors.Configuration;
using Actors.Invocation;
using Actors.Membership;
using Actors.Messaging;
using Actors.Networking;
using Actors.Runtime;
using Actors.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Client;

/// <summary>
/// <see cref="IClusterClient"/>: sends every call to one gateway silo, which routes it to the grain.
/// Gateways come from an <see cref="IClusterMembershipService"/> when one is registered on the client
/// (Active members with a gateway port), else from <see cref="ClientOptions.Gateways"/>. When the gateway
/// connection drops, calls in flight fail with <see cref="SiloUnavailableException"/> and the next call
/// connects to another gateway; a gateway that refused is not tried again until its reconnect backoff passes.
/// </summary>
/// <remarks>Thread-safe. Invariant: at most one gateway connection is current; connecting is single-flight.</remarks>
internal sealed partial class ClusterClient : IClusterClient, IGrainCallRuntime, IConnectionHandler
{
    private readonly ClientOptions clientOptions;
    private readonly MessagingOptions messagingOptions;
    private readonly IClusterMembershipService? membership;
    private readonly NetworkFaultInjector faults = new();
    private readonly TimeProvider timeProvider;
    private readonly ILogger<ClusterClient> logger;
    private readonly ILogger<Connection> connectionLogger;
    private readonly GrainTypeResolver types = new();
    private readonly SemaphoreSlim connectGate = new(1, 1);

    // Gateways that refused a connection, and when to try each again (doubling from ReconnectBackoffMin to
    // ReconnectBackoffMax); guarded by connectGate.
    private readonly Dictionary<string, (long RetryAt, TimeSpan Backoff, string Error)> gatewayFailures = new(StringComparer.Ordinal);
    private readonly string clientId = Guid.NewGuid().ToString("N");
    private readonly ITimer sweeper;
    private volatile Connection? gateway;
    private int nextGatewayIndex;
    private volatile bool disposed;

    public ClusterClient(IOptions<ClientOptions> clientOptions, IOptions<MessagingOptions> messagingOptions,
        IEnumerable<IClusterMembershipService> membership, TimeProvider timeProvider, ILogger<ClusterClient> logger,
        ILogger<Connection> connectionLogger)
    {
        this.clientOptions = clientOptions.Value;
        this.messagingOptions = messagingOptions.Value;
        this.membership = membership.LastOrDefault();
        this.timeProvider = timeProvider;
        this.logger = logger;
        this.connectionLogger = connectionLogger;
        GrainFactory = new GrainFactory(this, types);
        var sweepPeriod = TimeSpan.FromTicks(Math.Clamp(this.messagingOptions.ResponseTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond));
        sweeper = timeProvider.CreateTimer(static s => ((ClusterClient)s!).Sweep(), this, sweepPeriod, sweepPeriod);
        if (this.membership is not null)
        {
            this.membership.SnapshotChanged += OnSnapshotChanged;
        }
    }

    public IGrainFactory GrainFactory { get; }

    public bool IsConnected => gateway is { IsClosed: false };

    /// <summary>The gateway silo currently used, if connected.</summary>
    public SiloAddress? CurrentGateway => gateway is { IsClosed: false } g ? g.RemoteSilo : null;

    IGrainCallRuntime IConnectionHandler.CallRuntime => this;

    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(clientOptions.ConnectTimeout);
        var backoff = messagingOptions.ReconnectBackoffMin;
        string lastError = "no gateway is known";
        while (true)
        {
            try
            {
                await GetGatewayAsync(deadline.Token).ConfigureAwait(false);
                return;
            }
            catch (SiloUnavailableException exception)
            {
                lastError = exception.Message;
            }

            try
            {
                await Task.Delay(backoff, timeProvider, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SiloUnavailableException(
                    $"Could not connect to any gateway within ClientOptions.ConnectTimeout ({clientOptions.ConnectTimeout}): {lastError}");
            }

            backoff = messagingOptions.NextReconnectBackoff(backoff);
        }
    }

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey => GrainFactory.GetGrain<TGrainInterface>(primaryKey);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey)
        where TGrainInterface : IGrainWithIntegerKey => GrainFactory.GetGrain<TGrainInterface>(primaryKey);

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey)
        where TGrainInterface : IGrainWithGuidKey => GrainFactory.GetGrain<TGrainInterface>(primaryKey);

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId)
        where TGrainInterface : IGrain => GrainFactory.GetGrain<TGrainInterface>(grainId);

    public async ValueTask InvokeAsync(GrainReference target, GrainInvokable call)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var connection = gateway is { IsClosed: false } current ? current : await GetGatewayAsync(CancellationToken.None).ConfigureAwait(false);
                Diagnostics.RuntimeMetrics.CallsSent.Add(1);
                var pending = connection.SendRequest(target.GrainId, call, messagingOptions.ResponseTimeout);
                if (pending.NotSent && attempt == 0)
                {
                    // The gateway connection was already closed: nothing was sent; use another gateway.
                    try
                    {
                        await pending.AsValueTask().ConfigureAwait(false);
                    }
                    catch (SiloUnavailableException)
                    {
                    }

                    continue;
                }

                await pending.AsValueTask().ConfigureAwait(false);
                if (!pending.NotHere)
                {
                    return;
                }

                if (attempt > 0)
                {
                    throw new SiloUnavailableException($"The gateway found no activation for {target.GrainId}.");
                }
            }
        }
        catch (Exception)
        {
            // Counted once, here, by the caller.
            Diagnostics.RuntimeMetrics.CallsFailed.Add(1);
            throw;
        }
    }

    public void InvokeOneWay(GrainReference target, GrainInvokable call)
    {
        if (gateway is { IsClosed: false } current)
        {
            current.SendOneWay(target.GrainId, call, messagingOptions.ResponseTimeout);
            return;
        }

        _ = SendOneWaySlowAsync(target.GrainId, call);
    }

    public ValueTask DisposeAsync()
    {
        disposed = true;
        if (membership is not null)
        {
            membership.SnapshotChanged -= OnSnapshotChanged;
        }

        sweeper.Dispose();
        gateway?.Close("the client was disposed");
        return ValueTask.CompletedTask;
    }

    HandshakeAccept? IConnectionHandler.AcceptHandshake(Connection connection, HandshakeRequest request, out string rejectReason)
    {
        rejectReason = "clients accept no connections";
        return null;
    }

    void IConnectionHandler.OnInboundEstablished(Connection connection)
    {
    }

    void IConnectionHandler.OnRequest(Connection connection, in MessageHeader header, ref ActorReader body)
    {
        if (header.Kind == MessageKind.Request)
        {
            connection.SendException(header.CorrelationId, new InvalidOperationException("Cluster clients host no grains or observers."));
        }
    }

    void IConnectionHandler.OnSystemRequest(Connection connection, in MessageHeader header, ref ActorReader body) =>
        connection.SendException(header.CorrelationId, new InvalidOperationException("Cluster clients answer no system requests."));

    void IConnectionHandler.OnClosed(Connection connection)
    {
        if (ReferenceEquals(gateway, connection))
        {
            Log.GatewayLost(logger, connection.Describe());
        }
    }

    private async Task SendOneWaySlowAsync(GrainId grainId, GrainInvokable call)
    {
        try
        {
            var connection = await GetGatewayAsync(CancellationToken.None).ConfigureAwait(false);
            connection.SendOneWay(grainId, call, messagingOptions.ResponseTimeout);
        }
        catch (Exception)
        {
            Diagnostics.RuntimeMetrics.CallsFailed.Add(1);
        }
    }

    /// <summary>The current gateway connection, or a new one: each known gateway is tried once, in rotation.</summary>
    private async Task<Connection> GetGatewayAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        await connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (gateway is { IsClosed: false } current)
            {
                return current;
            }

            var candidates = GetGatewayCandidates();
            if (candidates.Count == 0)
            {
                throw new SiloUnavailableException(
                    "No gateway is known: set ClientOptions.Gateways (\"host:port\") or register a membership service on the client.");
            }

            var errors = new List<string>();
            var start = Interlocked.Increment(ref nextGatewayIndex);
            var now = timeProvider.GetTimestamp();
            for (var i = 0; i < candidates.Count; i++)
            {
                var (host, port) = candidates[(int)((uint)(start + i) % (uint)candidates.Count)];
                var endpoint = $"{host}:{port}";
                if (gatewayFailures.TryGetValue(endpoint, out var failure) && failure.RetryAt > now)
                {
                    // Within its reconnect backoff: no attempt, so calls to a cluster that is down fail fast
                    // instead of each opening a connection to every gateway.
                    errors.Add($"{endpoint}: {failure.Error} (next attempt in {timeProvider.GetElapsedTime(now, failure.RetryAt).TotalMilliseconds:F0} ms, " +
                        "MessagingOptions.ReconnectBackoffMin/Max)");
                    continue;
                }

                try
                {
                    var connection = await ConnectToAsync(host, port, cancellationToken).ConfigureAwait(false);
                    gatewayFailures.Remove(endpoint);
                    gateway = connection;
                    Log.Connected(logger, host, port, connection.RemoteSilo!);
                    return connection;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var backoff = messagingOptions.NextReconnectBackoff(
                        gatewayFailures.TryGetValue(endpoint, out var previous) ? previous.Backoff : null);
                    var retryAt = timeProvider.GetTimestamp() + (long)(backoff.TotalSeconds * timeProvider.TimestampFrequency);
                    gatewayFailures[endpoint] = (retryAt, backoff, exception.Message);
                    errors.Add($"{endpoint}: {exception.Message}");
                }
            }

            throw new SiloUnavailableException($"No gateway answered: {string.Join("; ", errors)}");
        }
        finally
        {
            connectGate.Release();
        }
    }

    private async Task<Connection> ConnectToAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(messagingOptions.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Connection? connection = null;
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            connection = new Connection(socket, isOutbound: true, this, messagingOptions, faults, timeProvider, connectionLogger);
            connection.Start();
            var accepted = await connection.HandshakeAsync(new HandshakeRequest(true, clientId, null), timeout.Token).ConfigureAwait(false);
            types.AddManifest(accepted.Manifest);
            return connection;
        }
        catch
        {
            if (connection is not null)
            {
                connection.Close("the handshake failed");
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private List<(string Host, int Port)> GetGatewayCandidates()
    {
        var result = new List<(string Host, int Port)>();
        if (membership is not null)
        {
            foreach (var member in membership.CurrentSnapshot.Members.Values)
            {
                if (member.Status == SiloStatus.Active && member.GatewayPort > 0)
                {
                    result.Add((member.Address.Host, member.GatewayPort));
                }
            }

            result.Sort((a, b) => string.CompareOrdinal($"{a.Host}:{a.Port}", $"{b.Host}:{b.Port}"));
        }

        if (result.Count == 0)
        {
            foreach (var text in clientOptions.Gateways)
            {
                if (EndpointParser.TryParse(text, out var host, out var port))
                {
                    result.Add((host, port));
                }
            }
        }

        return result;
    }

    /// <summary>A gateway the cluster declared Dead is dropped at once, even while its socket stays open (a hung or
    /// cut-off silo): its calls in flight fail with <see cref="SiloUnavailableException"/> instead of waiting out the
    /// response timeout, and the next call connects to another gateway.</summary>
    private void OnSnapshotChanged(ClusterMembershipSnapshot snapshot)
    {
        if (gateway is { IsClosed: false, RemoteSilo: { } silo } current && snapshot.GetStatus(silo) == SiloStatus.Dead)
        {
            Log.GatewayDeclaredDead(logger, silo);
            current.Close($"the gateway silo {silo} was declared Dead (membership version {snapshot.Version})");
        }
    }

    private void Sweep() => gateway?.ExpireCalls(timeProvider.GetTimestamp(), messagingOptions.ResponseTimeout);

    private static partial class Log
    {
        [LoggerMessage(5001, LogLevel.Information, "Connected to gateway {Host}:{Port} (silo {Silo})")]
        public static partial void Connected(ILogger logger, string host, int port, SiloAddress silo);

        [LoggerMessage(5002, LogLevel.Warning, "Lost the gateway connection to {Gateway}")]
        public static partial void GatewayLost(ILogger logger, string gateway);

        [LoggerMessage(5003, LogLevel.Warning, "Gateway silo {Silo} was declared Dead; dropping its connection")]
        public static partial void GatewayDeclaredDead(ILogger logger, SiloAddress silo);
    }
}
