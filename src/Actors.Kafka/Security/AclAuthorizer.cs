using Actors.Broker;
using Microsoft.Extensions.Logging;

namespace Actors.Kafka.Security;

/// <summary>
/// Kafka's authorizer settings: <c>authorizer.class.name</c> (any non-empty value turns ACL checks on; Kafka's own
/// class names work unchanged), <c>super.users</c> (principals every check allows) and
/// <c>allow.everyone.if.no.acl.found</c> (whether a resource with no ACL at all is open to everyone).
/// </summary>
public sealed record AuthorizerSettings(bool Enabled, IReadOnlySet<string> SuperUsers, bool AllowEveryoneIfNoAclFound)
{
    public static AuthorizerSettings Off { get; } = new(false, new HashSet<string>(StringComparer.Ordinal), false);

    /// <summary>The settings from their configured values.</summary>
    /// <exception cref="ArgumentException">A super user is not <c>User:name</c>; the message names super.users.</exception>
    public static AuthorizerSettings Parse(string? authorizerClassName, string? superUsers, bool allowEveryoneIfNoAclFound)
    {
        var users = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in (superUsers ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Entries are separated by ';' as in Kafka: a ',' is taken for a mistaken separator.
            if (!entry.StartsWith("User:", StringComparison.Ordinal) || entry.Length == 5 || entry.Length > Acls.MaxNameLength || entry.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"super.users (Actors:Kafka:SuperUsers): '{entry}' is not a principal; write User:<name> entries separated by ';', e.g. User:admin;User:bob.");
            }

            users.Add(entry);
        }

        return new AuthorizerSettings(!string.IsNullOrWhiteSpace(authorizerClassName), users, allowEveryoneIfNoAclFound);
    }
}

/// <summary>
/// Decides each request's operations from the cluster's ACLs (<see cref="IAclsGrain"/>) as Kafka's standard authorizer
/// does: a super user may do everything; otherwise a DENY that applies wins over any ALLOW; an ALLOW of READ, WRITE,
/// DELETE or ALTER also allows DESCRIBE, and ALTER_CONFIGS allows DESCRIBE_CONFIGS; a resource no ACL names at all is
/// open only when <c>allow.everyone.if.no.acl.found</c> is true.
/// </summary>
/// <remarks>
/// Requests read a copy of the ACLs kept on this silo (<see cref="AclView"/>), never the grain: the copy is checked
/// against the grain's version at most once per <see cref="Staleness"/> (the request that finds it older waits for
/// that check, shared by every request waiting), and at once after this silo changed the ACLs. A change made through
/// another silo is thus seen here within <see cref="Staleness"/>. When the grain cannot be reached the last copy
/// stays in use (and is checked again after <see cref="Staleness"/>); before the first copy, requests fail.
/// Thread-safe.
/// </remarks>
public sealed class AclAuthorizer
{
    /// <summary>The longest a silo decides from ACLs older than the store's.</summary>
    public static readonly TimeSpan Staleness = TimeSpan.FromSeconds(1);

    private readonly Func<long, Task<AclSnapshot?>> fetch;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private volatile AclView? view;
    private long checkedAt;
    private long changes;
    private long checkedChanges = -1;
    private long fetches;
    private long published;
    private long refreshingChanges;
    private Task<AclView>? refreshing;

