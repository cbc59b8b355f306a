namespace Actors.Integration.Tests.Membership;

public interface ILocatorGrain : IGrainWithStringKey
{
    /// <summary>The silo hosting this activation.</summary>
    Task<string> WhereAmI();
}

public sealed class LocatorGrain : Grain, ILocatorGrain
{
    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}

[GenerateSerializer]
public sealed class TallyState
{
    [Id(0)]
    public int Value { get; set; }
}

public interface ITallyGrain : IGrainWithStringKey
{
    /// <summary>The stored value as this activation read it, and the hosting silo.</summary>
    Task<string> Describe();

    /// <summary>Adds one and writes the state (conditional on the ETag this activation holds).</summary>
    Task<int> Increment();
}

public sealed class TallyGrain([PersistentState("tally")] IPersistentState<TallyState> state) : Grain, ITallyGrain
{
    public Task<string> Describe() => Task.FromResult($"{state.State.Value}@{GrainContext.Silo}");

    public async Task<int> Increment()
    {
        state.State.Value++;
        await state.WriteStateAsync();
        return state.State.Value;
    }
}
