namespace Actors.Broker;

/// <summary>
/// The cluster's ACLs (key <see cref="BrokerGrainKeys.Acls"/>), in Kafka's model: who (a principal, from a host) may
/// or may not do what (an operation) to which resources (a type and a name, literal or prefix). Every change bumps
/// <see cref="AclSnapshot.Version"/>; each silo keeps a copy and asks <see cref="GetIfChangedAsync"/> with the version
/// it holds, so a request never waits for this grain.
/// </summary>
[Alias("broker.IAclsGrain")]
public interface IAclsGrain : IGrainWithStringKey
{
    /// <summary>Every ACL with the store's version, or null when the store is still at <paramref name="knownVersion"/>.</summary>
    [ReadOnly]
    Task<AclSnapshot?> GetIfChangedAsync(long knownVersion);

    /// <summary>Adds ACLs (CreateAcls): one result per binding, in order; an ACL already present is not added twice.</summary>
    Task<AclCreateResult[]> CreateAsync(AclBinding[] bindings);

    /// <summary>Removes every ACL matching each filter (DeleteAcls): one result per filter, in order, with the ACLs it
    /// removed.</summary>
    Task<AclDeleteResult[]> DeleteAsync(AclBindingFilter[] filters);
}

/// <summary>Kafka's resource types, numbered as the protocol numbers them.</summary>
public enum AclResourceType : sbyte
{
    Unknown = 0,
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

/// <summary>Kafka's pattern types: an ACL is LITERAL (the name, or * for every resource) or PREFIXED; filters also
/// take ANY (any pattern with the name) and MATCH (every ACL that applies to the named resource).</summary>
public enum AclPatternType : sbyte
{
    Unknown = 0,
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// <summary>Kafka's ACL operations, numbered as the protocol numbers them.</summary>
public enum AclOperation : sbyte
{
    Unknown = 0,
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
}

/// <summary>Kafka's permission types.</summary>
public enum AclPermissionType : sbyte
{
    Unknown = 0,
    Any = 1,
    Deny = 2,
    Allow = 3,
}

/// <summary>One ACL: <paramref name="Principal"/> (User:name, or User:* for everyone) from <paramref name="Host"/> (an
/// IP address, or * for any) is allowed or denied <paramref name="Operation"/> on the resources the pattern names.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.AclBinding")]
public sealed record AclBinding(
    [property: Id(0)] AclResourceType ResourceType,
    [property: Id(1)] string ResourceName,
    [property: Id(2)] AclPatternType PatternType,
    [property: Id(3)] string Principal,
    [property: Id(4)] string Host,
    [property: Id(5)] AclOperation Operation,
    [property: Id(6)] AclPermissionType Permission);

/// <summary>A filter over ACLs (DescribeAcls, DeleteAcls): null strings and ANY values match everything.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.AclBindingFilter")]
public sealed record AclBindingFilter(
    [property: Id(0)] AclResourceType ResourceType,
    [property: Id(1)] string? ResourceName,
    [property: Id(2)] AclPatternType PatternType,
    [property: Id(3)] string? Principal,
    [property: Id(4)] string? Host,
    [property: Id(5)] AclOperation Operation,
    [property: Id(6)] AclPermissionType Permission)
{
    /// <summary>Matches every ACL.</summary>
    public static AclBindingFilter Any { get; } =
        new(AclResourceType.Any, null, AclPatternType.Any, null, null, AclOperation.Any, AclPermissionType.Any);
}

/// <summary>Every ACL at one version of the store.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.AclSnapshot")]
public sealed record AclSnapshot([property: Id(0)] long Version, [property: Id(1)] AclBinding[] Bindings);

[GenerateSerializer]
[Immutable]
[Alias("broker.AclCreateResult")]
public sealed record AclCreateResult([property: Id(0)] ErrorCode Error, [property: Id(1)] string? ErrorMessage);

[GenerateSerializer]
[Immutable]
[Alias("broker.AclDeleteResult")]
public sealed record AclDeleteResult([property: Id(0)] ErrorCode Error, [property: Id(1)] string? ErrorMessage, [property: Id(2)] AclBinding[] Deleted);
