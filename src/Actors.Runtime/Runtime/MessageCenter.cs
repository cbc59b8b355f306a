using System.Collections.Concurrent;
using Actors.Catalog;
using Actors.GrainDirectory;
using Actors.Invocation;
using Actors.Membership;
using Actors.Messaging;
using Actors.Networking;
using Actors.Serialization;

namespace Actors.Runtime;

/// <summary>
/// What a silo does with incoming frames. One instance serves the silo port (peers: requests for local
/// activations, directory traffic) and one the gateway port (clients: calls routed on through the silo's
/// runtime, wherever the grain lives).
/// </summary>
/// <remarks>Thread-safe; called on connection receive loops, never blocks them.</remarks>
internal sealed class MessageCenter : IConnectionHandler
{
    private readonly bool isGateway;
    private readonly SiloCallRuntime runtime;
    private readonly ActivationCatalog catalog;
    private readonly LocalGrainDirectory directory;
    private readonly SiloConnectionManager connections;
    private readonly GrainTypeResolver types;
    private readonly ILocalSiloDetails localSilo;
    private readonly ConcurrentDictionary<Connection, byte> gatewayConnections = new();

    public MessageCenter(bool isGateway, SiloCallRuntime runtime, ActivationCatalog catalog, LocalGrainDirectory directory,
        SiloConnectionManager connections, GrainTypeResolver types, ILocalSiloDetails localSilo)
    {
        this.isGateway = isGateway;
        this.runtime = runtime;
        this.catalog = catalog;
        this.directory = directory;
        this.connections = connections;
        this.types = types;
        this.localSilo = localSilo;
    }

    public IGrainCallRuntime CallRuntime => runtime;

    public int ClientCount => gatewayConnections.Count;

    /// <summary>Gateway side: wraps an accepted client socket.</summary>
    public Connection AcceptClient(Connection connection)
    {
        gatewayConnections[connection] = 0;
        connection.Start();
        return connection;
    }

    public void CloseClients(string reason, bool abortive)
    {
        foreach (var connection in gatewayConnections.Keys)
        {
            connection.Close(reason, abortive);
        }
    }

    public HandshakeAccept? AcceptHandshake(Connection connection, HandshakeRequest request, out string rejectReason)
    {
        var local = localSilo.SiloAddress;
        if (isGateway != request.IsClient)
        {
            rejectReason = isGateway
                ? $"{local.Host}:{localSilo.GatewayPort} is a client gateway (SiloOptions.GatewayPort); silos connect to the silo port {local.Port}."
                : $"{local.Endpoint} is a silo port (SiloOptions.SiloPort); clients connect to the gateway port {localSilo.GatewayPort}.";
            return null;
        }

        if (request.ExpectedTarget is { } expected && !SiloIdentity.Matches(expected, local))
        {
            rejectReason = $"this endpoint is silo {local}, not the expected incarnation {expected}.";
            return null;
        }

        rejectReason = string.Empty;
        if (!isGateway)
        {
            return new HandshakeAccept(local, localSilo.Name, []);
        }

        return new HandshakeAccept(local, localSilo.Name, types.GetManifest());
    }

    public void OnInboundEstablished(Connection connection)
    {
        if (!isGateway)
        {
            connections.RegisterInbound(connection);
        }
    }

    public void OnRequest(Connection connection, in MessageHeader header, ref ActorReader body)
    {
        var oneWay = header.Kind == MessageKind.OneWay;
        GrainInvokable call;
        try
        {
            if (!GeneratedCodeRegistry.TryGetInterface(header.InterfaceId, out var descriptor))
            {
                throw new InvalidOperationException(
                    $"Silo {localSilo.SiloAddress} does not know grain interface 0x{header.InterfaceId:x8} (called on {header.Target}); " +
                    "the silo must reference the assembly declaring it.");
            }

            call = descriptor.CreateInvokable(header.MethodId) ?? throw new InvalidOperationException(
                $"Grain interface {descriptor.InterfaceType} has no method {header.MethodId} on silo {localSilo.SiloAddress}; the silo runs an older version of it.");
            CallCodec.ReadArguments(call, ref body, runtime);
        }
        catch (Exception exception)
        {
            if (!oneWay)
            {
                connection.SendException(header.CorrelationId, exception);
            }

            return;
        }

        var cancellable = !oneWay && (header.Flags & MessageFlags.Cancellable) != 0;
        if (cancellable)
        {
            call.CancellationToken = connection.RegisterIncomingCancellation(header.CorrelationId, header.TimeToLiveMs);
        }

        if (isGateway)
        {
            _ = ForwardClientCallAsync(connection, header.CorrelationId, header.Target, call, oneWay, cancellable);
            return;
        }

        var item = new RemoteCallWorkItem(call, connection, header.CorrelationId, oneWay, cancellable);
        if (catalog.TryGetActivation(header.Target, out var activation))
        {
            activation.Enqueue(item);
        }
        else
        {
            _ = ActivateAndDeliverAsync(header.Target, item, oneWay);
        }
    }

    public void OnSystemRequest(Connection connection, in MessageHeader header, ref ActorReader body)
    {
        if (isGateway)
        {
            connection.SendException(header.CorrelationId, new InvalidOperationException("Clients cannot send system requests."));
            return;
        }

        try
        {
            directory.OnSystemRequest(connection, in header, ref body);
        }
        catch (Exception exception)
        {
            // A malformed or failing directory request fails that request, not the connection.
            connection.SendException(header.CorrelationId, exception);
        }
    }

    public void OnClosed(Connection connection)
    {
        if (isGateway)
        {
            gatewayConnections.TryRemove(connection, out _);
        }
        else
        {
            connections.OnClosed(connection);
        }
    }

    private async Task ActivateAndDeliverAsync(GrainId grainId, RemoteCallWorkItem item, bool oneWay)
    {
        try
        {
            if (await directory.ShouldActivateHereAsync(grainId).ConfigureAwait(false))
            {
                catalog.GetOrCreateActivation(grainId).Enqueue(item);
            }
            else if (oneWay)
            {
                await runtime.SendOneWayAsync(grainId, item.Call, owned: true).ConfigureAwait(false);
            }
            else
            {
                item.Complete(new ActivationGoneException(grainId));
            }
        }
        catch (Exception exception)
        {
            item.Complete(exception);
        }
    }

    private async Task ForwardClientCallAsync(Connection connection, long correlationId, GrainId grainId, GrainInvokable call,
        bool oneWay, bool cancellable)
    {
        try
        {
            if (oneWay)
            {
                await runtime.SendOneWayAsync(grainId, call, owned: true).ConfigureAwait(false);
                return;
            }

            await runtime.InvokeCoreAsync(grainId, call, owned: true).ConfigureAwait(false);
            connection.SendResponse(correlationId, call);
        }
        catch (Exception exception)
        {
            connection.SendException(correlationId, exception);
        }
        finally
        {
            if (cancellable)
            {
                connection.CompleteIncoming(correlationId);
            }
        }
    }
}
