using Actors.Kafka.Protocol.Messages;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

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
        var answer = await broker.Cluster.AskAsync(MetadataTranslation.ToBroker(asked)).ConfigureAwait(false);
        var response = MetadataTranslation.ToKafka(asked, answer, broker.ClusterId, broker.ListenerName);
        return request.Respond(request.Version, (ref KafkaWriter w) =>
            MetadataCodec.WriteResponse(ref w, response, request.Version));
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
    public Task<byte[]?> FindCoordinatorAsync(KafkaRequest request)
    {
        var asked = request.Read<FindCoordinatorRequestData>();
        var response = new FindCoordinatorResponseData();
        if (request.Version >= 4)
        {
            response.Coordinators = asked.CoordinatorKeys.Select(key => Coordinator(key, asked.KeyType)).ToList();
        }
        else
        {
            var one = Coordinator(asked.Key, asked.KeyType);
            response.ErrorCode = one.ErrorCode;
            response.ErrorMessage = one.ErrorMessage;
            response.NodeId = one.NodeId;
            response.Host = one.Host;
            response.Port = one.Port;
        }

        return Task.FromResult<byte[]?>(request.Respond(response));
    }

    private FindCoordinatorResponseData.Coordinator Coordinator(string key, sbyte keyType)
    {
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
