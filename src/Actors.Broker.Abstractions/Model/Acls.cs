namespace Actors.Broker;

/// <summary>What Kafka's ACL model fixes: the cluster resource's name, the wildcards, which ACLs may be stored and
/// which a filter selects.</summary>
public static class Acls
{
    /// <summary>The one CLUSTER resource's name.</summary>
    public const string ClusterResourceName = "kafka-cluster";

    /// <summary>A LITERAL resource name matching every resource of its type.</summary>
    public const string WildcardResource = "*";

    /// <summary>The principal matching every user.</summary>
    public const string WildcardPrincipal = "User:*";

    /// <summary>The host matching every client address.</summary>
    public const string WildcardHost = "*";

    /// <summary>The longest resource name, principal or host an ACL may hold.</summary>
    public const int MaxNameLength = 1024;

    /// <summary>Why <paramref name="acl"/> cannot be stored, or null when it can.</summary>
    public static string? Invalid(AclBinding acl)
    {
        ArgumentNullException.ThrowIfNull(acl);
        if (acl.ResourceType is not (AclResourceType.Topic or AclResourceType.Group or AclResourceType.Cluster or AclResourceType.TransactionalId))
        {
            return $"The resource type {acl.ResourceType} cannot take ACLs here; use TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID.";
        }

        if (acl.PatternType is not (AclPatternType.Literal or AclPatternType.Prefixed))
        {
            return $"An ACL's pattern type must be LITERAL or PREFIXED; got {acl.PatternType}.";
        }

        if (acl.Operation is AclOperation.Unknown or AclOperation.Any || !Enum.IsDefined(acl.Operation))
        {
            return $"An ACL needs an operation (ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE); got {acl.Operation}.";
        }

        if (acl.Permission is not (AclPermissionType.Allow or AclPermissionType.Deny))
        {
            return $"An ACL's permission must be ALLOW or DENY; got {acl.Permission}.";
        }

        if (string.IsNullOrEmpty(acl.ResourceName) || acl.ResourceName.Length > MaxNameLength)
        {
            return $"An ACL's resource name must be 1 to {MaxNameLength} characters.";
        }

        if (acl.ResourceType == AclResourceType.Cluster && acl.ResourceName != ClusterResourceName)
        {
            return $"The CLUSTER resource is named {ClusterResourceName}; got '{acl.ResourceName}'.";
        }

        if (acl.Principal is not { Length: > 5 and <= MaxNameLength } || !acl.Principal.StartsWith("User:", StringComparison.Ordinal))
        {
            return $"An ACL's principal is User:<name> (User:* for everyone); got '{acl.Principal}'.";
        }

        if (string.IsNullOrEmpty(acl.Host) || acl.Host.Length > MaxNameLength)
        {
            return $"An ACL's host is an IP address or * for any; got '{acl.Host}'.";
        }

        return null;
    }

    /// <summary>Whether <paramref name="filter"/> selects <paramref name="acl"/>, as Kafka's filters do: ANY and null
    /// match everything; MATCH selects the ACLs that apply to the named resource (the literal name, the * wildcard and
    /// every prefix of the name); any other pattern type selects ACLs of that type with that exact name.</summary>
    public static bool Matches(AclBindingFilter filter, AclBinding acl)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(acl);
        return MatchesResource(filter, acl)
            && (filter.Principal is null || filter.Principal == acl.Principal)
            && (filter.Host is null || filter.Host == acl.Host)
            && (filter.Operation == AclOperation.Any || filter.Operation == acl.Operation)
            && (filter.Permission == AclPermissionType.Any || filter.Permission == acl.Permission);
    }

    /// <summary>Why <paramref name="filter"/> cannot be used, or null when it can.</summary>
    public static string? InvalidFilter(AclBindingFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.ResourceType == AclResourceType.Unknown || !Enum.IsDefined(filter.ResourceType))
        {
            return "The filter's resource type is UNKNOWN.";
        }

        if (filter.PatternType == AclPatternType.Unknown || !Enum.IsDefined(filter.PatternType))
        {
            return "The filter's pattern type is UNKNOWN.";
        }

        if (filter.Operation == AclOperation.Unknown || !Enum.IsDefined(filter.Operation))
        {
            return "The filter's operation is UNKNOWN.";
        }

        return filter.Permission == AclPermissionType.Unknown || !Enum.IsDefined(filter.Permission)
            ? "The filter's permission type is UNKNOWN."
            : null;
    }

    private static bool MatchesResource(AclBindingFilter filter, AclBinding acl)
    {
        if (filter.ResourceType != AclResourceType.Any && filter.ResourceType != acl.ResourceType)
        {
            return false;
        }

        if (filter.PatternType is not (AclPatternType.Any or AclPatternType.Match) && filter.PatternType != acl.PatternType)
        {
            return false;
        }

        if (filter.ResourceName is not { } name)
        {
            return true;
        }

        if (filter.PatternType is not AclPatternType.Match)
        {
            return name == acl.ResourceName;
        }

        return acl.PatternType switch
        {
            AclPatternType.Literal => name == acl.ResourceName || acl.ResourceName == WildcardResource,
            AclPatternType.Prefixed => name.StartsWith(acl.ResourceName, StringComparison.Ordinal),
            _ => false,
        };
    }
}
