using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;

// Usage: Actors.Orleans.Sqlite.TestWorker <membership|storage> <database file> <increments>
// Resolves the SQLite providers from a silo host configured with UseEmbeddedSqlite (not started),
// increments a shared counter <increments> times through conditional writes, retrying each lost
// race on a fresh read, and prints "done <increments> conflicts=<n>". Exit code 0 on success.
if (args.Length != 3 || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var increments))
{
    Console.Error.WriteLine("usage: Actors.Orleans.Sqlite.TestWorker <membership|storage> <database file> <increments>");
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.ClearProviders();
builder.UseOrleans(silo => silo
    .Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = ("counter-test", "counter-test"))
    .UseEmbeddedSqlite(args[1], args[1]));
using var host = builder.Build();

var conflicts = args[0] switch
{
    "membership" => await IncrementMembershipCounterAsync(host.Services.GetRequiredService<IMembershipTable>(), increments),
    "storage" => await IncrementStorageCounterAsync(host.Services.GetRequiredKeyedService<IGrainStorage>("Default"), increments),
    _ => throw new ArgumentException($"Unknown mode '{args[0]}'; expected 'membership' or 'storage'."),
};
Console.WriteLine($"done {increments} conflicts={conflicts}");
return 0;

// The counter is the UpdateZone of the row of silo 127.0.0.1:1@1, written by InsertRow/UpdateRow
// conditional on the table version (and the row's etag).
static async Task<long> IncrementMembershipCounterAsync(IMembershipTable table, int increments)
{
    await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
    var key = SiloAddress.New(IPAddress.Loopback, 1, 1);
    long conflicts = 0;
    for (var done = 0; done < increments;)
    {
        var data = await table.ReadRowAsync(key);
        var row = data.TryGet(key);
        var written = row is null
            ? await table.InsertRowAsync(new MembershipEntry { SiloAddress = key, SiloName = "counter", HostName = "counter", Status = SiloStatus.Joining, UpdateZone = 1 }, data.Version.Next())
            : await table.UpdateRowAsync(WithUpdateZone(row.Item1, row.Item1.UpdateZone + 1), row.Item2, data.Version.Next());
        if (written)
        {
            done++;
        }
        else
        {
            conflicts++;
        }
    }

    return conflicts;
}

static MembershipEntry WithUpdateZone(MembershipEntry entry, int updateZone)
{
    entry.UpdateZone = updateZone;
    return entry;
}

// The counter is a long in state "counter" of grain counter/1.
static async Task<long> IncrementStorageCounterAsync(IGrainStorage storage, int increments)
{
    var grain = GrainId.Create("counter", "1");
    long conflicts = 0;
    for (var done = 0; done < increments;)
    {
        var state = new GrainState<long>();
        await storage.ReadStateAsync("counter", grain, state);
        state.State++;
        try
        {
            await storage.WriteStateAsync("counter", grain, state);
            done++;
        }
        catch (InconsistentStateException)
        {
            conflicts++;
        }
    }

    return conflicts;
}
