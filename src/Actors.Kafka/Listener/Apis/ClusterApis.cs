using Actors.Kafka.Protocol.Messages;
using Actors.Broker;
using Actors.Kafka.Security;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;
using KafkaMetadataResponse = Actors.Kafka.Protocol.MetadataResponse;

namespace Actors.Kafka.Listener.Apis;

/// <summary>ApiVersions, Metadata, DescribeCluster and FindCoordinator: what a client asks before anything else.</summary>
internal sealed class ClusterApis(KafkaBroker broker)
{
    /// <summary>Kafka's coordinator key types (FindCoordinator): a consumer group, a transactional id.</summary>
    private const sbyte GroupKeyType = 0;

    public static byte[] ApiVersions(KafkaRequest request)
    {
        if (!request.Api.IsSupported(request.Version))
        {
            // Not decoded: the client learns our range from the answer and retries.
            return request.Respond(0, (ref KafkaWriter w) =>
                ApiVersionsCodec.WriteResponse(ref w, ApiVersionsResponse.UnsupportedVersion(), 0));
        }

        var reader = new KafkaReader(request.Body.Span, request.BodyPosition);
        ApiVersionsCodec.ReadRequest(ref reader, request.Version);
        var response = ApiVersionsResponse.Supported();
        return request.Respond(request.Version, (ref KafkaWriter w) =>
            ApiVersionsCodec.WriteResponse(ref w, response, request.Version));
    }

    public async Task<byte[]?> MetadataAsync(KafkaRequest request)
    {
        request.Api.EnsureSupported(request.Version);
        var asked = ReadMetadataRequest(request);
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var response = access.Enabled
            ? await AuthorizedMetadataAsync(asked, access).ConfigureAwait(false)
            : MetadataTranslation.ToKafka(asked, await broker.Cluster.AskAsync(MetadataTranslation.ToBroker(asked)).ConfigureAwait(false), broker.ClusterId, broker.ListenerName);
        return request.Respond(request.Version, (ref KafkaWriter w) =>
            MetadataCodec.WriteResponse(ref w, response, request.Version));
    }

    /// <summary>
    /// Metadata under ACLs, as Kafka answers it: a topic the principal may not DESCRIBE is left out of "every topic"
    /// and answered TOPIC_AUTHORIZATION_FAILED when named (whether it exists is not told); a named topic that does not
    /// exist is created only with CREATE on the cluster or on the topic, and is TOPIC_AUTHORIZATION_FAILED without.
    /// </summary>
    private async Task<KafkaMetadataResponse> AuthorizedMetadataAsync(KafkaMetadataRequest asked, RequestAccess access)
    {
        var named = asked.Topics is { } list && list.All(t => t.Name is not null);
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        KafkaMetadataRequest visible = asked;
        if (named)
        {
            hidden.UnionWith(asked.Topics!.Select(t => t.Name!).Where(t => !access.AllowsTopic(AclOperation.Describe, t)));
            visible = asked with { Topics = asked.Topics!.Where(t => !hidden.Contains(t.Name!)).ToArray(), AllowAutoTopicCreation = false };
        }

        var answer = await broker.Cluster.AskAsync(MetadataTranslation.ToBroker(visible)).ConfigureAwait(false);
        var response = MetadataTranslation.ToKafka(visible, answer, broker.ClusterId, broker.ListenerName);
        var topics = response.Topics.Where(t => named || t.Name is null || access.AllowsTopic(AclOperation.Describe, t.Name, logDenied: false)).ToList();

        // Auto-creation, for the topics missing that the principal may create.
        var missing = topics.Where(t => t.ErrorCode == ErrorCode.UnknownTopicOrPartition && t.Name is not null).Select(t => t.Name!).ToList();
        if (named && asked.AllowAutoTopicCreation && missing.Count > 0)
        {
            var anyTopic = access.AllowsCluster(AclOperation.Create, logDenied: false);
            var creatable = missing.Where(t => anyTopic || access.AllowsTopic(AclOperation.Create, t)).ToHashSet(StringComparer.Ordinal);
            if (creatable.Count > 0)
            {
                var again = asked with { Topics = creatable.Select(t => new MetadataRequestTopic(Guid.Empty, t)).ToArray(), AllowAutoTopicCreation = true };
                var created = MetadataTranslation.ToKafka(again, await broker.Cluster.AskAsync(MetadataTranslation.ToBroker(again)).ConfigureAwait(false), broker.ClusterId, broker.ListenerName);
                var byName = created.Topics.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal);
                topics = topics.Select(t => t.Name is { } n && byName.TryGetValue(n, out var c) ? c : t).ToList();
            }

            topics = topics.Select(t => t.Name is { } n && missing.Contains(n) && !creatable.Contains(n)
                ? new MetadataTopic { Name = n, ErrorCode = ErrorCode.TopicAuthorizationFailed }
                : t).ToList();
        }

