using Actors.Persistence;
using Actors.Runtime.Tests.Membership;

namespace Actors.Runtime.Tests.Persistence;

/// <summary>The conditional-write contract every <see cref="IGrainStorage"/> provider keeps.</summary>
public abstract class GrainStorageContractTests
{
    private static readonly GrainId Grain = new("account", "42");

    protected abstract IGrainStorage CreateStorage();

    [Fact]
    public async Task A_missing_record_reads_as_null()
    {
        Assert.Null(await CreateStorage().ReadAsync("state", Grain));
    }

    [Fact]
    public async Task A_write_without_an_etag_creates_the_record_and_reads_back()
    {
        var storage = CreateStorage();

        var etag = await storage.WriteAsync("state", Grain, new byte[] { 1, 2, 3 }, null);

        var read = await storage.ReadAsync("state", Grain);
        Assert.NotNull(read);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.Data.ToArray());
        Assert.Equal(etag, read.ETag);
        Assert.Null(await storage.ReadAsync("other", Grain));
        Assert.Null(await storage.ReadAsync("state", new GrainId("account", "43")));
    }

    [Fact]
    public async Task A_write_with_the_current_etag_replaces_the_record_with_a_new_etag()
    {
        var storage = CreateStorage();
        var first = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null);

        var second = await storage.WriteAsync("state", Grain, new byte[] { 2 }, first);

        Assert.NotEqual(first, second);
        Assert.Equal(new byte[] { 2 }, (await storage.ReadAsync("state", Grain))!.Data.ToArray());
    }

    [Fact]
    public async Task Creating_a_record_that_exists_throws_and_keeps_the_stored_one()
    {
        var storage = CreateStorage();
        var etag = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 9 }, null));

        Assert.Equal(etag, error.StoredEtag);
        Assert.Null(error.CurrentEtag);
        Assert.Contains("must not exist", error.Message, StringComparison.Ordinal);
        Assert.Equal(new byte[] { 1 }, (await storage.ReadAsync("state", Grain))!.Data.ToArray());
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_throws_and_changes_nothing()
    {
        var storage = CreateStorage();
        var stale = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null);
        var current = await storage.WriteAsync("state", Grain, new byte[] { 2 }, stale);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 3 }, stale));

        Assert.Equal(current, error.StoredEtag);
        Assert.Equal(stale, error.CurrentEtag);
        Assert.Equal(new byte[] { 2 }, (await storage.ReadAsync("state", Grain))!.Data.ToArray());
    }

    [Fact]
    public async Task Two_writers_holding_the_same_etag_leave_exactly_one_write()
    {
        var storage = CreateStorage();
        var etag = await storage.WriteAsync("state", Grain, new byte[] { 0 }, null);

        var outcomes = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => Task.Run(async () =>
        {
            try
            {
                await storage.WriteAsync("state", Grain, new[] { (byte)i }, etag);
                return i;
            }
            catch (InconsistentStateException)
            {
                return 0;
            }
        })));

        var winner = Assert.Single(outcomes, o => o != 0);
        Assert.Equal(new[] { (byte)winner }, (await storage.ReadAsync("state", Grain))!.Data.ToArray());
    }

    [Fact]
    public async Task Clear_needs_the_current_etag_and_a_cleared_record_never_accepts_an_old_etag()
    {
        var storage = CreateStorage();
        var etag = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearAsync("state", Grain, "stale"));
        await storage.ClearAsync("state", Grain, etag);

        Assert.Null(await storage.ReadAsync("state", Grain));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 2 }, etag));
        var recreated = await storage.WriteAsync("state", Grain, new byte[] { 3 }, null);
        Assert.NotEqual(etag, recreated);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 4 }, etag));
    }

    [Fact]
    public async Task Stored_bytes_do_not_alias_the_callers_buffer()
    {
        var storage = CreateStorage();
        var buffer = new byte[] { 1, 2 };
        await storage.WriteAsync("state", Grain, buffer, null);

        buffer[0] = 99;

        Assert.Equal(new byte[] { 1, 2 }, (await storage.ReadAsync("state", Grain))!.Data.ToArray());
    }
}

public sealed class MemoryGrainStorageTests : GrainStorageContractTests
{
    protected override IGrainStorage CreateStorage() => new MemoryGrainStorage();
}

public sealed class SqliteGrainStorageTests : GrainStorageContractTests, IDisposable
{
    private readonly TempDirectory directory = new("sqlite-storage");
    private readonly Xunit.Abstractions.ITestOutputHelper output;

    public SqliteGrainStorageTests(Xunit.Abstractions.ITestOutputHelper output) => this.output = output;

    public void Dispose() => directory.Dispose();

    protected override IGrainStorage CreateStorage() =>
        new SqliteGrainStorage("Default", new SqliteGrainStorageOptions { DatabasePath = directory.File("grains.db") });

    [Fact]
    public async Task State_survives_a_new_provider_instance_on_the_same_file()
    {
        var etag = await CreateStorage().WriteAsync("state", Grain2, new byte[] { 7 }, null);

        var read = await CreateStorage().ReadAsync("state", Grain2);

        Assert.Equal(etag, read!.ETag);
        Assert.Equal(new byte[] { 7 }, read.Data.ToArray());
    }

    [Fact]
    public async Task An_unopenable_path_fails_with_an_error_naming_the_setting_and_provider()
    {
        var blocker = directory.File("file");
        await File.WriteAllTextAsync(blocker, "x");
        var storage = new SqliteGrainStorage("orders", new SqliteGrainStorageOptions { DatabasePath = Path.Combine(blocker, "grains.db") });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => storage.ReadAsync("state", Grain2));

        Assert.Contains("SqliteGrainStorageOptions.DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("'orders'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conditional_writers_in_several_processes_never_lose_an_update()
    {
        const int processes = 4;
        const int incrementsEach = 150;
        var path = directory.File("counter.db");

        await WorkerProcess.RunManyAsync("storage", path, processes, incrementsEach, output);

        var stored = await new SqliteGrainStorage("Default", new SqliteGrainStorageOptions { DatabasePath = path })
            .ReadAsync("counter", new GrainId("counter", "1"));
        var value = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(stored!.Data.Span);
        output.WriteLine($"counter={value}");
        Assert.Equal(processes * incrementsEach, value);
    }

    private static readonly GrainId Grain2 = new("account", "7");
}
