using System.Net;
using System.Net.Sockets;
using Actors.Configuration;
using Microsoft.Extensions.Logging;

namespace Actors.Networking;

/// <summary>Accepts TCP connections on one endpoint and starts a <see cref="Connection"/> for each.</summary>
/// <remarks>Thread-safe. Stop closes the listening socket; accepted connections are owned by the caller's registry.</remarks>
internal sealed partial class ConnectionListener
{
    private readonly Socket socket;
    private readonly Func<Socket, Connection?> onAccepted;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();

    private ConnectionListener(Socket socket, Func<Socket, Connection?> onAccepted, ILogger logger)
    {
        this.socket = socket;
        this.onAccepted = onAccepted;
        this.logger = logger;
    }

    public EndPoint LocalEndPoint => socket.LocalEndPoint!;

    /// <summary>Binds <paramref name="host"/>:<paramref name="port"/> (every address when host is not an IP) and starts accepting.</summary>
    /// <exception cref="InvalidOperationException">The port is in use; the message names the setting.</exception>
    public static ConnectionListener Start(string host, int port, string settingName, Func<Socket, Connection?> onAccepted, ILogger logger)
    {
        var address = IPAddress.TryParse(host, out var ip) ? ip : IPAddress.IPv6Any;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }

        try
        {
            // Rebinding right after a restart must not fail on connections still in TIME_WAIT
            // (on Linux this does not let two listeners share the port).
            if (!OperatingSystem.IsWindows())
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            throw new InvalidOperationException(
                $"Cannot listen on {address}:{port} ({exception.SocketErrorCode}: {exception.Message}); change {settingName} or SiloOptions.AdvertisedHost.",
                exception);
        }

        var listener = new ConnectionListener(socket, onAccepted, logger);
        _ = Task.Run(listener.AcceptLoopAsync);
        return listener;
    }

    public void Stop()
    {
        stop.Cancel();
        socket.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException exception)
            {
                Log.AcceptFailed(logger, exception);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            try
            {
                if (onAccepted(accepted) is null)
                {
                    accepted.Dispose();
                }
            }
            catch (Exception exception)
            {
                Log.AcceptFailed(logger, exception);
                accepted.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Warning, "Accepting a connection failed")]
        public static partial void AcceptFailed(ILogger logger, Exception exception);
    }
}
