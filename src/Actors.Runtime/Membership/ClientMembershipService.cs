using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Actors.Membership;

/// <summary>
/// A cluster client's view of membership: it never probes or writes, it only re-reads the
/// membership table every <see cref="ClusterMembershipOptions.TableRefreshPeriod"/> (and on
/// <see cref="RefreshAsync"/>), so a client learns gateways (<see cref="ClusterMember.GatewayPort"/>
/// of Active silos) and follows view changes.
/// </summary>
/// <remarks>Thread-safe. Snapshots are published only when their version is newer. The refresh
/// loop runs from <see cref="StartAsync"/> until <see cref="StopAsync"/> or disposal.</remarks>
public sealed partial class ClientMembershipService : IClusterMembershipService, IHostedService, IAsyncDisposable, IDisposable
{
    private readonly IMembershipTable table;
    private readonly ClusterMembershipOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly MembershipSnapshotPublisher publisher;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;
    private int started;
    private int disposed;

    public ClientMembershipService(
        IMembershipTable table,
        IOptions<ClusterMembershipOptions> options,
        TimeProvider? timeProvider = null,
        ILogger<ClientMembershipService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        this.table = table;
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

    /// <summary>The gateways of Active silos in the current view, as "host:port".</summary>
    public IReadOnlyList<string> ActiveGateways => CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active && m.GatewayPort > 0)
        .Select(m => $"{m.Address.Host}:{m.GatewayPort}")
        .OrderBy(g => g, StringComparer.Ordinal)
        .ToList();

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var data = await table.ReadAll(cancellationToken).ConfigureAwait(false);
        if (publisher.TryPublish(data.ToSnapshot()))
        {
            LogViewChanged(logger, data.Version.Version);
        }
    }

    /// <summary>Reads the table once (failing if it cannot be read) and starts the refresh loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started, 1) != 0)
        {
            return;
        }

        await table.InitializeMembershipTable(tryInitTableVersion: true, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        loop = RunAsync(stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
    }

    /// <summary>Stops the loop; safe to call more than once (DI may dispose the instance under each
    /// contract it is registered for).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            stopping.Dispose();
        }
    }

    /// <summary>Stops the refresh loop without waiting for it.</summary>
    public void Dispose()
    {
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        try
        {
            stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed.
        }
    }

    private async Task RunAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.TableRefreshPeriod, time, token).ConfigureAwait(false);
                await RefreshAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(3150, LogLevel.Debug, "Client membership view moved to v{Version}")]
    private static partial void LogViewChanged(ILogger logger, long version);

    [LoggerMessage(3151, LogLevel.Warning, "Reading the membership table failed; the client keeps its last view and retries")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(3152, LogLevel.Error, "A membership snapshot subscriber threw")]
    private static partial void LogSnapshotHandlerFailed(ILogger logger, Exception exception);
}
