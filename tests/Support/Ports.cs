using System.Net;
using System.Net.Sockets;

namespace Actors.Testing;

/// <summary>Free TCP ports for servers a test starts.</summary>
/// <remarks>
/// Ports come from 20000-32767, below Linux's ephemeral range (32768-60999), so an outgoing connection
/// of any process cannot take a port between the moment it is chosen and the moment a silo binds it,
/// as a port the kernel hands out for port 0 can. Each port is handed out once per test process, so the
/// silo, gateway, Kafka and HTTP ports of every silo in a cluster differ even when chosen in separate
/// calls. Each test process starts at a random point of the range, so test processes running side by
/// side rarely probe the same ports, and a candidate is used only if it can be bound on every address.
/// </remarks>
internal static class Ports
{
    private const int First = 20000;
    private const int Count = 32768 - First;
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> HandedOut = [];
    private static int _cursor = Random.Shared.Next(Count);

    /// <summary><paramref name="count"/> distinct ports that were free on every address a moment ago and
    /// were never handed out before in this process.</summary>
    public static int[] GetFreeTcpPorts(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var ports = new int[count];
        lock (Gate)
        {
            for (var i = 0; i < count; i++)
            {
                ports[i] = NextFreePort();
            }
        }

        return ports;
    }

    /// <summary>One port that was free on every address a moment ago.</summary>
    public static int GetFreeTcpPort() => GetFreeTcpPorts(1)[0];

    private static int NextFreePort()
    {
        for (var probed = 0; probed < Count; probed++)
        {
            var port = First + _cursor;
            _cursor = (_cursor + 1) % Count;
            if (!HandedOut.Contains(port) && CanBind(port))
            {
                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"No free TCP port left in {First}-{First + Count - 1} for this test process.");
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

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
