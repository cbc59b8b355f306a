namespace Actors.Membership;

/// <summary>Probing other silos, suspicion votes and death declarations.</summary>
public sealed partial class MembershipTableManager
{
    /// <summary>
    /// The silos this silo watches: its <see cref="ClusterMembershipOptions.NumProbedSilos"/>
    /// successors on the ring of live silos (ordered by address), so each live silo is watched by
    /// about as many others as it watches.
    /// </summary>
    internal IReadOnlyList<SiloAddress> SelectProbeTargets(MembershipTableData data)
    {
        var self = RequireJoined();
        var ring = data.Rows
            .Select(r => r.Entry)
            .Where(e => e.Status is SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown || e.SiloAddress == self)
            .Select(e => e.SiloAddress)
            .Distinct()
            .OrderBy(a => a.ToString(), StringComparer.Ordinal)
            .ToList();
        var position = ring.IndexOf(self);
        if (position < 0)
        {
            return [];
        }

        var count = Math.Min(options.NumProbedSilos, ring.Count - 1);
        var targets = new List<SiloAddress>(count);
        for (var i = 1; i <= count; i++)
        {
            targets.Add(ring[(position + i) % ring.Count]);
        }

        return targets;
    }

    /// <summary>One probe round: probe every watched silo at once, count misses, and vote on those
    /// that missed <see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> in a row or whose
    /// IAmAlive is stale.</summary>
    internal async Task ProbeRoundAsync(CancellationToken cancellationToken)
    {
        var data = LastRead;
        if (data is null || IsTerminated)
        {
            return;
        }

        var targets = SelectProbeTargets(data);
        foreach (var gone in missedProbes.Keys.Except(targets).ToList())
        {
            missedProbes.TryRemove(gone, out _);
        }

        var answers = await Task.WhenAll(targets.Select(t => ProbeOneAsync(t, cancellationToken))).ConfigureAwait(false);
        var suspects = new List<SiloAddress>();
        for (var i = 0; i < targets.Count; i++)
        {
            if (answers[i])
            {
                missedProbes[targets[i]] = 0;
                continue;
            }

            var misses = missedProbes.AddOrUpdate(targets[i], 1, (_, n) => n + 1);
            LogProbeMissed(logger, targets[i].ToString(), misses, options.NumMissedProbesLimit);
            if (misses >= options.NumMissedProbesLimit)
            {
                suspects.Add(targets[i]);
            }
        }

        suspects.AddRange(StaleSilos(data).Except(suspects));
        foreach (var suspect in suspects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await TrySuspectOrKillAsync(suspect, cancellationToken).ConfigureAwait(false);
        }
    }

    private IEnumerable<SiloAddress> StaleSilos(MembershipTableData data)
    {
        if (options.IAmAliveStaleAfter <= TimeSpan.Zero)
        {
            return [];
        }

        var self = RequireJoined();
        var oldest = time.GetUtcNow() - options.IAmAliveStaleAfter;
        return data.Rows
            .Select(r => r.Entry)
            .Where(e => e.SiloAddress != self && e.Status != SiloStatus.Dead && e.IAmAliveTime < oldest)
            .Select(e => e.SiloAddress)
            .ToList();
    }

    private async Task<bool> ProbeOneAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ProbeTimeout + options.ProbeTimeout);
        try
        {
            return await prober.ProbeAsync(target, options.ProbeTimeout, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProbeFailed(logger, target.ToString(), ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Votes <paramref name="target"/> suspect on a fresh read of the table, or declares it Dead
    /// when this vote completes the number needed. Conditional on the version read; on a lost race
    /// the decision is made again on a new read.
    /// </summary>
    /// <returns>True if this call wrote the death declaration.</returns>
    internal async Task<bool> TrySuspectOrKillAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        var self = RequireJoined();
        for (var attempt = 1; attempt <= options.MaxWriteAttempts; attempt++)
        {
            var data = await table.ReadAll(cancellationToken).ConfigureAwait(false);
            ProcessTableRead(data);
            if (IsTerminated)
            {
                return false;
            }

            var row = data.Find(target);
            var own = data.Find(self);
            if (row is null || row.Entry.Status == SiloStatus.Dead || own is null || own.Entry.Status == SiloStatus.Dead)
            {
                missedProbes.TryRemove(target, out _);
                return false;
            }

            var now = time.GetUtcNow();
            var deadVoters = data.Rows.Where(r => r.Entry.Status == SiloStatus.Dead).Select(r => r.Entry.SiloAddress).ToHashSet();
            var otherVotes = row.Entry.FreshVotes(now - options.DeathVoteExpiration)
                .Where(v => v.Voter != self && !deadVoters.Contains(v.Voter))
                .OrderBy(v => v.Time)
                .ToList();
            var votes = otherVotes.Append(new SuspectVote(self, now)).ToList();
            var required = VotesRequired(data);
            var declareDead = votes.Count >= required;
            var entry = row.Entry with
            {
                Status = declareDead ? SiloStatus.Dead : row.Entry.Status,
                SuspectVotes = [.. votes],
            };

            if (await table.UpdateRow(entry, row.ETag, data.Version.Next(), cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref votesWritten);
                if (declareDead)
                {
                    Interlocked.Increment(ref deathDeclarations);
                    missedProbes.TryRemove(target, out _);
                    LogDeclaredDead(logger, target.ToString(), votes.Count, required, string.Join(", ", votes.Select(v => v.Voter.ToString())));
                }
                else
                {
                    LogVotedSuspect(logger, target.ToString(), votes.Count, required);
                }

                await RefreshAsync(cancellationToken).ConfigureAwait(false);
                return declareDead;
            }
        }

        LogVoteGaveUp(logger, target.ToString(), options.MaxWriteAttempts);
        return false;
    }

    /// <summary>min(NumVotesForDeathDeclaration, (active + 1) / 2), at least 1, as Orleans counts.</summary>
    internal int VotesRequired(MembershipTableData data)
    {
        var active = data.Rows.Count(r => r.Entry.Status == SiloStatus.Active);
        return Math.Max(1, Math.Min(options.NumVotesForDeathDeclaration, (active + 1) / 2));
    }
}
