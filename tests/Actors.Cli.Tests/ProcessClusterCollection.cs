namespace Actors.Cli.Tests;

/// <summary>Tests that start their own cluster of silo processes run alone, after the shared-silo tests: a 3-silo
/// cluster timing failure detection beside a perf test saturating the other silo would make its timings depend on
/// the neighbours on two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "process-clusters";
}
