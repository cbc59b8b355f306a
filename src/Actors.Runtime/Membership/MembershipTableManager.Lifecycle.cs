namespace Actors.Membership;

/// <summary>Joining, status changes of this silo's own row, and the periodic loops.</summary>
public sealed partial class MembershipTableManager
{
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        var self = localSilo.SiloAddress ?? throw new InvalidOperationException("ILocalSiloDetails.SiloAddress is not set; the silo must listen before it joins.");
        if (string.IsNullOrWhiteSpace(localSilo.Name))
        {
            throw new InvalidOperationException("ILocalSiloDetails.Name is empty; every silo needs a name (the silo's Name setting, Kafka's broker.id).");
        }

        if (Interlocked.CompareExchange(ref me, self, null) is not null)
        {
            throw new InvalidOperationException($"Silo {self} already joined the membership table.");
        }

        await table.InitializeMembershipTable(tryInitTableVersion: true, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            var data = await table.ReadAll(cancellationToken).ConfigureAwait(false);
            ProcessTableRead(data);
            if (!await RetireOlderIncarnationsAsync(data, self, cancellationToken).ConfigureAwait(false))
            {
                // Wrote (or lost a race): continue on a fresh read.
                ThrowIfOutOfAttempts(attempt, "join");
                continue;
            }

            var now = time.GetUtcNow();
            var entry = new MembershipEntry
            {
                SiloAddress = self,
                SiloName = localSilo.Name,
                Status = SiloStatus.Joining,
                GatewayPort = localSilo.GatewayPort,
                StartTime = now,
                IAmAliveTime = now,
            };
            var next = data.Version.Next();
            if (await table.InsertRow(entry, next, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Exchange(ref joinedVersion, next.Version);
                Volatile.Write(ref joined, 1);
                LogJoined(logger, self.ToString(), localSilo.Name, next.Version);
                break;
            }

            ThrowIfOutOfAttempts(attempt, "join");
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        StartLoops();
    }

    public Task BecomeActiveAsync(CancellationToken cancellationToken) =>
        UpdateOwnStatusAsync(SiloStatus.Active, cancellationToken);

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref joined) == 0 || IsTerminated)
        {
            StopLoops();
            return;
        }

        await UpdateOwnStatusAsync(SiloStatus.ShuttingDown, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref leaving, 1);
        StopLoops();
        await WaitForLoopsAsync().ConfigureAwait(false);
        await UpdateOwnStatusAsync(SiloStatus.Dead, cancellationToken).ConfigureAwait(false);
    }

    public void Abort()
    {
        Volatile.Write(ref leaving, 1);
        StopLoops();
    }

    /// <summary>Marks Dead every row that is an older incarnation of this silo (same endpoint or same
    /// name). Returns true when there was nothing to retire; false after a write (successful or
    /// not), so the caller re-reads.</summary>
    private async Task<bool> RetireOlderIncarnationsAsync(MembershipTableData data, SiloAddress self, CancellationToken cancellationToken)
    {
        foreach (var row in data.Rows)
        {
            var other = row.Entry;
            var sameSilo = other.SiloAddress.IsSameEndpoint(self) || string.Equals(other.SiloName, localSilo.Name, StringComparison.Ordinal);
            if (!sameSilo || other.SiloAddress == self || other.Status == SiloStatus.Dead)
            {
                continue;
            }

            if (other.SiloAddress.Generation > self.Generation)
            {
                throw new InvalidOperationException(
                    $"The membership table has a newer live incarnation {other.SiloAddress} named '{other.SiloName}' than this silo {self} named '{localSilo.Name}'. Two silos must not share a name or an endpoint; change the silo's Name or port.");
            }

            var written = await table.UpdateRow(other with { Status = SiloStatus.Dead }, row.ETag, data.Version.Next(), cancellationToken).ConfigureAwait(false);
            if (written)
            {
                LogRetiredOldIncarnation(logger, other.SiloAddress.ToString(), self.ToString());
            }

            return false;
        }

        return true;
    }

    /// <summary>Moves this silo's row to <paramref name="status"/> with a conditional write, retried on fresh reads.</summary>
    private async Task UpdateOwnStatusAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        var self = RequireJoined();
        await ownRowLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var data = await table.ReadAll(cancellationToken).ConfigureAwait(false);
                ProcessTableRead(data);
                var row = data.Find(self);
                if (row is null || row.Entry.Status == SiloStatus.Dead)
                {
                    if (status == SiloStatus.Dead)
                    {
                        return;
                    }

                    throw new InvalidOperationException($"Silo {self} cannot become {status}: the membership table {(row is null ? "has no row for it" : "declares it Dead")}.");
                }

                if (row.Entry.Status == status)
                {
                    return;
                }

                var entry = row.Entry with { Status = status, IAmAliveTime = time.GetUtcNow() };
                if (await table.UpdateRow(entry, row.ETag, data.Version.Next(), cancellationToken).ConfigureAwait(false))
                {
                    LogStatusChanged(logger, self.ToString(), status);
                    break;
                }

                ThrowIfOutOfAttempts(attempt, $"become {status}");
            }
        }
        finally
        {
            ownRowLock.Release();
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfOutOfAttempts(int attempt, string what)
    {
        if (attempt >= options.MaxWriteAttempts)
        {
            throw new InvalidOperationException(
                $"Membership: could not {what} after {attempt} conditional writes lost to concurrent writers; raise ClusterMembershipOptions.MaxWriteAttempts if the cluster is large.");
        }
    }

    private void StartLoops()
    {
        if (!RunLoops)
        {
            return;
        }

        var token = stopping.Token;
        lock (loops)
        {
            loops.Add(RunPeriodicAsync("table refresh", options.TableRefreshPeriod, RefreshAsync, token));
            loops.Add(RunPeriodicAsync("IAmAlive", options.IAmAlivePeriod, WriteIAmAliveAsync, token));
            loops.Add(RunPeriodicAsync("probe", options.ProbePeriod, ProbeRoundAsync, token));
            if (options.DefunctSiloExpiration > TimeSpan.Zero)
            {
                loops.Add(RunPeriodicAsync("defunct row cleanup", options.DefunctSiloCleanupPeriod, CleanupDefunctRowsAsync, token));
            }
        }
    }

    private void StopLoops()
    {
        try
        {
            stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: nothing runs.
        }
    }

    private async Task WaitForLoopsAsync()
    {
        Task[] running;
        lock (loops)
        {
            running = [.. loops];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> every <paramref name="period"/> (measured start to start)
    /// until <paramref name="token"/> is cancelled. Failures are logged and the loop goes on.</summary>
    private async Task RunPeriodicAsync(string name, TimeSpan period, Func<CancellationToken, Task> work, CancellationToken token)
    {
        var next = time.GetUtcNow() + period;
        while (!token.IsCancellationRequested)
        {
            var wait = next - time.GetUtcNow();
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, token).ConfigureAwait(false);
                }

                next = time.GetUtcNow() + period;
                await work(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, name, ex);
            }
        }
    }

    /// <summary>Deletes Dead rows older than <see cref="ClusterMembershipOptions.DefunctSiloExpiration"/>.</summary>
    internal async Task CleanupDefunctRowsAsync(CancellationToken cancellationToken)
    {
        var deleted = await table.CleanupDefunctSiloEntries(time.GetUtcNow() - options.DefunctSiloExpiration, cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            LogDefunctRowsDeleted(logger, deleted);
        }
    }

    private async Task WriteIAmAliveAsync(CancellationToken cancellationToken)
    {
        var self = RequireJoined();
        var row = LastRead?.Find(self);
        if (row is null)
        {
            return;
        }

        await table.UpdateIAmAlive(row.Entry with { IAmAliveTime = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
    }
}
