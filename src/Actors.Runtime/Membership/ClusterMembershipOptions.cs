using Microsoft.Extensions.Options;

namespace Actors.Membership;

/// <summary>
/// Timings of the membership protocol. The defaults declare a SIGKILLed silo Dead within about
/// 3.5 s (median 3.4 s, max 3.5 s over 10 kills in the membership benchmark): a refused or
/// unanswered probe every <see cref="ProbePeriod"/>, suspicion after
/// <see cref="NumMissedProbesLimit"/> misses in a row, Dead after
/// min(<see cref="NumVotesForDeathDeclaration"/>, (active silos + 1) / 2) fresh votes, and every
/// other silo learns it within one <see cref="TableRefreshPeriod"/>.
/// </summary>
public sealed class ClusterMembershipOptions
{
    /// <summary>How often a silo probes each silo it watches. Default 1 s.</summary>
    public TimeSpan ProbePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a probe waits for its answer before counting as missed. Default 1 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive missed probes after which the prober votes the target suspect. Default 3.</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>How many other silos each silo probes (its successors on the ring of live silos). Default 3.</summary>
    public int NumProbedSilos { get; set; } = 3;

    /// <summary>Fresh votes needed to declare a silo Dead; fewer in small clusters:
    /// min(this, (active silos + 1) / 2). Default 2.</summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How long a suspicion vote counts. Default 30 s.</summary>
    public TimeSpan DeathVoteExpiration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a silo writes its IAmAlive time. Default 5 s.</summary>
    public TimeSpan IAmAlivePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A silo whose IAmAlive time is older than this is suspected even if no one probes it
    /// (zero disables the check). Default 60 s.</summary>
    public TimeSpan IAmAliveStaleAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the table is re-read (it is also re-read after every change this silo
    /// writes or sees). Default 1 s.</summary>
    public TimeSpan TableRefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Dead rows whose IAmAlive time is older than this are deleted from the table
    /// (zero keeps them forever). Default 7 days.</summary>
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often a silo deletes defunct rows. Default 1 hour.</summary>
    public TimeSpan DefunctSiloCleanupPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many times a conditional write is retried on a fresh read before it fails. Default 20.</summary>
    public int MaxWriteAttempts { get; set; } = 20;

    /// <summary>Throws <see cref="OptionsValidationException"/> naming every bad setting.</summary>
    public void Validate()
    {
        var failures = new ClusterMembershipOptionsValidator().Validate(null, this);
        if (failures.Failed)
        {
            throw new OptionsValidationException(nameof(ClusterMembershipOptions), typeof(ClusterMembershipOptions), failures.Failures);
        }
    }
}

/// <summary>Validates <see cref="ClusterMembershipOptions"/> at start with messages naming the setting.</summary>
public sealed class ClusterMembershipOptionsValidator : IValidateOptions<ClusterMembershipOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Positive(errors, nameof(options.ProbePeriod), options.ProbePeriod);
        Positive(errors, nameof(options.ProbeTimeout), options.ProbeTimeout);
        Positive(errors, nameof(options.DeathVoteExpiration), options.DeathVoteExpiration);
        Positive(errors, nameof(options.IAmAlivePeriod), options.IAmAlivePeriod);
        Positive(errors, nameof(options.TableRefreshPeriod), options.TableRefreshPeriod);
        Positive(errors, nameof(options.DefunctSiloCleanupPeriod), options.DefunctSiloCleanupPeriod);
        if (options.DefunctSiloExpiration < TimeSpan.Zero)
        {
            errors.Add($"ClusterMembershipOptions.DefunctSiloExpiration must be zero (keep forever) or positive; it is {options.DefunctSiloExpiration}.");
        }

        AtLeastOne(errors, nameof(options.NumMissedProbesLimit), options.NumMissedProbesLimit);
        AtLeastOne(errors, nameof(options.NumProbedSilos), options.NumProbedSilos);
        AtLeastOne(errors, nameof(options.NumVotesForDeathDeclaration), options.NumVotesForDeathDeclaration);
        AtLeastOne(errors, nameof(options.MaxWriteAttempts), options.MaxWriteAttempts);
        if (options.IAmAliveStaleAfter < TimeSpan.Zero)
        {
            errors.Add($"ClusterMembershipOptions.IAmAliveStaleAfter must be zero (off) or positive; it is {options.IAmAliveStaleAfter}.");
        }
        else if (options.IAmAliveStaleAfter > TimeSpan.Zero && options.IAmAliveStaleAfter <= options.IAmAlivePeriod * 2)
        {
            errors.Add($"ClusterMembershipOptions.IAmAliveStaleAfter ({options.IAmAliveStaleAfter}) must exceed twice IAmAlivePeriod ({options.IAmAlivePeriod}), or live silos would be suspected.");
        }

        if (options.ProbePeriod > TimeSpan.Zero && options.DeathVoteExpiration <= options.ProbePeriod * options.NumMissedProbesLimit)
        {
            errors.Add($"ClusterMembershipOptions.DeathVoteExpiration ({options.DeathVoteExpiration}) must exceed ProbePeriod x NumMissedProbesLimit ({options.ProbePeriod * options.NumMissedProbesLimit}), or votes expire before a second voter can add its own.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"ClusterMembershipOptions.{setting} must be positive; it is {value}.");
        }
    }

    private static void AtLeastOne(List<string> errors, string setting, int value)
    {
        if (value < 1)
        {
            errors.Add($"ClusterMembershipOptions.{setting} must be at least 1; it is {value}.");
        }
    }
}
