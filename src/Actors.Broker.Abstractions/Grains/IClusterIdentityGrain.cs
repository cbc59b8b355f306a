namespace Actors.Broker;

/// <summary>
/// The cluster's identity in the metadata store (key <see cref="BrokerGrainKeys.ClusterIdentity"/>): a random id made
/// and persisted the first time it is asked for, as Kafka's cluster id is made when its storage is formatted. Every
/// partition directory records it; a silo whose logs record another id (another cluster's logs, or a fresh or
/// replaced metadata store) refuses to start instead of following a metadata store that does not know its topics.
/// </summary>
[Alias("broker.IClusterIdentityGrain")]
public interface IClusterIdentityGrain : IGrainWithStringKey
{
    /// <summary>The cluster id, made and written to the store on the first call.</summary>
    Task<string> GetClusterIdAsync();
}