    public AclAuthorizer(AuthorizerSettings settings, Func<long, Task<AclSnapshot?>> fetch, TimeProvider time, ILogger logger)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        this.fetch = fetch ?? throw new ArgumentNullException(nameof(fetch));
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>An authorizer that allows everything (no <c>authorizer.class.name</c>).</summary>
    public static AclAuthorizer Disabled { get; } =
        new(AuthorizerSettings.Off, _ => Task.FromResult<AclSnapshot?>(null), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    public AuthorizerSettings Settings { get; }

    public bool Enabled => Settings.Enabled;

    internal ILogger Logger => logger;

    /// <summary>The ACLs to decide from: the copy, checked against the store first when it is older than <see cref="Staleness"/>.</summary>
    public ValueTask<AclView> CurrentAsync()
    {
        var current = view;
        return current is not null && Interlocked.Read(ref checkedChanges) == Interlocked.Read(ref changes)
            && time.GetElapsedTime(Interlocked.Read(ref checkedAt)) < Staleness
            ? ValueTask.FromResult(current)
            : new ValueTask<AclView>(RefreshAsync());
    }

    /// <summary>This silo changed the ACLs: the next request checks the store (a check begun before is not trusted).</summary>
    public void Changed() => Interlocked.Increment(ref changes);

    /// <summary>The store's ACLs now (DescribeAcls answers from them): joins a check in progress unless a change was made
    /// through this silo since it began.</summary>
    public Task<AclView> RefreshAsync()
    {
        lock (gate)
        {
            var changed = Interlocked.Read(ref changes);
            if (refreshing is null || refreshing.IsCompleted || refreshingChanges != changed)
            {
                refreshingChanges = changed;
                refreshing = FetchAsync(changed, Interlocked.Increment(ref fetches));
            }

            return refreshing;
        }
    }

    private async Task<AclView> FetchAsync(long changesAtStart, long sequence)
    {
        var started = time.GetTimestamp();
        var current = view;
        try
        {
            var snapshot = await fetch(current?.Version ?? -1).ConfigureAwait(false);
            lock (gate)
            {
                // A later check may have published already: an older answer never replaces a newer one.
                if (sequence > published)
                {
                    published = sequence;
                    if (snapshot is not null && (view is null || snapshot.Version != view.Version))
                    {
                        view = new AclView(snapshot);
                    }

                    view ??= new AclView(new AclSnapshot(-1, []));
                    Interlocked.Exchange(ref checkedAt, started);
                    Interlocked.Exchange(ref checkedChanges, changesAtStart);
                }

                return view ?? new AclView(snapshot ?? new AclSnapshot(-1, []));
            }
        }
        catch (Exception e) when (current is not null)
        {
            SecurityLog.AclRefreshFailed(logger, current.Version, e.Message);
            Interlocked.Exchange(ref checkedAt, started);
            Interlocked.Exchange(ref checkedChanges, changesAtStart);
            return current;
        }
    }

    /// <summary>Whether <paramref name="principal"/> from <paramref name="host"/> may do <paramref name="operation"/> on the resource.</summary>
    public bool Allows(AclView acls, string principal, string host, AclOperation operation, AclResourceType type, string name)
    {
        ArgumentNullException.ThrowIfNull(acls);
        if (!Settings.Enabled || Settings.SuperUsers.Contains(principal))
        {
            return true;
        }

        var any = false;
        var allowed = false;
        foreach (var acl in acls.Applying(type, name))
        {
            any = true;
            if (!AppliesTo(acl, principal, host))
            {
                continue;
            }

            if (acl.Permission == AclPermissionType.Deny && (acl.Operation == AclOperation.All || acl.Operation == operation))
            {
                return false;
            }

            if (acl.Permission == AclPermissionType.Allow && Grants(acl.Operation, operation))
            {
                allowed = true;
            }
        }

        return allowed || (!any && Settings.AllowEveryoneIfNoAclFound);
    }

    /// <summary>
    /// Whether <paramref name="principal"/> from <paramref name="host"/> may do <paramref name="operation"/> on the
    /// resource, for a caller outside the Kafka port (the web console): the same decision as <see cref="Allows"/>, and a
    /// refusal is logged as the listener logs a refused request (event 7304), with <paramref name="source"/> in place
    /// of the Kafka API's name. Nothing is logged for a refusal when <paramref name="logDenied"/> is false (a listing
    /// that leaves out what the principal may not see).
    /// </summary>
    public bool Authorize(AclView acls, string principal, string host, AclOperation operation, AclResourceType type, string name, string source, bool logDenied = true)
    {
        if (Allows(acls, principal, host, operation, type, name))
        {
            return true;
        }

        if (logDenied)
        {
            SecurityLog.AuthorizationFailed(logger, principal, KafkaName(operation), host, KafkaName(type), name, source);
        }

        return false;
    }

    /// <summary>Kafka's spelling of an operation or resource type (DESCRIBE, IDEMPOTENT_WRITE, TOPIC).</summary>
    public static string KafkaName<T>(T value)
        where T : struct, Enum => RequestAccess.Name(value);

    /// <summary>Whether the principal may do <paramref name="operation"/> on some resource of <paramref name="type"/>:
    /// an ALLOW of it for the principal on any pattern that no DENY on every resource of the type (the * wildcard)
    /// takes back. Kafka asks this for an idempotent producer without IDEMPOTENT_WRITE (WRITE on any topic).</summary>
    public bool AllowsAny(AclView acls, string principal, string host, AclOperation operation, AclResourceType type)
    {
        ArgumentNullException.ThrowIfNull(acls);
        if (!Settings.Enabled || Settings.SuperUsers.Contains(principal))
        {
            return true;
        }

        var all = acls.OfType(type).Where(acl => AppliesTo(acl, principal, host)).ToList();
        if (all.Any(acl => acl.Permission == AclPermissionType.Deny && acl.PatternType == AclPatternType.Literal
                && acl.ResourceName == Acls.WildcardResource && (acl.Operation == AclOperation.All || acl.Operation == operation)))
        {
            return false;
        }

        return all.Any(acl => acl.Permission == AclPermissionType.Allow && Grants(acl.Operation, operation))
            || (Settings.AllowEveryoneIfNoAclFound && !acls.OfType(type).Any());
    }

    private static bool AppliesTo(AclBinding acl, string principal, string host) =>
        (acl.Principal == principal || acl.Principal == Acls.WildcardPrincipal)
        && (acl.Host == Acls.WildcardHost || acl.Host == host);

    /// <summary>Whether an ALLOW of <paramref name="granted"/> allows <paramref name="asked"/>.</summary>
    private static bool Grants(AclOperation granted, AclOperation asked) =>
        granted == AclOperation.All
        || granted == asked
        || (asked == AclOperation.Describe && granted is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter)
        || (asked == AclOperation.DescribeConfigs && granted == AclOperation.AlterConfigs);
}

/// <summary>One version of the ACLs, indexed for the checks: per resource type, the literal names and the prefixes.</summary>
/// <remarks>Immutable; built once per version on each silo.</remarks>
public sealed class AclView
{
    private readonly Dictionary<AclResourceType, Dictionary<string, List<AclBinding>>> literal = [];
    private readonly Dictionary<AclResourceType, List<AclBinding>> prefixed = [];

