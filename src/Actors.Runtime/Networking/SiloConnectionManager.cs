using System.Collections.Concurrent;
using System.Net.Sockets;
using Actors.Configuration;
using Actors.Membership;
using Actors.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Networking;

/// <summary>
/// The silo's connections: one per peer silo (outbound, or inbound from that peer), plus inbound client
/// gateway connections. Connecting is single-flight per endpoint; a failed attempt backs off
/// (<see cref="MessagingOptions.ReconnectBackoffMin"/> doubling to <see cref="MessagingOptions.ReconnectBackoffMax"/>)
/// and calls during the backoff fail at once with <see cref="SiloUnavailableException"/>.
/// </summary>
/// <remarks>Thread-safe. Invariant: a connection in <c>silos</c> is keyed by its peer's endpoint and its
/// peer's generation matches what callers ask for (else it is replaced or the call is refused).</remarks>
internal sealed partial class SiloConnectionManager
{
    private readonly ConcurrentDictionary<string, Connection> silos = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<Connection>>> connecting = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (long RetryAtTimestamp, TimeSpan Backoff, string Error, long Generation)> failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Connection, byte> all = new();
    private readonly MessagingOptions options;
    private readonly NetworkFaultInjector faults;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<Connection> connectionLogger;
    private readonly ILogger<SiloConnectionManager> logger;
    private readonly SiloAddress localSilo;
    private volatile bool stopped;

    public SiloConnectionManager(ILocalSiloDetails localSilo, IOptions<MessagingOptions> options, NetworkFaultInjector faults,
        TimeProvider timeProvider, ILogger<Connection> connectionLogger, ILogger<SiloConnectionManager> logger)
    {
        this.localSilo = localSilo.SiloAddress;
        this.options = options.Value;
        this.faults = faults;
        this.timeProvider = timeProvider;
        this.connectionLogger = connectionLogger;
        this.logger = logger;
    }

    /// <summary>Set by the silo before it starts: receives everything the connections read.</summary>
    public IConnectionHandler Handler { get; set; } = null!;

    public IEnumerable<Connection> Connections => all.Keys;

    /// <summary>An established connection to <paramref name="target"/>, connecting if needed.</summary>
    /// <exception cref="SiloUnavailableException">Stopped, backing off after a failure, refused, or another incarnation answers.</exception>
    public ValueTask<Connection> GetConnectionAsync(SiloAddress target)
    {
        if (silos.TryGetValue(target.Endpoint, out var existing) && !existing.IsClosed)
        {
            if (SiloIdentity.Matches(target, existing.RemoteSilo!))
            {
                return new ValueTask<Connection>(existing);
            }

            if (target.Generation < existing.RemoteSilo!.Generation)
            {
                throw new SiloUnavailableException(
                    $"Silo {target} is gone: {existing.RemoteSilo} (a newer incarnation) now listens on {target.Endpoint}.");
            }

            // A newer incarnation is asked for: connect to it; the handshake proves it (the old connection
            // closes when membership declares the old incarnation Dead).
        }

        return new ValueTask<Connection>(ConnectSingleFlightAsync(target));
    }

    /// <summary>Sends on a connection to <paramref name="target"/>; when the connection turns out closed before
    /// the frame was queued (nothing sent), sends once more on a fresh connection.</summary>
    public async ValueTask<PendingCall> SendAsync<TState>(SiloAddress target, TState state, Func<Connection, TState, PendingCall> send)
    {
        for (var attempt = 0; ; attempt++)
        {
            var connection = await GetConnectionAsync(target).ConfigureAwait(false);
            var pending = send(connection, state);
            if (!pending.NotSent || attempt > 0)
            {
                return pending;
            }

            silos.TryRemove(new KeyValuePair<string, Connection>(target.Endpoint, connection));
        }
    }

    /// <summary>Accepting side: wraps an accepted socket (silo port).</summary>
    public Connection? OnAccepted(Socket socket)
    {
        if (stopped || faults.RefuseNewConnections)
        {
            return null;
        }

        var connection = new Connection(socket, isOutbound: false, Handler, options, faults, timeProvider, connectionLogger);
        all[connection] = 0;
        connection.Start();
        return connection;
    }

    /// <summary>Called by the handler once an inbound silo handshake is accepted.</summary>
    public void RegisterInbound(Connection connection)
    {
        var peer = connection.RemoteSilo!;
        silos.AddOrUpdate(peer.Endpoint, connection, (_, current) =>
            current.IsClosed || (current.RemoteSilo is { } old && old.Generation < peer.Generation) ? connection : current);
        failures.TryRemove(peer.Endpoint, out _);
    }

    /// <summary>Called when a connection closes.</summary>
    public void OnClosed(Connection connection)
    {
        all.TryRemove(connection, out _);
        if (connection.RemoteSilo is { } peer)
        {
            silos.TryRemove(new KeyValuePair<string, Connection>(peer.Endpoint, connection));
        }
    }

