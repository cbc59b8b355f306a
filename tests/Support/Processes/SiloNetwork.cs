
namespace Actors.Testing;

/// <summary>
/// A network of its own for each silo process, so a test can cut real links between silos: silo <c>i</c> runs in a
/// network namespace the test creates, with address 10.213.N.i on a veth pair whose other end is on a bridge in the
/// test's namespace (address 10.213.N.254, so the test's clients reach every silo). <see cref="CutAsync"/> drops every
/// packet between two silos with nftables rules inside their namespaces (a partition: connections hang, nothing is
/// refused); <see cref="HealAsync"/> removes them. The SQLite membership and state files stay shared, as a storage
/// service both sides of a partition still reach. Needs root, iproute2 and nftables (the test command installs it);
/// <see cref="Unavailable"/> says why not. Disposing deletes the namespaces, the veth pairs and the bridge.
/// </summary>
public sealed class SiloNetwork : IAsyncDisposable
{
    private const string Table = "actors_partition";
    private readonly string id;
    private readonly int subnet;
    private readonly List<string> namespaces = [];
    private readonly HashSet<(int, int)> cuts = [];

    private SiloNetwork(string id, int subnet)
    {
        this.id = id;
        this.subnet = subnet;
    }

    /// <summary>Null when silo networks can be made here; otherwise the reason.</summary>
    public static string? Unavailable { get; } = NetworkNamespace.Unavailable ?? (FindTool("nft") is null ? "nftables' nft command is not installed (apt-get install nftables; the test command installs it)" : null);

    /// <summary>The address the test's own clients use to reach the silos' network.</summary>
    public string HostAddress => $"10.213.{subnet}.254";

    /// <summary>Creates the bridge and <paramref name="members"/> namespaces, numbered from 1.</summary>
    public static async Task<SiloNetwork> CreateAsync(int members)
    {
        if (Unavailable is { } reason)
        {
            throw new InvalidOperationException($"Silo networks cannot be made here: {reason}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(members);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(members, 200);
        // Interface names are at most 15 characters: "asb" + 4 hex digits + member number.
        var network = new SiloNetwork($"{Random.Shared.Next(0x10000):x4}", Random.Shared.Next(1, 255));
        try
        {
            await Ip("link", "add", network.Bridge, "type", "bridge");
            await Ip("addr", "add", $"{network.HostAddress}/24", "dev", network.Bridge);
            await Ip("link", "set", network.Bridge, "up");
            for (var i = 1; i <= members; i++)
            {
                await network.AddMemberAsync(i);
            }

            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>The namespace silo <paramref name="member"/> runs in.</summary>
    public string Namespace(int member) => $"asn{id}-{member}";

    /// <summary>Silo <paramref name="member"/>'s address, which it binds and advertises.</summary>
    public string Address(int member) => $"10.213.{subnet}.{member}";

    /// <summary>Drops every packet between silos <paramref name="a"/> and <paramref name="b"/>, both ways.</summary>
    public async Task CutAsync(int a, int b)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(a, b);
        await DropAsync(a, b);
        await DropAsync(b, a);
        cuts.Add((Math.Min(a, b), Math.Max(a, b)));
    }

    /// <summary>Cuts <paramref name="member"/> off from every other silo (the test's clients still reach it).</summary>
    public async Task IsolateAsync(int member)
    {
        for (var other = 1; other <= namespaces.Count; other++)
        {
            if (other != member)
            {
                await CutAsync(member, other);
            }
        }
    }

    /// <summary>Removes every cut.</summary>
    public async Task HealAsync()
    {
        for (var member = 1; member <= namespaces.Count; member++)
        {
            await NftAsync(member, "flush", "table", "inet", Table);
        }

        cuts.Clear();
    }

    /// <summary>The cuts in place, as "1|2" pairs, for failure messages.</summary>
    public override string ToString() => cuts.Count == 0 ? "no cuts" : string.Join(", ", cuts.Select(c => $"{c.Item1}|{c.Item2}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var name in namespaces)
        {
            // Deleting a namespace deletes its end of each veth pair, and with it the other end.
            await Quietly(() => NetworkNamespace.RunAsync("ip", "netns", "delete", name));
        }

        await Quietly(() => Ip("link", "delete", Bridge));
    }

    private string Bridge => $"asb{id}";

    private async Task AddMemberAsync(int member)
    {
        var name = Namespace(member);
        var outside = $"asv{id}h{member}";
        var inside = $"asv{id}s{member}";
        await NetworkNamespace.RunAsync("ip", "netns", "add", name);
        namespaces.Add(name);
        await Ip("link", "add", outside, "type", "veth", "peer", "name", inside);
        await Ip("link", "set", inside, "netns", name);
        await Ip("link", "set", outside, "master", Bridge);
        await Ip("link", "set", outside, "up");
        await InAsync(member, "ip", "link", "set", "lo", "up");
        await InAsync(member, "ip", "addr", "add", $"{Address(member)}/24", "dev", inside);
        await InAsync(member, "ip", "link", "set", inside, "up");
        await NftAsync(member, "add", "table", "inet", Table);
        await NftAsync(member, "add", "chain", "inet", Table, "in", "{ type filter hook input priority 0 ; }");
        await NftAsync(member, "add", "chain", "inet", Table, "out", "{ type filter hook output priority 0 ; }");
    }

    private async Task DropAsync(int member, int from)
    {
        await NftAsync(member, "add", "rule", "inet", Table, "in", "ip", "saddr", Address(from), "drop");
        await NftAsync(member, "add", "rule", "inet", Table, "out", "ip", "daddr", Address(from), "drop");
    }

    private Task NftAsync(int member, params string[] arguments) => InAsync(member, ["nft", .. arguments]);

    private Task InAsync(int member, params string[] command) => NetworkNamespace.RunAsync("ip", ["netns", "exec", Namespace(member), .. command]);

    private static Task Ip(params string[] arguments) => NetworkNamespace.RunAsync("ip", arguments);

    private static async Task Quietly(Func<Task> cleanup)
    {
        try
        {
            await cleanup();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static string? FindTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/sbin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
}
