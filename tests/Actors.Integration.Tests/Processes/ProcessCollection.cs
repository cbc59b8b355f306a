namespace Actors.Integration.Tests.Processes;

/// <summary>Process tests run one at a time: several clusters of silo processes at once on two cores would make
/// failure detection depend on the neighbours.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "silo-processes";
}
