using Microsoft.Extensions.Logging;

namespace Actors.Kafka.Security;

/// <summary>The listener's security log lines: every refused authentication is logged with where it came from.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 7301, Level = LogLevel.Warning,
        Message = "Authentication of a Kafka client from {Client} on listener {Listener} failed: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, string client, string listener, string reason);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Information, Message = "Kafka client from {Client} authenticated as {Principal} on listener {Listener}")]
    public static partial void Authenticated(ILogger logger, string client, string principal, string listener);

    [LoggerMessage(EventId = 7303, Level = LogLevel.Debug, Message = "TLS handshake with {Client} on listener {Listener} failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, string client, string listener, string reason);

    [LoggerMessage(EventId = 7306, Level = LogLevel.Warning,
        Message = "Refused the TLS client certificate of a Kafka client from {Client} on listener {Listener}: {Reason}")]
    public static partial void ClientCertificateRefused(ILogger logger, string client, string listener, string reason);

    [LoggerMessage(EventId = 7304, Level = LogLevel.Warning,
        Message = "Refused {Operation} on {ResourceType} '{ResourceName}' to {Principal} from {Host} ({Api}): no ACL allows it, or one denies it")]
    public static partial void AuthorizationFailed(ILogger logger, string principal, string operation, string host, string resourceType, string resourceName, string api);

    [LoggerMessage(EventId = 7305, Level = LogLevel.Warning,
        Message = "Checking the ACLs against the cluster's store failed; deciding from the copy of version {Version} until the next check: {Reason}")]
    public static partial void AclRefreshFailed(ILogger logger, long version, string reason);
}
