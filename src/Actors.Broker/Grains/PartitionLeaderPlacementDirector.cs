using Actors.Membership;
using Actors.Placement;

namespace Actors.Broker.Grains;

/// <summary>Places a partition grain ("topic/partition") on the silo the controller names as the partition's leader.</summary>
public sealed class PartitionLeaderPlacementDirector(IGrainFactory grainFactory) : IPlacementDirector
{
    public async ValueTask<SiloAddress> PickSiloAsync(PlacementContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var tp = BrokerGrainKeys.ParsePartition(context.GrainId.Key);
        PartitionState state;
        try
        {
            state = await grainFactory.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller).GetPartitionStateAsync(tp).ConfigureAwait(false);
        }
        catch (BrokerException e) when (e.Code == ErrorCode.UnknownTopicOrPartition)
        {
            // Deleted or unknown: activate where asked so the grain can answer the error itself.
            return context.LocalSilo ?? context.Membership.ActiveSilos.FirstOrDefault()
                ?? throw new SiloUnavailableException($"No Active silo to answer for {tp}.");
        }

        if (state.Leader is null)
        {
            // Offline partition: any silo answers LEADER_NOT_AVAILABLE.
            return context.LocalSilo ?? context.Membership.ActiveSilos.FirstOrDefault()
                ?? throw new SiloUnavailableException($"No Active silo to answer for {tp}.");
        }

        var member = context.Membership.FindByName(state.Leader);
        if (member is null || member.Status != SiloStatus.Active)
        {
            throw new SiloUnavailableException(
                $"The leader of {tp}, silo '{state.Leader}', is not Active (leader epoch {state.LeaderEpoch}); retry after the controller elects a new leader.");
        }

        return member.Address;
    }
}