    public AclView(AclSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Version = snapshot.Version;
        Bindings = snapshot.Bindings;
        foreach (var acl in snapshot.Bindings)
        {
            if (acl.PatternType == AclPatternType.Prefixed)
            {
                (prefixed.TryGetValue(acl.ResourceType, out var list) ? list : prefixed[acl.ResourceType] = []).Add(acl);
            }
            else
            {
                var byName = literal.TryGetValue(acl.ResourceType, out var names) ? names : literal[acl.ResourceType] = new(StringComparer.Ordinal);
                (byName.TryGetValue(acl.ResourceName, out var list) ? list : byName[acl.ResourceName] = []).Add(acl);
            }
        }
    }

    public long Version { get; }

    public IReadOnlyList<AclBinding> Bindings { get; }

    /// <summary>The ACLs that name resource <paramref name="name"/> of <paramref name="type"/>: its literal name, the *
    /// wildcard, and every prefix of the name.</summary>
    public IEnumerable<AclBinding> Applying(AclResourceType type, string name)
    {
        if (literal.TryGetValue(type, out var byName))
        {
            if (byName.TryGetValue(name, out var exact))
            {
                foreach (var acl in exact)
                {
                    yield return acl;
                }
            }

            if (name != Acls.WildcardResource && byName.TryGetValue(Acls.WildcardResource, out var wildcard))
            {
                foreach (var acl in wildcard)
                {
                    yield return acl;
                }
            }
        }

        if (prefixed.TryGetValue(type, out var prefixes))
        {
            foreach (var acl in prefixes)
            {
                if (name.StartsWith(acl.ResourceName, StringComparison.Ordinal))
                {
                    yield return acl;
                }
            }
        }
    }

    /// <summary>Every ACL on resources of <paramref name="type"/>.</summary>
    public IEnumerable<AclBinding> OfType(AclResourceType type) => Bindings.Where(acl => acl.ResourceType == type);
}
