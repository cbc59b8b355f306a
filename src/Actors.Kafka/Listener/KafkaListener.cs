using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Actors.Broker;
using Actors.Broker.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Actors.Kafka.Listener;

/// <summary>
/// A silo's Kafka port: accepts TCP connections and serves each (<see cref="KafkaConnection"/>). A silo lifecycle
/// participant at <see cref="Stage"/>: it starts once the silo is Active and the broker runs — it binds, registers
/// the silo's Kafka broker id and advertised address with the controller, then accepts — and stops before the
/// broker stops (no new connections; open ones are cancelled and awaited).
/// </summary>
/// <remarks>Start and stop come from the lifecycle, one after the other; connections run concurrently and only
/// touch <see cref="connections"/>, a concurrent dictionary. Each listener of <c>listeners</c> has its own socket and
/// accept loop, with handlers that advertise the brokers' addresses on that listener; they share the request budget,
/// the connection bound and the cluster view.</remarks>
public sealed partial class KafkaListener(
    IOptions<KafkaListenerOptions> options,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<ClusterOptions> cluster,
    TimeProvider time,
    ILogger<KafkaListener> logger,
    IOptions<BrokerOptions> brokerOptions,
    Security.AclAuthorizer authorizer) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>After the broker's own participant (Active + 1): up after it, down before it.</summary>
    public const int Stage = ServiceLifecycleStage.Active + 2;

    private const int RegisterAttempts = 5;

    private readonly ConcurrentDictionary<Task, bool> connections = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Socket> listenSockets = [];
    private Task[] accepting = [];
    private int disposed;

    /// <summary>The first listener's bound endpoint once started.</summary>
    public IPEndPoint? LocalEndpoint => LocalEndpoints.Count > 0 ? LocalEndpoints[0] : null;

    /// <summary>Every listener's bound endpoint once started, in the order of <c>listeners</c>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndpoints { get; private set; } = [];

    /// <summary>This silo's Kafka broker id once started.</summary>
    public int NodeId { get; private set; } = -1;

    /// <summary>Whether every listener is bound and accepting connections (the silo's /health asks).</summary>
    public bool Listening => accepting.Length > 0 && accepting.All(a => !a.IsCompleted);

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        if (options.Value.Enabled)
        {
            lifecycle.Subscribe(nameof(KafkaListener), Stage, StartAsync, StopAsync);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var listeners = settings.ResolveAll(silo.SiloAddress.Endpoint.Address.ToString());
        var bound = new List<IPEndPoint>(listeners.Count);
        foreach (var endpoints in listeners)
        {
            var socket = new Socket(endpoints.Bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(endpoints.Bind);
                socket.Listen(512);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new InvalidOperationException(
                    $"The Kafka listener {endpoints.Security.ListenerName} cannot bind {endpoints.Bind} ({e.SocketErrorCode}); change Actors:Kafka:Port (--kafka-port) or listeners.", e);
            }

            listenSockets.Add(socket);
            bound.Add((IPEndPoint)socket.LocalEndPoint!);
        }

        LocalEndpoints = bound;
        var advertised = listeners
            .Select((l, i) => new KafkaListenerInfo(l.Security.ListenerName, l.AdvertisedHost, l.AdvertisedPort ?? bound[i].Port))
            .ToArray();
        NodeId = await RegisterAsync(advertised, cancellationToken).ConfigureAwait(false);
        var controller = grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
        var view = new ClusterView(controller.GetMetadataAsync, time);
        var frames = new KafkaFrameReader(settings.MaxRequestBytes);
        var budget = new RequestBudget(settings.MaxQueuedRequestBytes);
        var store = grains.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials);
        var loops = new Task[listeners.Count];
        for (var i = 0; i < listeners.Count; i++)
        {
            var (name, host, port) = advertised[i];
            var broker = new KafkaBroker(grains, silo.Name, NodeId, host, port, cluster.Value.ClusterId, view, settings, time, logger)
            {
                BrokerSettings = brokerOptions.Value,
                ListenerName = name,
                Authorizer = authorizer,
            };
            loops[i] = AcceptLoopAsync(listenSockets[i], new KafkaRequestHandler(broker), frames, budget, settings, listeners[i].Security, store.GetAsync);
            LogStarted(logger, bound[i].ToString(), name, listeners[i].Security.Protocol, NodeId, host, port);
        }

        accepting = loops;
    }

    private async Task<int> RegisterAsync(KafkaListenerInfo[] listeners, CancellationToken cancellationToken)
    {
        var controller = grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
        var pause = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await controller.RegisterKafkaListenersAsync(silo.Name, listeners).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < RegisterAttempts && e is not ArgumentException)
            {
                LogRegisterRetry(logger, attempt, e.Message);
                await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
                pause *= 2;
            }
        }
    }

    private async Task AcceptLoopAsync(Socket socket, KafkaRequestHandler handler, KafkaFrameReader frames, RequestBudget budget,
        KafkaListenerOptions settings, ListenerSecurity security, Security.ScramCredentialLookup credentials)
    {
        var idle = TimeSpan.FromMilliseconds(settings.ConnectionsMaxIdleMs);
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(logger, e.SocketErrorCode.ToString());
                continue;
            }

            if (connections.Count >= settings.MaxConnections)
            {
                LogTooManyConnections(logger, settings.MaxConnections);
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            var session = security.Tls || security.Sasl ? new Security.ConnectionSession(security, credentials) : null;
            var connection = new KafkaConnection(client, handler, frames, settings.MaxInFlightRequestsPerConnection, logger, budget, idle,
                session, TimeSpan.FromMilliseconds(settings.SslHandshakeTimeoutMs));
            var run = Task.Run(() => connection.RunAsync(stopping.Token));
            connections[run] = true;
            _ = run.ContinueWith(t => connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        foreach (var socket in listenSockets)
        {
            socket.Dispose();
        }

        await Task.WhenAll(accepting).ConfigureAwait(false);

        try
        {
            await Task.WhenAll(connections.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The silo's stop deadline passed; the sockets are closed by the cancelled loops as they finish.
        }

        LogStopped(logger);
    }

    /// <summary>Idempotent: the container disposes this once as itself and once as a lifecycle participant.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stopping.Cancel();
        foreach (var socket in listenSockets)
        {
            socket.Dispose();
        }

        stopping.Dispose();
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information,
        Message = "Kafka listener {Listener} on {Endpoint} ({Protocol}): broker id {NodeId}, advertised as {Host}:{Port}")]
    private static partial void LogStarted(ILogger logger, string endpoint, string listener, string protocol, int nodeId, string host, int port);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Kafka listener stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Registering the Kafka broker with the controller failed (attempt {Attempt}): {Problem}")]
    private static partial void LogRegisterRetry(ILogger logger, int attempt, string problem);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning,
        Message = "Refused a Kafka connection: {MaxConnections} are open (Actors:Kafka:MaxConnections, max.connections)")]
    private static partial void LogTooManyConnections(ILogger logger, int maxConnections);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Accepting a Kafka connection failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, string error);
}
