namespace Actors.Broker;

/// <summary>
/// The cluster's SASL/SCRAM credentials (key <see cref="BrokerGrainKeys.ScramCredentials"/>), as Kafka keeps them:
/// per user and mechanism a salt, an iteration count and the two keys derived from the salted password (RFC 5802's
/// StoredKey and ServerKey). Neither the password nor the salted password is ever stored, so the store cannot be
/// used to log in; it can only check a client's proof.
/// </summary>
[Alias("broker.IScramCredentialsGrain")]
public interface IScramCredentialsGrain : IGrainWithStringKey
{
    /// <summary>The credential of <paramref name="user"/> for <paramref name="mechanism"/>, or null.</summary>
    [ReadOnly]
    Task<ScramCredential?> GetAsync(string user, ScramMechanism mechanism);

    /// <summary>The mechanisms and iteration counts of each user in <paramref name="users"/> (every user when null),
    /// as DescribeUserScramCredentials answers; never a key or salt.</summary>
    [ReadOnly]
    Task<ScramUserDescription[]> DescribeAsync(string[]? users);

    /// <summary>Applies deletions, then upsertions, each checked on its own, as AlterUserScramCredentials does;
    /// one result per user named, in the order first named.</summary>
    Task<ScramAlterResult[]> AlterAsync(ScramDeletion[] deletions, ScramUpsertion[] upsertions);
}

/// <summary>The SCRAM mechanisms, numbered as Kafka's AlterUserScramCredentials numbers them.</summary>
public enum ScramMechanism : byte
{
    Unknown = 0,
    ScramSha256 = 1,
    ScramSha512 = 2,
}

/// <summary>One user's stored credential for one mechanism.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.ScramCredential")]
public sealed record ScramCredential(
    [property: Id(0)] ScramMechanism Mechanism,
    [property: Id(1)] byte[] Salt,
    [property: Id(2)] int Iterations,
    [property: Id(3)] byte[] StoredKey,
    [property: Id(4)] byte[] ServerKey);

[GenerateSerializer]
[Immutable]
[Alias("broker.ScramUserDescription")]
public sealed record ScramUserDescription(
    [property: Id(0)] string User,
    [property: Id(1)] ErrorCode Error,
    [property: Id(2)] string? ErrorMessage,
    [property: Id(3)] ScramCredentialInfo[] Credentials);

[GenerateSerializer]
[Immutable]
[Alias("broker.ScramCredentialInfo")]
public sealed record ScramCredentialInfo([property: Id(0)] ScramMechanism Mechanism, [property: Id(1)] int Iterations);

[GenerateSerializer]
[Immutable]
[Alias("broker.ScramDeletion")]
public sealed record ScramDeletion([property: Id(0)] string User, [property: Id(1)] ScramMechanism Mechanism);

/// <summary>A credential to set: the client sends the salted password (KIP-554), from which the keys are derived.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.ScramUpsertion")]
public sealed record ScramUpsertion(
    [property: Id(0)] string User,
    [property: Id(1)] ScramMechanism Mechanism,
    [property: Id(2)] int Iterations,
    [property: Id(3)] byte[] Salt,
    [property: Id(4)] byte[] SaltedPassword);

[GenerateSerializer]
[Immutable]
[Alias("broker.ScramAlterResult")]
public sealed record ScramAlterResult([property: Id(0)] string User, [property: Id(1)] ErrorCode Error, [property: Id(2)] string? ErrorMessage);
