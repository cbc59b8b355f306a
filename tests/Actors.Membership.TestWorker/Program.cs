using System.Buffers.Binary;
using System.Globalization;
using Actors;
using Actors.Membership;
using Actors.Persistence;

// Usage: Actors.Membership.TestWorker <membership|storage> <database file> <increments>
// Increments a shared counter <increments> times with conditional writes, retrying each lost race
// on a fresh read, and prints "done <increments> conflicts=<n>". Exit code 0 on success.
if (args.Length != 3 || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var increments) || increments < 0)
{
    Console.Error.WriteLine("usage: Actors.Membership.TestWorker <membership|storage> <database file> <increments>");
    return 2;
}

var conflicts = args[0] switch
{
    "membership" => await IncrementMembershipCounterAsync(args[1], increments),
    "storage" => await IncrementStorageCounterAsync(args[1], increments),
    _ => throw new ArgumentException($"Unknown mode '{args[0]}'; expected 'membership' or 'storage'."),
};
Console.WriteLine($"done {increments} conflicts={conflicts}");
return 0;

// The counter is the GatewayPort of a row keyed "counter:1@1", written by UpdateRow conditional on
// the row's ETag and the table version.
static async Task<long> IncrementMembershipCounterAsync(string path, int increments)
{
    var table = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = path, ClusterId = "counter-test" });
    await table.InitializeMembershipTable(tryInitTableVersion: true);
    var key = new SiloAddress("counter", 1, 1);
    long conflicts = 0;
    for (var done = 0; done < increments;)
    {
        var data = await table.ReadAll();
        var row = data.Find(key);
        var written = row is null
            ? await table.InsertRow(new MembershipEntry { SiloAddress = key, SiloName = "counter", Status = SiloStatus.Active, GatewayPort = 1 }, data.Version.Next())
            : await table.UpdateRow(row.Entry with { GatewayPort = row.Entry.GatewayPort + 1 }, row.ETag, data.Version.Next());
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

// The counter is an 8-byte big-endian value in grain state "counter" of grain counter/1.
static async Task<long> IncrementStorageCounterAsync(string path, int increments)
{
    var storage = new SqliteGrainStorage("Default", new SqliteGrainStorageOptions { DatabasePath = path });
    var grain = new GrainId("counter", "1");
    long conflicts = 0;
    for (var done = 0; done < increments;)
    {
        var stored = await storage.ReadAsync("counter", grain);
        var value = stored is null ? 0 : BinaryPrimitives.ReadInt64BigEndian(stored.Data.Span);
        var next = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(next, value + 1);
        try
        {
            await storage.WriteAsync("counter", grain, next, stored?.ETag);
            done++;
        }
        catch (InconsistentStateException)
        {
            conflicts++;
        }
    }

    return conflicts;
}
