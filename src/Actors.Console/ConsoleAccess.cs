using Actors.Broker;
using Actors.Kafka.Security;
using Microsoft.AspNetCore.Http;

namespace Actors.WebConsole;

/// <summary>
/// What one console request may see and do, decided by the silo's Kafka authorizer (<see cref="AclAuthorizer"/>, the
/// same instance and ACLs as the Kafka port) for the logged-in user as principal <c>User:name</c> (HTTP Basic with
/// <c>http.auth=sasl</c>; <c>User:ANONYMOUS</c> without it, as on a Kafka listener without SASL) from the browser's
/// address. Without <c>authorizer.class.name</c> everything is allowed. The operations asked are the ones Kafka's
/// APIs ask for the same action (see docs/console.md).
/// </summary>
public sealed class ConsoleAccess
{
    /// <summary>The key under which the HTTP authentication leaves the logged-in user's name in <see cref="HttpContext.Items"/>.</summary>
    public const string UserItem = "Actors.User";

    /// <summary>The principal of a request without a logged-in user.</summary>
    public const string Anonymous = "User:ANONYMOUS";

    private readonly AclAuthorizer authorizer;
    private readonly AclView? acls;

    private ConsoleAccess(AclAuthorizer authorizer, AclView? acls, string principal, string host)
    {
        this.authorizer = authorizer;
        this.acls = acls;
        Principal = principal;
        Host = host;
    }

    /// <summary>Everything allowed (no authorizer).</summary>
    public static ConsoleAccess Open { get; } = new(AclAuthorizer.Disabled, null, Anonymous, "");

    public string Principal { get; }

    public string Host { get; }

    /// <summary>Whether ACLs are checked at all.</summary>
    public bool Enabled => acls is not null;

    /// <summary>The access of <paramref name="context"/>'s request under <paramref name="authorizer"/>.</summary>
    public static async ValueTask<ConsoleAccess> ForAsync(HttpContext context, AclAuthorizer authorizer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizer);
        if (!authorizer.Enabled)
        {
            return Open;
        }

        var principal = context.Items[UserItem] is string { Length: > 0 } user ? "User:" + user : Anonymous;
        var address = context.Connection.RemoteIpAddress;
        var host = address is null ? "" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        return new ConsoleAccess(authorizer, await authorizer.CurrentAsync().ConfigureAwait(false), principal, host);
    }

    /// <summary>Whether the operation is allowed; a refusal is logged as the Kafka listener logs one, with
    /// <paramref name="action"/> (e.g. "Console DeleteTopic") in place of the API, unless <paramref name="logDenied"/> is false.</summary>
    public bool Allows(AclOperation operation, AclResourceType type, string name, string action, bool logDenied = true) =>
        acls is null || authorizer.Authorize(acls, Principal, Host, operation, type, name, action, logDenied);

    /// <summary>Whether the topic is listed: DESCRIBE on it (refusals not logged, as Kafka's Metadata leaves such topics out).</summary>
    public bool Sees(string topic) => Allows(AclOperation.Describe, AclResourceType.Topic, topic, "", logDenied: false);

    /// <summary>Whether the group is listed: DESCRIBE on the cluster or on the group (as Kafka's ListGroups).</summary>
    public bool SeesGroup(string group) =>
        Allows(AclOperation.Describe, AclResourceType.Cluster, Acls.ClusterResourceName, "", logDenied: false)
        || Allows(AclOperation.Describe, AclResourceType.Group, group, "", logDenied: false);

    /// <summary>Throws unless allowed, naming the principal, the operation and the resource: the ACL that is missing.</summary>
    /// <exception cref="ConsoleRefusedException">No ACL allows it, or one denies it.</exception>
    public void Require(AclOperation operation, AclResourceType type, string name, string action)
    {
        if (!Allows(operation, type, name, action))
        {
            throw Refusal(operation, type, name, action);
        }
    }

    /// <summary>The refusal of <paramref name="action"/> for want of <paramref name="operation"/> on the resource.</summary>
    public ConsoleRefusedException Refusal(AclOperation operation, AclResourceType type, string name, string action)
    {
        var op = AclAuthorizer.KafkaName(operation);
        var resource = type == AclResourceType.Cluster ? "the Cluster" : $"{Pascal(AclAuthorizer.KafkaName(type))} '{name}'";
        return new ConsoleRefusedException(
            $"Refused ({action}): {Principal} is not allowed {op} on {resource}. No ACL allows it, or one denies it; an administrator can add one with "
            + $"actors acls --add --allow-principal {Principal} --operation {Pascal(op)} {Flag(type, name)}.");
    }

    private static string Flag(AclResourceType type, string name) => type switch
    {
        AclResourceType.Topic => $"--topic {name}",
        AclResourceType.Group => $"--group {name}",
        AclResourceType.Cluster => "--cluster",
        _ => $"--{type.ToString().ToLowerInvariant()} {name}",
    };

    /// <summary>DESCRIBE_CONFIGS → DescribeConfigs, as kafka-acls spells operations.</summary>
    private static string Pascal(string kafkaName) =>
        string.Concat(kafkaName.Split('_').Select(w => w.Length == 0 ? w : w[..1] + w[1..].ToLowerInvariant()));
}

/// <summary>A console action the ACLs do not allow (HTTP 403); the message names the missing ACL.</summary>
public sealed class ConsoleRefusedException(string message) : ConsoleException(message);
