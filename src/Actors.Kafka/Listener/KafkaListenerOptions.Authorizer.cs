using Actors.Kafka.Security;

namespace Actors.Kafka.Listener;

/// <summary>The authorizer's settings, under Kafka's names (see docs/security.md).</summary>
public sealed partial class KafkaListenerOptions
{
    /// <summary>Kafka's <c>authorizer.class.name</c>: any non-empty value (Kafka's
    /// <c>org.apache.kafka.metadata.authorizer.StandardAuthorizer</c>, or simply <c>acl</c>) turns ACL checks on. Off
    /// by default.</summary>
    public string? AuthorizerClassName { get; set; }

    /// <summary>Kafka's <c>super.users</c>: principals allowed everything, <c>User:admin;User:bob</c>.</summary>
    public string? SuperUsers { get; set; }

    /// <summary>Kafka's <c>allow.everyone.if.no.acl.found</c>: whether a resource no ACL names is open to everyone
    /// once the authorizer is on. Default false (closed).</summary>
    public bool AllowEveryoneIfNoAclFound { get; set; }

    /// <summary>The authorizer's settings, checked.</summary>
    /// <exception cref="ArgumentException">super.users is malformed; the message names it.</exception>
    public AuthorizerSettings Authorizer() => AuthorizerSettings.Parse(AuthorizerClassName, SuperUsers, AllowEveryoneIfNoAclFound);
}
