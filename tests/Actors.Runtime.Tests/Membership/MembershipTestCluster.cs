using System.Collections.Concurrent;
using Actors.Membership;
using Microsoft.Extensions.Options;

namespace Actors.Runtime.Tests.Membership;

/// <summary>Membership oracles of several silos over one in-memory table, a fake network and a manual clock.</summary>
internal sealed class MembershipTestCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<MembershipNode> nodes = [];

    /// <param name="runLoops">False: no periodic loops; tests drive rounds with <see cref="ProbeRoundAsync"/>.</param>
    public MembershipTestCluster(bool runLoops = false, Action<ClusterMembershipOptions>? configure = null)
    {
        RunLoops = runLoops;
        configure?.Invoke(Options);
    }

    public bool RunLoops { get; }

    public InMemoryMembershipTable Table { get; } = new();

    public ManualTimeProvider Time { get; } = new(Start);

    public FakeNetwork Network { get; } = new();

    public ClusterMembershipOptions Options { get; } = new();

    public IReadOnlyList<MembershipNode> Nodes => nodes;

    /// <summary>Creates a silo oracle without joining.</summary>
    public MembershipNode Create(string name, int port, long generation = 1)
    {
        var address = new SiloAddress("127.0.0.1", port, generation);
        var terminator = new RecordingTerminator();
        var prober = new FakeProber(Network, () => address);
        var manager = new MembershipTableManager(
            Table,
            new FixedSiloDetails(address, name, port + 1000),
            prober,
            terminator,
            Microsoft.Extensions.Options.Options.Create(Options),
            Time)
        {
            RunLoops = RunLoops,
        };
        var node = new MembershipNode(name, address, manager, prober, terminator);
        nodes.Add(node);
        return node;
    }

    /// <summary>Creates, joins and activates a silo.</summary>
    public async Task<MembershipNode> StartAsync(string name, int port, long generation = 1)
    {
        var node = Create(name, port, generation);
        await node.Manager.JoinAsync(CancellationToken.None);
        await node.Manager.BecomeActiveAsync(CancellationToken.None);
        return node;
    }

    /// <summary>One probe round on each listed live silo, in order, after moving the clock by one probe period.</summary>
    public async Task ProbeRoundAsync(params MembershipNode[] probers)
    {
        Time.Advance(Options.ProbePeriod);
        foreach (var node in probers)
        {
            await node.Manager.RefreshAsync();
            await node.Manager.ProbeRoundAsync(CancellationToken.None);
        }
    }

    public async Task<SiloStatus> StatusInTableAsync(SiloAddress silo) =>
        (await Table.ReadAll()).Find(silo)?.Entry.Status ?? SiloStatus.None;

    public long TotalDeathDeclarations => nodes.Sum(n => n.Manager.DeathDeclarations);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
        {
            await node.Manager.DisposeAsync();
        }
    }
}

internal sealed class MembershipNode
{
    public MembershipNode(string name, SiloAddress address, MembershipTableManager manager, FakeProber prober, RecordingTerminator terminator)
    {
        Name = name;
        Address = address;
        Manager = manager;
        Prober = prober;
        Terminator = terminator;
        manager.SnapshotChanged += s => Views.Enqueue(s);
    }

    public string Name { get; }

    public SiloAddress Address { get; }

    public MembershipTableManager Manager { get; }

    public FakeProber Prober { get; }

    public RecordingTerminator Terminator { get; }

    /// <summary>Every snapshot published to subscribers, in order.</summary>
    public ConcurrentQueue<ClusterMembershipSnapshot> Views { get; } = new();
}
