using Actors.Broker;
using Orleans.Runtime;

namespace Actors.Testing;

/// <summary>What a client retries while silos die and leadership moves.</summary>
internal static class Transient
{
    /// <summary>The target silo left or is unreachable, the call timed out, the runtime rejected the message, or the
    /// broker answered with an error (the caller checks its code).</summary>
    public static bool Is(Exception e) => e is TimeoutException or OrleansException or BrokerException;
}
