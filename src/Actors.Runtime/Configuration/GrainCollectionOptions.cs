namespace Actors.Configuration;

/// <summary>Idle activation collection. Bound from "Actors:GrainCollection".</summary>
public sealed class GrainCollectionOptions
{
    /// <summary>An activation idle this long is deactivated. Default 15 min.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the collector looks for idle activations. Default 1 min.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long OnActivateAsync / OnDeactivateAsync may take before their token is cancelled. Default 30 s.</summary>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
