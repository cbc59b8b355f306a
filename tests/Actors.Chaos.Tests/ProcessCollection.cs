namespace Actors.Chaos.Tests;

/// <summary>Tests on silo processes run one at a time: two clusters pausing and killing silos at once on two cores
/// would make failure detection depend on the neighbours.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "silo-processes";
}
