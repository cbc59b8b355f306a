namespace Actors.Broker.Security;

/// <summary>Persisted state of the ACL store: the ACLs and the version of the last change.</summary>
[GenerateSerializer]
[Alias("broker.AclsState")]
public sealed class AclsState
{
    [Id(0)] public long Version { get; set; }

    [Id(1)] public List<AclBinding> Bindings { get; set; } = [];
}

/// <summary>
/// The cluster's ACLs (see <see cref="IAclsGrain"/>). A change is written before it is answered, and what readers see
/// changes only after the write succeeded: a failed write leaves the store and its version as they were.
/// </summary>
[GrainType("broker-acls")]
public sealed class AclsGrain([PersistentState("acls")] IPersistentState<AclsState> state) : Grain, IAclsGrain
{
    /// <summary>Most ACLs the store keeps; a creation past it is refused, so one silo's copy stays bounded.</summary>
    public const int MaxAcls = 100_000;

    /// <summary>What readers see: the ACLs as last written (reads interleave with a write in progress).</summary>
    private AclSnapshot? committed;

    private AclSnapshot Committed => committed ??= new AclSnapshot(state.State.Version, state.State.Bindings.ToArray());

    public Task<AclSnapshot?> GetIfChangedAsync(long knownVersion) =>
        Task.FromResult(Committed.Version == knownVersion ? null : Committed);

    public async Task<AclCreateResult[]> CreateAsync(AclBinding[] bindings)
    {
        ArgumentNullException.ThrowIfNull(bindings);
        var next = new List<AclBinding>(Committed.Bindings);
        var present = new HashSet<AclBinding>(next);
        var results = new AclCreateResult[bindings.Length];
        for (var i = 0; i < bindings.Length; i++)
        {
            var acl = bindings[i];
            var problem = acl is null ? "An ACL is missing." : Acls.Invalid(acl);
            if (problem is not null)
            {
                results[i] = new AclCreateResult(ErrorCode.InvalidRequest, problem);
            }
            else if (present.Count >= MaxAcls && !present.Contains(acl!))
            {
                results[i] = new AclCreateResult(ErrorCode.PolicyViolation, $"The cluster holds {MaxAcls} ACLs, the most it keeps; delete some first.");
            }
            else
            {
                if (present.Add(acl!))
                {
                    next.Add(acl!);
                }

                results[i] = new AclCreateResult(ErrorCode.None, null);
            }
        }

        if (next.Count != Committed.Bindings.Length)
        {
            await CommitAsync(next);
        }

        return results;
    }

    public async Task<AclDeleteResult[]> DeleteAsync(AclBindingFilter[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var left = new List<AclBinding>(Committed.Bindings);
        var results = new AclDeleteResult[filters.Length];
        for (var i = 0; i < filters.Length; i++)
        {
            var filter = filters[i];
            var problem = filter is null ? "A filter is missing." : Acls.InvalidFilter(filter);
            if (problem is not null)
            {
                results[i] = new AclDeleteResult(ErrorCode.InvalidRequest, problem, []);
                continue;
            }

            // Each filter reports what it matches among the ACLs before this request, as Kafka's does.
            var matched = Committed.Bindings.Where(acl => Acls.Matches(filter!, acl)).ToArray();
            left.RemoveAll(acl => Acls.Matches(filter!, acl));
            results[i] = new AclDeleteResult(ErrorCode.None, null, matched);
        }

        if (left.Count != Committed.Bindings.Length)
        {
            await CommitAsync(left);
        }

        return results;
    }

    private async Task CommitAsync(List<AclBinding> bindings)
    {
        var previous = (state.State.Version, state.State.Bindings);
        state.State.Version = Committed.Version + 1;
        state.State.Bindings = bindings;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            (state.State.Version, state.State.Bindings) = previous;
            throw;
        }

        committed = new AclSnapshot(state.State.Version, bindings.ToArray());
    }
}
