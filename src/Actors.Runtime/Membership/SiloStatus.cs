namespace Actors.Membership;

/// <summary>A silo's status in the membership table.</summary>
/// <remarks>Persisted: values never change.</remarks>
public enum SiloStatus
{
    None = 0,

    /// <summary>Started and joining: reachable for probes, not yet hosting grains.</summary>
    Joining = 1,

    /// <summary>Hosting grains; placement uses only Active silos.</summary>
    Active = 2,

    /// <summary>Stopping gracefully: handing off work, taking no new activations.</summary>
    ShuttingDown = 3,

    /// <summary>Gone for good. A Dead silo that reads its own row as Dead stops itself.</summary>
    Dead = 4,
}
