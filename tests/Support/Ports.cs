using System.Net;
using System.Net.Sockets;

namespace Actors.Testing;

/// <summary>Free TCP ports on the loopback address, for servers a test starts.</summary>
internal static class Ports
{
    /// <summary><paramref name="count"/> distinct ports that were free on 127.0.0.1 a moment ago. All are
    /// held open together while chosen, so they differ from each other; another process may still take
    /// one before the caller binds it.</summary>
    public static int[] GetFreeTcpPorts(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>One port that was free on 127.0.0.1 a moment ago.</summary>
    public static int GetFreeTcpPort() => GetFreeTcpPorts(1)[0];

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> now.</summary>
    public static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
