using Actors.Catalog;
using Actors.Membership;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Placement;

/// <summary>
/// Chooses the silo for a grain that has no activation: rendezvous hashing over the Active silos by
/// default, the named silo for <see cref="SiloPinnedPlacementAttribute"/>, or an
/// <see cref="IPlacementDirector"/> service for <see cref="DirectedPlacementAttribute"/>.
/// </summary>
/// <remarks>Thread-safe; stateless apart from the injected services.</remarks>
internal sealed class PlacementService(GrainTypeResolver types, IServiceProvider services)
{
    /// <summary>True when the grain's class is silo-pinned; such grains bypass the directory.</summary>
    public bool IsSiloPinned(GrainId grainId) =>
        types.TryGetClass(grainId.Type, out var info) && info.Placement is SiloPinnedPlacementAttribute;

    /// <summary>The pinned silo: the member named after the last '@' of the key, which must be Active.</summary>
    /// <exception cref="SiloUnavailableException">The named silo is unknown or not Active.</exception>
    public static SiloAddress PickPinned(GrainId grainId, ClusterMembershipSnapshot membership)
    {
        var at = grainId.Key.LastIndexOf('@');
        if (at < 0 || at == grainId.Key.Length - 1)
        {
            throw new ArgumentException(
                $"Grain {grainId} is silo-pinned, so its key must end with '@<silo name>'.");
        }

        var name = grainId.Key[(at + 1)..];
        var member = membership.FindByName(name);
        if (member is null || member.Status != SiloStatus.Active)
        {
            throw new SiloUnavailableException(
                $"Grain {grainId} is pinned to silo '{name}', which is {(member is null ? "not a cluster member" : member.Status.ToString())} " +
                $"in membership version {membership.Version}.");
        }

        return member.Address;
    }

    /// <summary>Chooses an Active silo for a grain that has no live activation.</summary>
    public async ValueTask<SiloAddress> PickSiloAsync(GrainId grainId, ClusterMembershipSnapshot membership, SiloAddress? localSilo,
        CancellationToken cancellationToken = default)
    {
        types.TryGetClass(grainId.Type, out var info);
        switch (info?.Placement)
        {
            case SiloPinnedPlacementAttribute:
                return PickPinned(grainId, membership);
            case DirectedPlacementAttribute directed:
                var director = services.GetService(directed.DirectorType) as IPlacementDirector
                    ?? throw new InvalidOperationException(
                        $"Grain {grainId} uses directed placement with {directed.DirectorType}, but no such IPlacementDirector is registered; " +
                        $"add services.AddSingleton<{directed.DirectorType.Name}>() in UseActors.");
                var chosen = await director.PickSiloAsync(new PlacementContext(grainId, membership, localSilo), cancellationToken).ConfigureAwait(false);
                if (membership.GetStatus(chosen) != SiloStatus.Active && !membership.ActiveSilos.Any(s => s.IsSameEndpoint(chosen)))
                {
                    throw new SiloUnavailableException(
                        $"The placement director {directed.DirectorType.Name} chose silo {chosen} for grain {grainId}, but it is not Active.");
                }

                return chosen;
            default:
                return RendezvousHash.Pick(grainId, membership.ActiveSilos, RendezvousHash.PlacementSalt)
                    ?? throw new SiloUnavailableException(
                        $"No Active silo can host grain {grainId} (membership version {membership.Version}: {membership}).");
        }
    }
}
