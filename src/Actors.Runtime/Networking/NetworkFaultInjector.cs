namespace Actors.Networking;

/// <summary>
/// Fault injection for tests, one per silo (a DI singleton). Setting <see cref="DropProbes"/> makes the
/// silo drop the liveness pings it would send and ignore the pings it receives, so the rest of the
/// cluster sees it as unresponsive while its process and sockets stay up.
/// </summary>
/// <remarks>Thread-safe: plain volatile flags read on the I/O path.</remarks>
public sealed class NetworkFaultInjector
{
    private volatile bool dropProbes;
    private volatile bool refuseNewConnections;

    /// <summary>Drop outgoing pings and ignore incoming pings.</summary>
    public bool DropProbes
    {
        get => dropProbes;
        set => dropProbes = value;
    }

    /// <summary>Refuse incoming connections and fail outgoing connection attempts.</summary>
    public bool RefuseNewConnections
    {
        get => refuseNewConnections;
        set => refuseNewConnections = value;
    }
}