    /// <summary>Closes connections to <paramref name="silo"/> (it was declared Dead): its calls in flight fail at once.</summary>
    public void CloseConnectionsTo(SiloAddress silo, string reason)
    {
        foreach (var connection in all.Keys)
        {
            if (connection.RemoteSilo is { } peer && SiloIdentity.Matches(silo, peer) && (silo.Generation == 0 || peer.Generation == silo.Generation))
            {
                connection.Close(reason);
            }
        }
    }

    /// <summary>Fails calls past their deadline on every connection.</summary>
    public void ExpireCalls()
    {
        var now = timeProvider.GetTimestamp();
        foreach (var connection in all.Keys)
        {
            connection.ExpireCalls(now, options.ResponseTimeout);
        }
    }

    /// <summary>Closes every connection. <paramref name="abortive"/> resets the sockets (kill).</summary>
    public void CloseAll(string reason, bool abortive)
    {
        stopped = true;
        foreach (var connection in all.Keys)
        {
            connection.Close(reason, abortive);
        }
    }

    private async Task<Connection> ConnectSingleFlightAsync(SiloAddress target)
    {
        if (stopped)
        {
            throw new SiloUnavailableException($"Silo {localSilo} is stopped; it cannot call {target}.");
        }

        // The backoff holds for the incarnation that failed; a newer one on the same endpoint (a restarted silo that
        // membership now names) is tried at once.
        if (failures.TryGetValue(target.Endpoint, out var failure) && timeProvider.GetTimestamp() < failure.RetryAtTimestamp
            && target.Generation <= failure.Generation)
        {
            throw new SiloUnavailableException(
                $"Silo {target} is unreachable (the last connection attempt failed: {failure.Error}); the next attempt is after a {failure.Backoff.TotalMilliseconds:0} ms backoff.");
        }

        var lazy = connecting.GetOrAdd(target.Endpoint, _ => new Lazy<Task<Connection>>(() => ConnectAsync(target)));
        try
        {
            var connection = await lazy.Value.ConfigureAwait(false);
            if (!SiloIdentity.Matches(target, connection.RemoteSilo!))
            {
                throw new SiloUnavailableException($"Silo {target} is gone: {connection.RemoteSilo} now listens on {target.Endpoint}.");
            }

            return connection;
        }
        finally
        {
            connecting.TryRemove(new KeyValuePair<string, Lazy<Task<Connection>>>(target.Endpoint, lazy));
        }
    }

    private async Task<Connection> ConnectAsync(SiloAddress target)
    {
        Socket? socket = null;
        Connection? connection = null;
        try
        {
            if (faults.RefuseNewConnections)
            {
                throw new SocketException((int)SocketError.ConnectionRefused);
            }

            using var timeout = new CancellationTokenSource(options.ConnectTimeout, timeProvider);
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
            connection = new Connection(socket, isOutbound: true, Handler, options, faults, timeProvider, connectionLogger);
            all[connection] = 0;
            connection.Start();
            var accepted = await connection.HandshakeAsync(new HandshakeRequest(false, localSilo.ToString(), target), timeout.Token).ConfigureAwait(false);
            if (!SiloIdentity.Matches(target, accepted.Silo))
            {
                connection.Close($"expected {target}, found {accepted.Silo}");
                throw new SiloUnavailableException($"Silo {target} is gone: {accepted.Silo} now listens on {target.Endpoint}.");
            }

            silos.AddOrUpdate(target.Endpoint, connection, (_, current) => current.IsClosed || !SiloIdentity.Matches(target, current.RemoteSilo!) ? connection : current);
            failures.TryRemove(target.Endpoint, out _);
            if (stopped)
            {
                connection.Close("the silo stopped");
            }

            return connection;
        }
        catch (Exception exception)
        {
            if (connection is not null)
            {
                connection.Close(exception.Message);
            }
            else
            {
                socket?.Dispose();
            }

            var backoff = options.NextReconnectBackoff(failures.TryGetValue(target.Endpoint, out var previous) ? previous.Backoff : null);
            var message = exception is OperationCanceledException ? $"no answer within MessagingOptions.ConnectTimeout ({options.ConnectTimeout})" : exception.Message;
            failures[target.Endpoint] = (timeProvider.GetTimestamp() + (long)(backoff.TotalSeconds * timeProvider.TimestampFrequency), backoff, message, target.Generation);
            Log.ConnectFailed(logger, target, message);
            throw new SiloUnavailableException($"Could not connect to silo {target}: {message}", exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Debug, "Connecting to silo {Silo} failed: {Error}")]
        public static partial void ConnectFailed(ILogger logger, SiloAddress silo, string error);
    }
}
