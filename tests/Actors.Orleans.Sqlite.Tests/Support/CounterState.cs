namespace Actors.Orleans.Sqlite.Tests.Support;

/// <summary>The grain state of the storage tests.</summary>
[GenerateSerializer]
[Alias("Actors.Orleans.Sqlite.Tests.CounterState")]
public sealed class CounterState
{
    [Id(0)]
    public long Value { get; set; }

    [Id(1)]
    public string? Note { get; set; }
}
