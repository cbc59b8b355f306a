using Actors.Broker.Controller;
using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Replication;
using Actors.Broker.Topics;
using Actors.Testing;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Tests.Replication;

/// <summary>
/// Three silos' worth of real partition logs (each its own LogManager and directory) with one partition replicated
/// across them: the leader's <see cref="PartitionLeader"/>, the followers' <see cref="ReplicaFetcher"/> loops, and the
/// controller's partition-state decisions (<see cref="PartitionStateMachine"/>) applied to one shared state. Calls
/// that would cross silos are direct method calls; a "down" silo answers nothing.
/// </summary>
internal sealed class ReplicationHarness : IAsyncDisposable
{
    private readonly TempDirectory dir = new("broker-tests");
    private readonly Dictionary<string, LogManager> managers = new();
    private readonly Dictionary<string, (CancellationTokenSource Stop, Task Loop)> fetchers = new();
    private readonly HashSet<string> down = new();
    private readonly object stateLock = new();

    public ReplicationHarness(int minInsync = 1, long lagTimeMaxMs = 30_000, string[]? silos = null, Dictionary<string, string>? topicConfig = null)
    {
        Silos = silos ?? ["s1", "s2", "s3"];
        Options = new BrokerOptions { LogDirs = "unused", MinInsyncReplicas = minInsync, ReplicaLagTimeMaxMs = lagTimeMaxMs, ReplicaFetchWaitMaxMs = 50 };
        Config = EffectiveTopicConfig.Resolve(topicConfig, Options);
        foreach (var s in Silos)
        {
            managers[s] = NewManager(s);
        }

        State = new PartitionState { Topic = "orders", Partition = 0, Replicas = Silos, Leader = Silos[0], LeaderEpoch = 0, Isr = Silos, PartitionEpoch = 0 };
    }

    public string[] Silos { get; }

    public BrokerOptions Options { get; }

    public EffectiveTopicConfig Config { get; }

    public PartitionState State { get; private set; }

    public PartitionLeader? Leader { get; private set; }

    public TopicPartition Tp => State.TopicPartition;

    public LocalPartition Local(string silo) => managers[silo].GetOrCreate(Tp, Config);

    /// <summary>Makes the state's leader lead and every other live replica follow.</summary>
    public async Task StartRolesAsync()
    {
        await StopFetchersAsync();
        Leader?.Resign();
        Leader = State.Leader is null ? null : new PartitionLeader(Local(State.Leader), State, State.Leader, Config, Options.ReplicaLagTimeMaxMs, TimeProvider.System, AlterAsync);
        foreach (var s in Silos.Where(s => s != State.Leader && !down.Contains(s)))
        {
            StartFetcher(s);
        }
    }

    public void StartFetcher(string silo)
    {
        var fetcher = new ReplicaFetcher(Local(silo), State, silo, new Link(this, silo), 1 << 20, 100, TimeProvider.System);
        var stop = new CancellationTokenSource();
        fetchers[silo] = (stop, Task.Run(() => fetcher.RunAsync(stop.Token)));
    }

    public async Task StopFetcherAsync(string silo)
    {
        if (fetchers.Remove(silo, out var f))
        {
            await f.Stop.CancelAsync();
            try
            {
                await f.Loop;
            }
            catch (OperationCanceledException)
            {
            }

            f.Stop.Dispose();
        }
    }

    public async Task StopFetchersAsync()
    {
        foreach (var s in fetchers.Keys.ToArray())
        {
            await StopFetcherAsync(s);
        }
    }

    /// <summary>Abrupt death of a silo: its roles stop, its logs close without goodbye, and the controller reacts.</summary>
    public async Task KillAsync(string silo)
    {
        down.Add(silo);
        await StopFetcherAsync(silo);
        if (State.Leader == silo)
        {
            Leader?.Resign();
        }

        await managers[silo].DisposeAsync();
        lock (stateLock)
        {
            State = PartitionStateMachine.OnLivenessChanged(State, s => !down.Contains(s));
        }

        if (Leader is null || !Leader.UpdateState(State))
        {
            await StartRolesAsync();
        }
    }

    /// <summary>The silo comes back: its logs are reopened (recovered) and it follows the current leader.</summary>
    public async Task RestartAsync(string silo)
    {
        down.Remove(silo);
        managers[silo] = NewManager(silo);
        lock (stateLock)
        {
            State = PartitionStateMachine.OnLivenessChanged(State, s => !down.Contains(s));
        }

        if (Leader is null || !Leader.IsActive)
        {
            await StartRolesAsync();
        }
        else
        {
            Leader.UpdateState(State);
            StartFetcher(silo);
        }
    }

    public byte[] LogBytes(string silo)
    {
        var local = Local(silo);
        var bytes = new List<byte>();
        var offset = local.LogStartOffset;
        while (offset < local.LogEndOffset)
        {
            using var read = local.Log.Read(offset, 1 << 20, long.MaxValue);
            if (read.Length == 0)
            {
                break;
            }

            bytes.AddRange(read.Records.ToArray());
            offset = read.NextOffset;
        }

        return bytes.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await StopFetchersAsync();
        Leader?.Resign();
        foreach (var (silo, m) in managers)
        {
            if (!down.Contains(silo))
            {
                await m.DisposeAsync();
            }
        }

        dir.Dispose();
    }

    private LogManager NewManager(string silo)
    {
        var o = new BrokerOptions { LogDirs = Directory.CreateDirectory(dir.File(silo)).FullName, MinInsyncReplicas = Options.MinInsyncReplicas, ReplicaLagTimeMaxMs = Options.ReplicaLagTimeMaxMs, ReplicaFetchWaitMaxMs = 50 };
        var m = new LogManager(Microsoft.Extensions.Options.Options.Create(o), TimeProvider.System);
        m.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return m;
    }

    /// <summary>Runs before the controller takes an ISR change; a test can hold the change here (a controller
    /// that does not answer) or make it fail.</summary>
    public Func<AlterPartitionRequest, Task>? BeforeAlter { get; set; }

    private async Task<PartitionState> AlterAsync(AlterPartitionRequest request)
    {
        if (BeforeAlter is { } hook)
        {
            await hook(request);
        }

        lock (stateLock)
        {
            State = PartitionStateMachine.AlterIsr(State, request, s => !down.Contains(s));
            return State;
        }
    }

    /// <summary>Runs before a follower's fetch reaches the leader; a test can hold it here (a leader that does not answer).</summary>
    public Func<string, Task>? BeforeFetch { get; set; }

    private sealed class Link(ReplicationHarness harness, string follower) : IPartitionLeaderLink
    {
        public async Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request, CancellationToken cancellationToken)
        {
            if (harness.BeforeFetch is { } hook)
            {
                await hook(follower);
            }

            return await FetchAsync(request, cancellationToken);
        }

        private Task<ReplicaFetchResponse> FetchAsync(ReplicaFetchRequest request, CancellationToken cancellationToken)
        {
            var leader = harness.Leader;
            if (leader is null || harness.down.Contains(leader.LocalSilo) || harness.down.Contains(follower))
            {
                throw new SiloUnavailableException($"leader of {harness.Tp} unreachable from {follower}");
            }

            return leader.ReplicaFetchAsync(request, cancellationToken);
        }

        public Task<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(int currentLeaderEpoch, int leaderEpoch, CancellationToken cancellationToken)
        {
            var leader = harness.Leader ?? throw new SiloUnavailableException($"no leader of {harness.Tp}");
            return Task.FromResult(leader.OffsetForLeaderEpoch(currentLeaderEpoch, leaderEpoch));
        }
    }
}
