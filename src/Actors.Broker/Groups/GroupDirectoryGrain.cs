namespace Actors.Broker.Groups;

/// <summary>Persisted set of group ids.</summary>
[GenerateSerializer]
[Alias("broker.GroupDirectoryState")]
public sealed class GroupDirectoryState
{
    [Id(0)] public List<string> Groups { get; set; } = [];
}

/// <summary>Which consumer groups exist (see <see cref="IGroupDirectoryGrain"/>).</summary>
[GrainType("broker-groups")]
public sealed class GroupDirectoryGrain([PersistentState("groups")] IPersistentState<GroupDirectoryState> state) : Grain, IGroupDirectoryGrain
{
    public async Task RegisterAsync(string groupId)
    {
        if (!state.State.Groups.Contains(groupId, StringComparer.Ordinal))
        {
            state.State.Groups.Add(groupId);
            await state.WriteStateAsync();
        }
    }

    public async Task UnregisterAsync(string groupId)
    {
        if (state.State.Groups.Remove(groupId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Groups.Order(StringComparer.Ordinal).ToArray());
}
