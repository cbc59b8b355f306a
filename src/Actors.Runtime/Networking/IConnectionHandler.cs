using Actors.Invocation;
using Actors.Messaging;
using Actors.Serialization;

namespace Actors.Networking;

/// <summary>What a connection hands upwards: handshakes (accepting side), requests, cancellations and its end.</summary>
/// <remarks>Called on the connection's receive loop: implementations must not block; bodies must be read
/// before returning (the frame's memory is reused afterwards).</remarks>
internal interface IConnectionHandler
{
    /// <summary>The runtime whose grain references are created while results are read.</summary>
    IGrainCallRuntime CallRuntime { get; }

    /// <summary>Accepting side: accept (return the answer) or refuse (return null and a reason).</summary>
    HandshakeAccept? AcceptHandshake(Connection connection, HandshakeRequest request, out string rejectReason);

    /// <summary>Accepting side: the accept answer is queued; the connection may now be used for sending.</summary>
    void OnInboundEstablished(Connection connection);

    void OnRequest(Connection connection, in MessageHeader header, ref ActorReader body);

    void OnSystemRequest(Connection connection, in MessageHeader header, ref ActorReader body);

    void OnClosed(Connection connection);
}
