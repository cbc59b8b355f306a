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
            [ApiKey.CreateTopics] = new AdminApis(broker).CreateTopicsAsync,
            [ApiKey.DeleteTopics] = new AdminApis(broker).DeleteTopicsAsync,
            [ApiKey.CreatePartitions] = new AdminApis(broker).CreatePartitionsAsync,
            [ApiKey.DescribeConfigs] = new ConfigApis(broker).DescribeConfigsAsync,
            [ApiKey.IncrementalAlterConfigs] = new ConfigApis(broker).IncrementalAlterConfigsAsync,
        };
        return handlers;
    }
}
