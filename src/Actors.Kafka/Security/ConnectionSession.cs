using Actors.Kafka.Listener;

namespace Actors.Kafka.Security;

/// <summary>
/// One connection's authentication: on a SASL listener the client must complete a SASL exchange (SaslHandshake, then
/// SaslAuthenticate, or raw tokens after a version-0 handshake) before any request other than ApiVersions; the
/// connection then carries the authenticated principal. On other listeners the principal is ANONYMOUS from the start.
/// </summary>
/// <remarks>Requests before authentication are handled one at a time (the connection waits for each answer), so the
/// state below changes only from one request at a time; <see cref="Principal"/> is read by later requests after it is
/// set.</remarks>
public sealed class ConnectionSession
{
    /// <summary>Kafka's principal for a client that did not authenticate.</summary>
    public const string Anonymous = "User:ANONYMOUS";

    private readonly ScramCredentialLookup credentials;
    private volatile string? principal;

    public ConnectionSession(ListenerSecurity security, ScramCredentialLookup credentials)
    {
        Security = security ?? throw new ArgumentNullException(nameof(security));
        this.credentials = credentials ?? throw new ArgumentNullException(nameof(credentials));
        principal = security.Sasl ? null : Anonymous;
    }

    public ListenerSecurity Security { get; }

    /// <summary>"User:name" once authenticated (ANONYMOUS without SASL); null before.</summary>
    public string? Principal => principal;

    public bool Authenticated => principal is not null;

    /// <summary>The mechanism chosen by the handshake, while its exchange runs.</summary>
    internal ISaslServer? Exchange { get; private set; }

    /// <summary>After a version-0 handshake the client sends the SASL tokens as bare size-prefixed frames.</summary>
    public bool RawTokens { get; private set; }

    /// <summary>Set when authentication failed or the SASL state was broken: the answer to this request is the last.</summary>
    public bool CloseAfterResponse { get; private set; }

    /// <summary>The answer after which the connection closes (set by the connection once that answer is made).</summary>
    internal byte[]? LastResponse { get; set; }

    /// <summary>SaslHandshake: the error to answer (NONE when the mechanism's exchange may start).</summary>
    internal ErrorCode Handshake(string mechanism, short version)
    {
        if (!Security.Sasl || Authenticated || Exchange is not null)
        {
            CloseAfterResponse = true;
            return ErrorCode.IllegalSaslState;
        }

        var name = mechanism.ToUpperInvariant();
        if (!Security.Mechanisms.Contains(name) || SaslMechanisms.Create(name, credentials) is not { } server)
        {
            CloseAfterResponse = true;
            return ErrorCode.UnsupportedSaslMechanism;
        }

        Exchange = server;
        RawTokens = version == 0;
        return ErrorCode.None;
    }

    /// <summary>One SASL token (SaslAuthenticate's bytes or a raw frame). A failed step ends the connection after the
    /// answer; the last successful step authenticates it.</summary>
    internal async Task<SaslStep> AuthenticateAsync(byte[] token)
    {
        if (Exchange is null || Authenticated)
        {
            CloseAfterResponse = true;
            return SaslStep.Fail("SaslAuthenticate must follow a SaslHandshake that chose a mechanism.");
        }

        var step = await Exchange.EvaluateAsync(token).ConfigureAwait(false);
        if (step.Failure is not null)
        {
            CloseAfterResponse = true;
        }
        else if (step.Complete)
        {
            principal = "User:" + step.Principal;
            Exchange = null;
            RawTokens = false;
        }

        return step;
    }

    /// <summary>An SSL listener's client that presented a trusted certificate: its principal is
    /// <paramref name="principal"/> (User: and the subject) from the start. Ignored on a SASL listener, where the
    /// principal comes from SASL.</summary>
    internal void AuthenticateWithCertificate(string principal)
    {
        if (!Security.Sasl)
        {
            this.principal = principal;
        }
    }
}
