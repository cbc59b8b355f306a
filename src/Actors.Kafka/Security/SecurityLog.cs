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
}
