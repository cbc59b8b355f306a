using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Actors.Broker.Placement;

/// <summary>Places a partition grain ("topic/partition") on the silo the controller names as the partition's leader.</summary>
[GenerateSerializer]
[Immutable]
[Alias("actors.partition-leader-placement")]
public sealed class PartitionLeaderPlacement : PlacementStrategy
{
    internal static readonly PartitionLeaderPlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="PartitionLeaderPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PartitionLeaderPlacementAttribute() : PlacementAttribute(PartitionLeaderPlacement.Instance);

/// <summary>
/// Runs <see cref="PartitionLeaderPlacement"/>: asks the controller for the partition's state and picks the Active
/// silo it names. Placement runs only when the grain has no activation in the directory, so a stale leader
/// activation is not moved here: it answers NOT_LEADER_OR_FOLLOWER and deactivates, and the next call lands here.
/// A deleted or unknown partition, or an offline one, is activated on the calling silo, which answers the error.
/// </summary>
internal sealed class PartitionLeaderPlacementDirector(IGrainFactory grainFactory, IClusterMembershipService membership) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var tp = BrokerGrainKeys.ParsePartition(target.GrainIdentity.Key.ToString() ?? string.Empty);
        PartitionState state;
        try
        {
            state = await grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller).GetPartitionStateAsync(tp).ConfigureAwait(false);
        }
        catch (BrokerException e) when (e.Code == ErrorCode.UnknownTopicOrPartition)
        {
            return AnySilo(target, context, tp);
        }

        if (state.Leader is null)
        {
            return AnySilo(target, context, tp);
        }

        var member = membership.CurrentSnapshot.FindByName(state.Leader);
        if (member is null || member.Status != SiloStatus.Active)
        {
            throw new SiloUnavailableException(
                $"The leader of {tp}, silo '{state.Leader}', is not Active (leader epoch {state.LeaderEpoch}); retry after the controller elects a new leader.");
        }

        return member.SiloAddress;
    }

    private static SiloAddress AnySilo(PlacementTarget target, IPlacementContext context, TopicPartition tp)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Contains(context.LocalSilo))
        {
            return context.LocalSilo;
        }

        return compatible.Length > 0 ? compatible[0] : throw new SiloUnavailableException($"No Active silo to answer for {tp}.");
    }
}
