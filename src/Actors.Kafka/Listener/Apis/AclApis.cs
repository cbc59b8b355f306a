using Actors.Broker;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// CreateAcls, DescribeAcls and DeleteAcls over the cluster's ACL store (<see cref="IAclsGrain"/>). As in Kafka,
/// describing needs DESCRIBE on the cluster and changing needs ALTER on it, and without an authorizer
/// (<c>authorizer.class.name</c>) the three answer SECURITY_DISABLED.
/// </summary>
internal sealed class AclApis(KafkaBroker broker)
{
    private const string NoAuthorizer = "No authorizer is configured on the broker: set authorizer.class.name to turn ACLs on.";

    private IAclsGrain Store => broker.Grains.GetGrain<IAclsGrain>(BrokerGrainKeys.Acls);

    public async Task<byte[]?> DescribeAclsAsync(KafkaRequest request)
    {
        var asked = request.Read<DescribeAclsRequestData>();
        var (error, message) = await RefusalAsync(request, AclOperation.Describe).ConfigureAwait(false);
        var response = new DescribeAclsResponseData { ErrorCode = (short)error, ErrorMessage = message };
        if (error != ErrorCode.None)
        {
            return request.Respond(response);
        }

        var filter = new AclBindingFilter((AclResourceType)asked.ResourceTypeFilter, asked.ResourceNameFilter, (AclPatternType)asked.PatternTypeFilter,
            asked.PrincipalFilter, asked.HostFilter, (AclOperation)asked.Operation, (AclPermissionType)asked.PermissionType);
        if (Acls.InvalidFilter(filter) is { } problem)
        {
            response.ErrorCode = (short)ErrorCode.InvalidRequest;
            response.ErrorMessage = problem;
            return request.Respond(response);
        }

        var acls = await broker.Authorizer.RefreshAsync().ConfigureAwait(false);
        response.ErrorMessage = null;
        response.Resources = acls.Bindings.Where(acl => Acls.Matches(filter, acl))
            .GroupBy(acl => (acl.ResourceType, acl.ResourceName, acl.PatternType))
            .Select(g => new DescribeAclsResponseData.DescribeAclsResource
            {
                ResourceType = (sbyte)g.Key.ResourceType,
                ResourceName = g.Key.ResourceName,
                PatternType = (sbyte)g.Key.PatternType,
                Acls = g.Select(acl => new DescribeAclsResponseData.AclDescription
                {
                    Principal = acl.Principal,
                    Host = acl.Host,
                    Operation = (sbyte)acl.Operation,
                    PermissionType = (sbyte)acl.Permission,
                }).ToList(),
            }).ToList();
        return request.Respond(response);
    }

    public async Task<byte[]?> CreateAclsAsync(KafkaRequest request)
    {
        var asked = request.Read<CreateAclsRequestData>();
        var (error, message) = await RefusalAsync(request, AclOperation.Alter).ConfigureAwait(false);
        AclCreateResult[] results;
        if (error != ErrorCode.None)
        {
            results = asked.Creations.Select(_ => new AclCreateResult(error, message)).ToArray();
        }
        else
        {
            results = await Store.CreateAsync(asked.Creations.Select(c => new AclBinding(
                (AclResourceType)c.ResourceType, c.ResourceName, (AclPatternType)c.ResourcePatternType, c.Principal, c.Host,
                (AclOperation)c.Operation, (AclPermissionType)c.PermissionType)).ToArray()).ConfigureAwait(false);
            broker.Authorizer.Changed();
        }

        return request.Respond(new CreateAclsResponseData
        {
            Results = results.Select(r => new CreateAclsResponseData.AclCreationResult { ErrorCode = (short)r.Error, ErrorMessage = r.ErrorMessage }).ToList(),
        });
    }

    public async Task<byte[]?> DeleteAclsAsync(KafkaRequest request)
    {
        var asked = request.Read<DeleteAclsRequestData>();
        var (error, message) = await RefusalAsync(request, AclOperation.Alter).ConfigureAwait(false);
        AclDeleteResult[] results;
        if (error != ErrorCode.None)
        {
            results = asked.Filters.Select(_ => new AclDeleteResult(error, message, [])).ToArray();
        }
        else
        {
            results = await Store.DeleteAsync(asked.Filters.Select(f => new AclBindingFilter(
                (AclResourceType)f.ResourceTypeFilter, f.ResourceNameFilter, (AclPatternType)f.PatternTypeFilter, f.PrincipalFilter, f.HostFilter,
                (AclOperation)f.Operation, (AclPermissionType)f.PermissionType)).ToArray()).ConfigureAwait(false);
            broker.Authorizer.Changed();
        }

        return request.Respond(new DeleteAclsResponseData
        {
            FilterResults = results.Select(r => new DeleteAclsResponseData.DeleteAclsFilterResult
            {
                ErrorCode = (short)r.Error,
                ErrorMessage = r.ErrorMessage,
                MatchingAcls = r.Deleted.Select(acl => new DeleteAclsResponseData.DeleteAclsMatchingAcl
                {
                    ErrorMessage = null,
                    ResourceType = (sbyte)acl.ResourceType,
                    ResourceName = acl.ResourceName,
                    PatternType = (sbyte)acl.PatternType,
                    Principal = acl.Principal,
                    Host = acl.Host,
                    Operation = (sbyte)acl.Operation,
                    PermissionType = (sbyte)acl.Permission,
                }).ToList(),
            }).ToList(),
        });
    }

    private async Task<(ErrorCode, string?)> RefusalAsync(KafkaRequest request, AclOperation operation)
    {
        if (!broker.Authorizer.Enabled)
        {
            return (ErrorCode.SecurityDisabled, NoAuthorizer);
        }

        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        return access.AllowsCluster(operation)
            ? (ErrorCode.None, null)
            : (ErrorCode.ClusterAuthorizationFailed, $"{access.Principal} may not {RequestAccess.Name(operation)} the cluster.");
    }
}
