using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Actors.Membership;

/// <summary>
/// The table-based membership oracle of a silo (Orleans' MembershipTableManager and
/// ClusterHealthMonitor in one): joins the table, writes IAmAlive, re-reads the table, probes
/// other silos, votes unanswering ones suspect and declares them Dead with conditional writes.
/// </summary>
/// <remarks>
/// <para>Invariants: published snapshots have strictly increasing versions (the table version);
/// every table write is conditional on the version read, so a decision made on a stale view
/// changes nothing and is retried on a fresh read; once this silo reads itself Dead (or finds a
/// newer incarnation of itself) it stops every loop and calls <see cref="ISiloTerminator.TerminateSelf"/>
/// exactly once.</para>
/// <para>Thread-safety: public members may be called from any thread. Writes of this silo's own
/// row are serialized by one semaphore; probe bookkeeping is touched only by the probe loop.</para>
/// </remarks>
public sealed partial class MembershipTableManager : IClusterMembershipService, IMembershipLifecycle, IAsyncDisposable, IDisposable
{
    private readonly IMembershipTable table;
    private readonly ILocalSiloDetails localSilo;
    private readonly ISiloProber prober;
    private readonly ISiloTerminator terminator;
    private readonly ClusterMembershipOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly MembershipSnapshotPublisher publisher;
    private readonly SemaphoreSlim ownRowLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<SiloAddress, int> missedProbes = new();
    private readonly List<Task> loops = [];
    private readonly Lock readGate = new();
    private MembershipTableData? lastRead;
    private SiloAddress? me;
    private int joined;
    private long joinedVersion;
    private int terminated;
    private int leaving;
    private long deathDeclarations;
    private long votesWritten;

    public MembershipTableManager(
        IMembershipTable table,
        ILocalSiloDetails localSilo,
        ISiloProber prober,
        ISiloTerminator terminator,
        IOptions<ClusterMembershipOptions> options,
        TimeProvider? timeProvider = null,
        ILogger<MembershipTableManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(localSilo);
        ArgumentNullException.ThrowIfNull(prober);
        ArgumentNullException.ThrowIfNull(terminator);
        ArgumentNullException.ThrowIfNull(options);
        this.table = table;
        this.localSilo = localSilo;
        this.prober = prober;
        this.terminator = terminator;
        this.options = options.Value;
        this.options.Validate();
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        publisher = new MembershipSnapshotPublisher(ex => LogSnapshotHandlerFailed(this.logger, ex));
    }

    public ClusterMembershipSnapshot CurrentSnapshot => publisher.Current;

    public event Action<ClusterMembershipSnapshot>? SnapshotChanged
    {
        add => publisher.Changed += value;
        remove => publisher.Changed -= value;
    }

    /// <summary>When false, <see cref="JoinAsync"/> starts no periodic loops and tests drive rounds
    /// directly (<see cref="ProbeRoundAsync"/>, <see cref="RefreshAsync"/>). Default true.</summary>
    internal bool RunLoops { get; set; } = true;

    /// <summary>This silo's address once <see cref="JoinAsync"/> ran.</summary>
    public SiloAddress? LocalSilo => Volatile.Read(ref me);

    /// <summary>How many silos this silo declared Dead (each a successful conditional write).</summary>
    public long DeathDeclarations => Interlocked.Read(ref deathDeclarations);

    /// <summary>How many suspicion votes this silo wrote (the deciding ones included).</summary>
    public long VotesWritten => Interlocked.Read(ref votesWritten);

    /// <summary>True once this silo found itself Dead and asked to be terminated.</summary>
    public bool IsTerminated => Volatile.Read(ref terminated) != 0;

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var data = await table.ReadAll(cancellationToken).ConfigureAwait(false);
        ProcessTableRead(data);
    }

    /// <summary>Aborts and waits for the loops; safe to call more than once (DI may dispose the
    /// instance under each contract it is registered for). The semaphore and token source are not
    /// disposed (they hold no timer or wait handle), so a late caller never meets a disposed object.</summary>
    public async ValueTask DisposeAsync()
    {
        Abort();
        await WaitForLoopsAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the loops without waiting for them (as <see cref="Abort"/>).</summary>
    public void Dispose() => Abort();

    /// <summary>Publishes the read as a snapshot if it is newer, and stops this silo if the table says it is Dead.</summary>
    private void ProcessTableRead(MembershipTableData data)
    {
        lock (readGate)
        {
            if (lastRead is null || data.Version.Version >= lastRead.Version.Version)
            {
                lastRead = data;
            }
        }

        var snapshot = data.ToSnapshot();
        if (publisher.TryPublish(snapshot))
        {
            LogViewChanged(logger, data.Version.Version, snapshot.ToString());
        }

        CheckSelfStatus(data);
    }

    private void CheckSelfStatus(MembershipTableData data)
    {
        var self = Volatile.Read(ref me);
        if (self is null || Volatile.Read(ref joined) == 0 || Volatile.Read(ref leaving) != 0)
        {
            return;
        }

        var row = data.Find(self);
        if (row is null && data.Version.Version < Interlocked.Read(ref joinedVersion))
        {
            // A read that started before this silo's row was inserted.
            return;
        }

        if (row is null)
        {
            TerminateSelf($"the membership table no longer has a row for {self}");
        }
        else if (row.Entry.Status == SiloStatus.Dead)
        {
            var voters = string.Join(", ", row.Entry.SuspectVotes.Select(v => v.Voter.ToString()));
            TerminateSelf($"the membership table declares {self} Dead (votes by: {(voters.Length == 0 ? "none" : voters)})");
        }
        else if (data.Rows.FirstOrDefault(r => r.Entry.SiloAddress.IsSameEndpoint(self) && r.Entry.SiloAddress.Generation > self.Generation) is { } newer)
        {
            TerminateSelf($"a newer incarnation {newer.Entry.SiloAddress} of this silo is in the membership table");
        }
    }

    private void TerminateSelf(string reason)
    {
        if (Interlocked.Exchange(ref terminated, 1) != 0)
        {
            return;
        }

        LogFoundMyselfDead(logger, Volatile.Read(ref me)?.ToString() ?? "?", reason);
        StopLoops();
        try
        {
            terminator.TerminateSelf(reason);
        }
        catch (Exception ex)
        {
            LogTerminateFailed(logger, ex);
        }
    }

    private MembershipTableData? LastRead
    {
        get
        {
            lock (readGate)
            {
                return lastRead;
            }
        }
    }

    private SiloAddress RequireJoined() =>
        Volatile.Read(ref me) ?? throw new InvalidOperationException("The silo has not joined the membership table; call JoinAsync first.");
}
