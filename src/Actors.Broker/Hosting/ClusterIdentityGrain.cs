using Actors.Broker.Logs;

namespace Actors.Broker.Hosting;

/// <summary>Persisted state of the cluster identity: the id, empty until first asked for.</summary>
[GenerateSerializer]
[Alias("broker.ClusterIdentityState")]
public sealed class ClusterIdentityState
{
    [Id(0)] public string ClusterId { get; set; } = string.Empty;
}

/// <summary>Makes and keeps the cluster id (see <see cref="IClusterIdentityGrain"/>). The id is written (with the
/// storage's conditional write) before it is returned, so two activations cannot hand out two ids: the loser's write
/// fails and its caller retries against the stored one.</summary>
[GrainType("broker-cluster-identity")]
public sealed class ClusterIdentityGrain(
    [PersistentState("cluster-identity")] IPersistentState<ClusterIdentityState> state) : Grain, IClusterIdentityGrain
{
    public async Task<string> GetClusterIdAsync()
    {
        if (string.IsNullOrEmpty(state.State.ClusterId))
        {
            // Kafka's form: a random uuid in URL-safe base64.
            state.State.ClusterId = PartitionMetadata.FormatUuid(Guid.NewGuid());
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                state.State.ClusterId = string.Empty;
                DeactivateOnIdle();
                throw;
            }
        }

        return state.State.ClusterId;
    }
}
