using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// SaslHandshake and SaslAuthenticate (the connection's SASL exchange, see <see cref="ConnectionSession"/>), and the
/// SCRAM credential admin APIs over the cluster's store (<see cref="IScramCredentialsGrain"/>).
/// </summary>
internal sealed class SecurityApis(KafkaBroker broker)
{
    private IScramCredentialsGrain Store => broker.Grains.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials);

    public static Task<byte[]?> SaslHandshakeAsync(KafkaRequest request)
    {
        var asked = request.Read<SaslHandshakeRequestData>();
        var session = request.Session;
        var error = session?.Handshake(asked.Mechanism, request.Version) ?? ErrorCode.IllegalSaslState;
        return Task.FromResult<byte[]?>(request.Respond(new SaslHandshakeResponseData
        {
            ErrorCode = (short)error,
            Mechanisms = (session?.Security.Mechanisms ?? []).ToList(),
        }));
    }

    public async Task<byte[]?> SaslAuthenticateAsync(KafkaRequest request)
    {
        var asked = request.Read<SaslAuthenticateRequestData>();
        if (request.Session is not { } session)
        {
            return request.Respond(new SaslAuthenticateResponseData
            {
                ErrorCode = (short)ErrorCode.IllegalSaslState,
                ErrorMessage = "This listener does not use SASL.",
            });
        }

        var step = await session.AuthenticateAsync(asked.AuthBytes).ConfigureAwait(false);
        if (step.Failure is not null)
        {
            SecurityLog.AuthenticationFailed(broker.Logger, request.ClientHost ?? "unknown", session.Security.ListenerName, step.Failure);
        }
        else if (session.Principal is { } principal && step.Complete)
        {
            SecurityLog.Authenticated(broker.Logger, request.ClientHost ?? "unknown", principal, session.Security.ListenerName);
        }

        return request.Respond(new SaslAuthenticateResponseData
        {
            ErrorCode = (short)(step.Failure is null ? ErrorCode.None : ErrorCode.SaslAuthenticationFailed),
            ErrorMessage = step.Failure,
            AuthBytes = step.Response,
            SessionLifetimeMs = 0,
        });
    }

    public async Task<byte[]?> DescribeUserScramCredentialsAsync(KafkaRequest request)
    {
        var asked = request.Read<DescribeUserScramCredentialsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        if (!access.AllowsCluster(AclOperation.Describe))
        {
            return request.Respond(new DescribeUserScramCredentialsResponseData
            {
                ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed,
                ErrorMessage = $"{access.Principal} may not DESCRIBE the cluster.",
            });
        }

        var users = asked.Users is null || asked.Users.Count == 0 ? null : asked.Users.Select(u => u.Name).ToArray();
        var answer = await Store.DescribeAsync(users).ConfigureAwait(false);
        var response = new DescribeUserScramCredentialsResponseData { ErrorMessage = null };
        if (users is not null)
        {
            foreach (var twice in users.GroupBy(u => u, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                response.Results.Add(new DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult
                {
                    User = twice.Key,
                    ErrorCode = (short)ErrorCode.DuplicateResource,
                    ErrorMessage = $"Cannot describe SCRAM credentials for the same user twice in a single request: {twice.Key}",
                });
            }
        }

        foreach (var user in answer.Where(a => response.Results.All(r => r.User != a.User)))
        {
            response.Results.Add(new DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult
            {
                User = user.User,
                ErrorCode = (short)user.Error,
                ErrorMessage = user.ErrorMessage,
                CredentialInfos = user.Credentials.Select(c => new DescribeUserScramCredentialsResponseData.CredentialInfo
                {
                    Mechanism = (sbyte)c.Mechanism,
                    Iterations = c.Iterations,
                }).ToList(),
            });
        }

        return request.Respond(response);
    }

    public async Task<byte[]?> AlterUserScramCredentialsAsync(KafkaRequest request)
    {
        var asked = request.Read<AlterUserScramCredentialsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        if (!access.AllowsCluster(AclOperation.Alter))
        {
            return request.Respond(new AlterUserScramCredentialsResponseData
            {
                Results = asked.Deletions.Select(d => d.Name).Concat(asked.Upsertions.Select(u => u.Name)).Distinct(StringComparer.Ordinal)
                    .Select(user => new AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult
                    {
                        User = user,
                        ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed,
                        ErrorMessage = $"{access.Principal} may not ALTER the cluster.",
                    }).ToList(),
            });
        }

        var results = await Store.AlterAsync(
            asked.Deletions.Select(d => new ScramDeletion(d.Name, (ScramMechanism)d.Mechanism)).ToArray(),
            asked.Upsertions.Select(u => new ScramUpsertion(u.Name, (ScramMechanism)u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword)).ToArray())
            .ConfigureAwait(false);
        return request.Respond(new AlterUserScramCredentialsResponseData
        {
            Results = results.Select(r => new AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult
            {
                User = r.User,
                ErrorCode = (short)r.Error,
                ErrorMessage = r.ErrorMessage,
            }).ToList(),
        });
    }
}
