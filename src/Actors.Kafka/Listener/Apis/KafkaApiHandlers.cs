namespace Actors.Kafka.Listener.Apis;

/// <summary>The handler of every API the listener serves. Adding an API: its entry in <see cref="ApiKeys"/>, its
/// messages (eng/kafka-codegen), a handler here.</summary>
internal static class KafkaApiHandlers
{
    public static Dictionary<ApiKey, Func<KafkaRequest, Task<byte[]?>>> Create(KafkaBroker broker)
    {
        var handlers = new Dictionary<ApiKey, Func<KafkaRequest, Task<byte[]?>>>
        {
            [ApiKey.ApiVersions] = r => Task.FromResult<byte[]?>(ClusterApis.ApiVersions(r)),
            [ApiKey.Metadata] = new ClusterApis(broker).MetadataAsync,
            [ApiKey.DescribeCluster] = new ClusterApis(broker).DescribeClusterAsync,
            [ApiKey.FindCoordinator] = new ClusterApis(broker).FindCoordinatorAsync,
            [ApiKey.Produce] = new ProduceApi(broker, new RecordRouting(broker)).ProduceAsync,
            [ApiKey.Fetch] = new FetchApi(broker, new RecordRouting(broker)).FetchAsync,
            [ApiKey.ListOffsets] = new RecordApis(broker, new RecordRouting(broker)).ListOffsetsAsync,
            [ApiKey.OffsetForLeaderEpoch] = new RecordApis(broker, new RecordRouting(broker)).OffsetForLeaderEpochAsync,
            [ApiKey.InitProducerId] = new RecordApis(broker, new RecordRouting(broker)).InitProducerIdAsync,
        };
        return handlers;
    }
}