        if (named)
        {
            // In the order asked, the hidden ones refused.
            var byName = topics.Where(t => t.Name is not null).GroupBy(t => t.Name!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            topics = asked.Topics!.Select(t => t.Name!).Distinct(StringComparer.Ordinal)
                .Select(n => hidden.Contains(n) || !byName.TryGetValue(n, out var topic)
                    ? new MetadataTopic { Name = n, ErrorCode = ErrorCode.TopicAuthorizationFailed }
                    : topic)
                .ToList();
        }

        return response with { Topics = topics.ToArray() };
    }

    public async Task<byte[]?> DescribeClusterAsync(KafkaRequest request)
    {
        request.Read<DescribeClusterRequestData>();
        var cluster = await broker.Cluster.GetAsync().ConfigureAwait(false);
        var response = new DescribeClusterResponseData
        {
            ClusterId = broker.ClusterId ?? string.Empty,
            ControllerId = cluster.ControllerId,
            ClusterAuthorizedOperations = int.MinValue,
            // Each broker's address on the listener this client came in on (Kafka matches listeners by name).
            Brokers = cluster.LiveBrokers
                .Select(b => b.TryGetEndpoint(broker.ListenerName, out var host, out var port)
                    ? new DescribeClusterResponseData.DescribeClusterBroker { BrokerId = b.NodeId, Host = host, Port = port }
                    : null)
                .OfType<DescribeClusterResponseData.DescribeClusterBroker>()
                .ToList(),
        };
        return request.Respond(response);
    }

    /// <summary>
    /// Every silo serves every group (the group's grain is reached from any silo), so the coordinator is the broker
    /// asked: the client keeps one connection less. Transactions are not served: COORDINATOR_NOT_AVAILABLE.
    /// </summary>
    public async Task<byte[]?> FindCoordinatorAsync(KafkaRequest request)
    {
        var asked = request.Read<FindCoordinatorRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var response = new FindCoordinatorResponseData();
        if (request.Version >= 4)
        {
            response.Coordinators = asked.CoordinatorKeys.Select(key => Coordinator(access, key, asked.KeyType)).ToList();
        }
        else
        {
            var one = Coordinator(access, asked.Key, asked.KeyType);
            response.ErrorCode = one.ErrorCode;
            response.ErrorMessage = one.ErrorMessage;
            response.NodeId = one.NodeId;
            response.Host = one.Host;
            response.Port = one.Port;
        }

        return request.Respond(response);
    }

    private FindCoordinatorResponseData.Coordinator Coordinator(RequestAccess access, string key, sbyte keyType)
    {
        if (keyType == GroupKeyType && !access.AllowsGroup(AclOperation.Describe, key))
        {
            return new FindCoordinatorResponseData.Coordinator
            {
                Key = key,
                NodeId = -1,
                Host = string.Empty,
                Port = -1,
                ErrorCode = (short)ErrorCode.GroupAuthorizationFailed,
                ErrorMessage = $"{access.Principal} may not DESCRIBE group {key}.",
            };
        }

        if (keyType != GroupKeyType)
        {
            return new FindCoordinatorResponseData.Coordinator
            {
                Key = key,
                NodeId = -1,
                Host = string.Empty,
                Port = -1,
                ErrorCode = (short)ErrorCode.CoordinatorNotAvailable,
                ErrorMessage = "Transactions are not served by this cluster",
            };
        }

        return new FindCoordinatorResponseData.Coordinator { Key = key, NodeId = broker.NodeId, Host = broker.Host, Port = broker.Port };
    }

    private static KafkaMetadataRequest ReadMetadataRequest(KafkaRequest request)
    {
        var reader = new KafkaReader(request.Body.Span, request.BodyPosition);
        return MetadataCodec.ReadRequest(ref reader, request.Version, allowTrailingBytes: true);
    }
}
