using Actors.Membership;

namespace Actors.Placement;

/// <summary>Base of placement attributes on grain classes. Without one, a grain's silo is chosen by
/// rendezvous hashing of its id over the Active silos.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public abstract class PlacementAttribute : Attribute
{
}

/// <summary>
/// Pins the grain to the silo whose name is the part of the key after the last '@'
/// (e.g. "orders/0@silo2"). A call while that silo is not Active fails fast with
/// <see cref="SiloUnavailableException"/>.
/// </summary>
public sealed class SiloPinnedPlacementAttribute : PlacementAttribute
{
}

/// <summary>Places the grain where a director (an <see cref="IPlacementDirector"/> service of type
/// <paramref name="directorType"/>) says, e.g. the silo metadata names as a partition's leader.</summary>
public sealed class DirectedPlacementAttribute(Type directorType) : PlacementAttribute
{
    public Type DirectorType { get; } = directorType;
}

/// <summary>What a director is asked.</summary>
/// <param name="GrainId">The grain to place.</param>
/// <param name="Membership">The current membership view.</param>
/// <param name="LocalSilo">The silo asking (null on a client).</param>
public sealed record PlacementContext(GrainId GrainId, ClusterMembershipSnapshot Membership, SiloAddress? LocalSilo);

/// <summary>Chooses a silo for a grain. Called by the directory when the grain has no activation.</summary>
public interface IPlacementDirector
{
    /// <summary>The Active silo to activate the grain on. Throw <see cref="SiloUnavailableException"/>
    /// when the grain's silo is known but not Active.</summary>
    ValueTask<SiloAddress> PickSiloAsync(PlacementContext context, CancellationToken cancellationToken = default);
}
