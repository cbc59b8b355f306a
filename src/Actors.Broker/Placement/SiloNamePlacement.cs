using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Actors.Broker.Placement;

/// <summary>Places a grain whose key ends in "@silo" on the Active silo of that name (a replica grain,
/// "topic/partition@silo", owns that silo's copy of the log). If that silo is not Active the call fails with
/// <see cref="SiloUnavailableException"/> naming it: the copy cannot move.</summary>
[GenerateSerializer]
[Immutable]
[Alias("actors.silo-name-placement")]
public sealed class SiloNamePlacement : PlacementStrategy
{
    internal static readonly SiloNamePlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="SiloNamePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloNamePlacementAttribute() : PlacementAttribute(SiloNamePlacement.Instance);

/// <summary>Runs <see cref="SiloNamePlacement"/>.</summary>
internal sealed class SiloNamePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = target.GrainIdentity.Key.ToString() ?? string.Empty;
        var name = BrokerGrainKeys.ParseReplicaSilo(key);
        var member = membership.CurrentSnapshot.FindByName(name);
        if (member is null || member.Status != SiloStatus.Active || !context.GetCompatibleSilos(target).Contains(member.SiloAddress))
        {
            throw new SiloUnavailableException(
                $"{target.GrainIdentity} lives on silo '{name}', which is {(member is null ? "not in the cluster" : member.Status.ToString())}.");
        }

        return Task.FromResult(member.SiloAddress);
    }
}
