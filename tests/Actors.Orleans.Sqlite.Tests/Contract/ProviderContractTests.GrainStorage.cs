using Actors.Orleans.Sqlite.Tests.Support;
using Orleans.Storage;

namespace Actors.Orleans.Sqlite.Tests.Contract;

public abstract partial class ProviderContractTests
{
    private static readonly GrainId Account = GrainId.Create("account", "42");

    private static GrainState<CounterState> NewState(long value = 0, string? etag = null) =>
        new(new CounterState { Value = value }, etag!);

    private static async Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, string stateName, GrainId grain)
    {
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync(stateName, grain, state, CancellationToken.None);
        return state;
    }

    [Fact]
    public async Task Storage_a_missing_record_reads_as_a_new_state_without_an_etag()
    {
        var storage = await CreateGrainStorageAsync();

        var state = await ReadAsync(storage, "counter", Account);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State!.Value);
    }

    [Fact]
    public async Task Storage_a_write_reads_back_with_its_etag_and_only_under_its_own_name_and_grain()
    {
        var storage = await CreateGrainStorageAsync();
        var state = NewState(7);
        state.State!.Note = "seven";

        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);

        Assert.True(state.RecordExists);
        Assert.False(string.IsNullOrEmpty(state.ETag));
        var read = await ReadAsync(storage, "counter", Account);
        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(7, read.State!.Value);
        Assert.Equal("seven", read.State!.Note);
        Assert.False((await ReadAsync(storage, "other", Account)).RecordExists);
        Assert.False((await ReadAsync(storage, "counter", GrainId.Create("account", "43"))).RecordExists);
    }

    [Fact]
    public async Task Storage_a_write_with_the_current_etag_replaces_the_state_under_a_new_etag()
    {
        var storage = await CreateGrainStorageAsync();
        var state = NewState(1);
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);
        var first = state.ETag;

        state.State!.Value = 2;
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);

        Assert.NotEqual(first, state.ETag);
        var read = await ReadAsync(storage, "counter", Account);
        Assert.Equal(2, read.State!.Value);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task Storage_creating_a_record_that_exists_throws_and_keeps_the_stored_one()
    {
        var storage = await CreateGrainStorageAsync();
        await storage.WriteStateAsync("counter", Account, NewState(1), CancellationToken.None);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Account, NewState(9), CancellationToken.None));

        Assert.Equal(1, (await ReadAsync(storage, "counter", Account)).State!.Value);
    }

    [Fact]
    public async Task Storage_a_write_with_a_stale_etag_throws_and_changes_nothing()
    {
        var storage = await CreateGrainStorageAsync();
        var state = NewState(1);
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);
        var stale = state.ETag;
        state.State!.Value = 2;
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Account, NewState(3, stale), CancellationToken.None));

        Assert.Equal(stale, error.CurrentEtag);
        var read = await ReadAsync(storage, "counter", Account);
        Assert.Equal(2, read.State!.Value);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task Storage_clear_needs_the_current_etag_resets_the_state_and_refuses_etags_from_before_it()
    {
        var storage = await CreateGrainStorageAsync();
        var state = NewState(5);
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);
        var beforeClear = state.ETag;

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", Account, NewState(0, "stale-etag"), CancellationToken.None));
        Assert.Equal(5, (await ReadAsync(storage, "counter", Account)).State!.Value);

        await storage.ClearStateAsync("counter", Account, state, CancellationToken.None);

        Assert.False(state.RecordExists);
        Assert.Equal(0, state.State!.Value);
        Assert.NotEqual(beforeClear, state.ETag);
        var read = await ReadAsync(storage, "counter", Account);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Value);
        Assert.Equal(state.ETag, read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Account, NewState(6, beforeClear), CancellationToken.None));

        // The state as the clear left it writes again.
        state.State!.Value = 7;
        await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);
        Assert.Equal(7, (await ReadAsync(storage, "counter", Account)).State!.Value);
    }

    [Fact]
    public async Task Storage_two_writers_holding_the_same_etag_leave_exactly_one_write()
    {
        var storage = await CreateGrainStorageAsync();
        var initial = NewState(0);
        await storage.WriteStateAsync("counter", Account, initial, CancellationToken.None);

        var outcomes = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => Task.Run(async () =>
        {
            try
            {
                await storage.WriteStateAsync("counter", Account, NewState(i, initial.ETag), CancellationToken.None);
                return i;
            }
            catch (InconsistentStateException)
            {
                return 0;
            }
        })));

        var winner = Assert.Single(outcomes, o => o != 0);
        Assert.Equal(winner, (await ReadAsync(storage, "counter", Account)).State!.Value);
    }

    [Fact]
    public async Task Storage_concurrent_writers_retrying_on_InconsistentStateException_lose_no_update()
    {
        const int writers = 4;
        const int incrementsEach = 15;
        var storage = await CreateGrainStorageAsync();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            for (var done = 0; done < incrementsEach;)
            {
                var state = await ReadAsync(storage, "counter", Account);
                state.State!.Value++;
                try
                {
                    await storage.WriteStateAsync("counter", Account, state, CancellationToken.None);
                    done++;
                }
                catch (InconsistentStateException)
                {
                    // Another writer won this round; read again.
                }
            }
        })));

        Assert.Equal(writers * incrementsEach, (await ReadAsync(storage, "counter", Account)).State!.Value);
    }
}
