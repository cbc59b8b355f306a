using Actors.Broker;
using Actors.Kafka.Listener;

namespace Actors.Kafka.Security;

/// <summary>
/// One request's authorization: its principal (User:ANONYMOUS without SASL) and client host, and the ACLs to decide
/// from. A refusal is logged with the principal, host, operation and resource, as Kafka's authorizer logs it.
/// </summary>
internal sealed class RequestAccess
{
    private static readonly RequestAccess Open = new(AclAuthorizer.Disabled, null, ConnectionSession.Anonymous, "", "");

    private readonly AclAuthorizer authorizer;
    private readonly AclView? acls;
    private readonly string api;

    private RequestAccess(AclAuthorizer authorizer, AclView? acls, string principal, string host, string api)
    {
        this.authorizer = authorizer;
        this.acls = acls;
        Principal = principal;
        Host = host;
        this.api = api;
    }

    public string Principal { get; }

    public string Host { get; }

    public bool Enabled => authorizer.Enabled;

    /// <summary>The access of <paramref name="request"/>; without an authorizer every check allows, at no cost.</summary>
    public static ValueTask<RequestAccess> ForAsync(KafkaBroker broker, KafkaRequest request)
    {
        var authorizer = broker.Authorizer;
        if (!authorizer.Enabled)
        {
            return ValueTask.FromResult(Open);
        }

        var principal = request.Session?.Principal ?? ConnectionSession.Anonymous;
        var host = request.ClientHost is { } client ? client.TrimStart('/') : "";
        var api = request.Api.Key.ToString();
        var current = authorizer.CurrentAsync();
        return current.IsCompletedSuccessfully
            ? ValueTask.FromResult(new RequestAccess(authorizer, current.Result, principal, host, api))
            : AwaitAsync(current, authorizer, principal, host, api);
    }

    private static async ValueTask<RequestAccess> AwaitAsync(ValueTask<AclView> current, AclAuthorizer authorizer, string principal, string host, string api) =>
        new(authorizer, await current.ConfigureAwait(false), principal, host, api);

    /// <summary>Whether the operation is allowed on the resource; a refusal is logged unless <paramref name="logDenied"/>
    /// is false (a listing that leaves out what the principal may not see logs nothing, as Kafka does).</summary>
    public bool Allows(AclOperation operation, AclResourceType type, string name, bool logDenied = true)
    {
        if (acls is null || authorizer.Allows(acls, Principal, Host, operation, type, name))
        {
            return true;
        }

        if (logDenied)
        {
            SecurityLog.AuthorizationFailed(authorizer.Logger, Principal, Name(operation), Host, Name(type), name, api);
        }

        return false;
    }

    public bool AllowsTopic(AclOperation operation, string topic, bool logDenied = true) => Allows(operation, AclResourceType.Topic, topic, logDenied);

    public bool AllowsGroup(AclOperation operation, string group, bool logDenied = true) => Allows(operation, AclResourceType.Group, group, logDenied);

    public bool AllowsCluster(AclOperation operation, bool logDenied = true) => Allows(operation, AclResourceType.Cluster, Acls.ClusterResourceName, logDenied);

    /// <summary>Whether the operation is allowed on some resource of the type (see <see cref="AclAuthorizer.AllowsAny"/>).</summary>
    public bool AllowsAny(AclOperation operation, AclResourceType type) =>
        acls is null || authorizer.AllowsAny(acls, Principal, Host, operation, type);

    /// <summary>Logs a refusal decided from several checks.</summary>
    public void Refused(AclOperation operation, AclResourceType type, string name) =>
        SecurityLog.AuthorizationFailed(authorizer.Logger, Principal, Name(operation), Host, Name(type), name, api);

    /// <summary>Kafka's spelling of an operation or resource type (READ, IDEMPOTENT_WRITE, TRANSACTIONAL_ID).</summary>
    public static string Name<T>(T value)
        where T : struct, Enum
    {
        var text = value.ToString();
        var result = new System.Text.StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            if (i > 0 && char.IsUpper(text[i]))
            {
                result.Append('_');
            }

            result.Append(char.ToUpperInvariant(text[i]));
        }

        return result.ToString();
    }
}
