namespace Actors.Broker.Security;

/// <summary>Persisted state of the SCRAM credential store: user → mechanism → credential.</summary>
[GenerateSerializer]
[Alias("broker.ScramCredentialsState")]
public sealed class ScramCredentialsState
{
    [Id(0)] public Dictionary<string, Dictionary<ScramMechanism, ScramCredential>> Users { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The cluster's SCRAM credentials (see <see cref="IScramCredentialsGrain"/>). A change is written before it is
/// answered, and memory is changed only after the write succeeded: a failed write leaves the store as it was.
/// </summary>
[GrainType("broker-scram-credentials")]
public sealed class ScramCredentialsGrain(
    [PersistentState("scram-credentials")] IPersistentState<ScramCredentialsState> state) : Grain, IScramCredentialsGrain
{
    /// <summary>Kafka's limit on a user name's length is the string's; ours keeps names printable and bounded.</summary>
    public const int MaxUserLength = 256;

    /// <summary>What readers see: the users as last written (the state object holds a change while it is being
    /// written, and reads interleave with that write).</summary>
    private Dictionary<string, Dictionary<ScramMechanism, ScramCredential>>? committed;

    private Dictionary<string, Dictionary<ScramMechanism, ScramCredential>> Users => committed ??= state.State.Users;

    public Task<ScramCredential?> GetAsync(string user, ScramMechanism mechanism) =>
        Task.FromResult(Users.TryGetValue(user ?? string.Empty, out var byMechanism) && byMechanism.TryGetValue(mechanism, out var credential)
            ? credential
            : null);

    public Task<ScramUserDescription[]> DescribeAsync(string[]? users)
    {
        var names = users ?? Users.Keys.Order(StringComparer.Ordinal).ToArray();
        var result = names.Distinct(StringComparer.Ordinal).Select(user =>
            Users.TryGetValue(user, out var byMechanism) && byMechanism.Count > 0
                ? new ScramUserDescription(user, ErrorCode.None, null,
                    byMechanism.Values.OrderBy(c => c.Mechanism).Select(c => new ScramCredentialInfo(c.Mechanism, c.Iterations)).ToArray())
                : new ScramUserDescription(user, ErrorCode.ResourceNotFound, $"Attempt to describe a user credential that does not exist: {user}", []))
            .ToArray();
        return Task.FromResult(result);
    }

    public async Task<ScramAlterResult[]> AlterAsync(ScramDeletion[] deletions, ScramUpsertion[] upsertions)
    {
        ArgumentNullException.ThrowIfNull(deletions);
        ArgumentNullException.ThrowIfNull(upsertions);
        var order = deletions.Select(d => d.User).Concat(upsertions.Select(u => u.User)).Distinct(StringComparer.Ordinal).ToList();
        var errors = new Dictionary<string, (ErrorCode Code, string Message)>(StringComparer.Ordinal);

        // Kafka refuses every change of a user named twice for one mechanism in one request.
        foreach (var twice in deletions.Select(d => (d.User, d.Mechanism)).Concat(upsertions.Select(u => (u.User, u.Mechanism)))
                     .GroupBy(x => x).Where(g => g.Count() > 1))
        {
            errors.TryAdd(twice.Key.User, (ErrorCode.DuplicateResource, $"A user credential cannot be altered twice in the same request: {twice.Key.User} ({Scram.Name(twice.Key.Mechanism)})."));
        }

        var next = Users.ToDictionary(kv => kv.Key, kv => new Dictionary<ScramMechanism, ScramCredential>(kv.Value), StringComparer.Ordinal);
        foreach (var deletion in deletions)
        {
            if (errors.ContainsKey(deletion.User))
            {
                continue;
            }

            if (Invalid(deletion.User, deletion.Mechanism) is { } problem)
            {
                errors[deletion.User] = problem;
            }
            else if (!next.TryGetValue(deletion.User, out var byMechanism) || !byMechanism.Remove(deletion.Mechanism))
            {
                errors[deletion.User] = (ErrorCode.ResourceNotFound, $"Attempt to delete a user credential that does not exist: {deletion.User} ({Scram.Name(deletion.Mechanism)}).");
            }
        }

        foreach (var upsertion in upsertions)
        {
            if (errors.ContainsKey(upsertion.User))
            {
                continue;
            }

            if (Invalid(upsertion.User, upsertion.Mechanism) is { } problem)
            {
                errors[upsertion.User] = problem;
            }
            else if (upsertion.Iterations is < Scram.MinIterations or > Scram.MaxIterations)
            {
                errors[upsertion.User] = (ErrorCode.UnacceptableCredential,
                    $"Iterations {upsertion.Iterations} for {upsertion.User} ({Scram.Name(upsertion.Mechanism)}) must be between {Scram.MinIterations} and {Scram.MaxIterations}.");
            }
            else if (upsertion.Salt is not { Length: > 0 } || upsertion.SaltedPassword is not { Length: > 0 })
            {
                errors[upsertion.User] = (ErrorCode.UnacceptableCredential, $"The credential for {upsertion.User} needs a salt and a salted password.");
            }
            else
            {
                if (!next.TryGetValue(upsertion.User, out var byMechanism))
                {
                    next[upsertion.User] = byMechanism = [];
                }

                byMechanism[upsertion.Mechanism] = Scram.Credential(upsertion.Mechanism, upsertion.SaltedPassword, upsertion.Salt, upsertion.Iterations);
            }
        }

        // A user with an error keeps what it had: take its old entry back before writing.
        foreach (var user in errors.Keys)
        {
            if (Users.TryGetValue(user, out var old))
            {
                next[user] = new Dictionary<ScramMechanism, ScramCredential>(old);
            }
            else
            {
                next.Remove(user);
            }
        }

        foreach (var empty in next.Where(kv => kv.Value.Count == 0).Select(kv => kv.Key).ToList())
        {
            next.Remove(empty);
        }

        if (errors.Count < order.Count)
        {
            var previous = Users;
            state.State.Users = next;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                state.State.Users = previous;
                throw;
            }

            committed = next;
        }

        return order.Select(user => errors.TryGetValue(user, out var e)
            ? new ScramAlterResult(user, e.Code, e.Message)
            : new ScramAlterResult(user, ErrorCode.None, null)).ToArray();
    }

    private static (ErrorCode, string)? Invalid(string user, ScramMechanism mechanism)
    {
        if (string.IsNullOrEmpty(user) || user.Length > MaxUserLength || user.Any(char.IsControl))
        {
            return (ErrorCode.UnacceptableCredential, $"A user name must be 1 to {MaxUserLength} printable characters; got '{user}'.");
        }

        return mechanism is ScramMechanism.ScramSha256 or ScramMechanism.ScramSha512
            ? null
            : (ErrorCode.UnsupportedSaslMechanism, $"Unknown SCRAM mechanism {(byte)mechanism} for {user}; use SCRAM-SHA-256 (1) or SCRAM-SHA-512 (2).");
    }
}
