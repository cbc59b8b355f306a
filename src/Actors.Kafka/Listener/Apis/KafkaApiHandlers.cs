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
            [ApiKey.CreateTopics] = new AdminApis(broker).CreateTopicsAsync,
            [ApiKey.DeleteTopics] = new AdminApis(broker).DeleteTopicsAsync,
            [ApiKey.CreatePartitions] = new AdminApis(broker).CreatePartitionsAsync,
            [ApiKey.DescribeConfigs] = new ConfigApis(broker).DescribeConfigsAsync,
            [ApiKey.IncrementalAlterConfigs] = new ConfigApis(broker).IncrementalAlterConfigsAsync,
        };
        var groups = new GroupApis(broker);
        handlers[ApiKey.OffsetCommit] = groups.OffsetCommitAsync;
        handlers[ApiKey.OffsetFetch] = groups.OffsetFetchAsync;
        handlers[ApiKey.ConsumerGroupHeartbeat] = groups.ConsumerGroupHeartbeatAsync;
        handlers[ApiKey.ConsumerGroupDescribe] = groups.ConsumerGroupDescribeAsync;
        handlers[ApiKey.DeleteGroups] = groups.DeleteGroupsAsync;
        handlers[ApiKey.JoinGroup] = groups.JoinGroupAsync;
        handlers[ApiKey.SyncGroup] = groups.SyncGroupAsync;
        handlers[ApiKey.Heartbeat] = groups.HeartbeatAsync;
        handlers[ApiKey.LeaveGroup] = groups.LeaveGroupAsync;
        handlers[ApiKey.DescribeGroups] = groups.DescribeGroupsAsync;
        handlers[ApiKey.ListGroups] = groups.ListGroupsAsync;
        handlers[ApiKey.OffsetDelete] = groups.OffsetDeleteAsync;
        var security = new SecurityApis(broker);
        handlers[ApiKey.SaslHandshake] = SecurityApis.SaslHandshakeAsync;
        handlers[ApiKey.SaslAuthenticate] = security.SaslAuthenticateAsync;
        handlers[ApiKey.DescribeUserScramCredentials] = security.DescribeUserScramCredentialsAsync;
        handlers[ApiKey.AlterUserScramCredentials] = security.AlterUserScramCredentialsAsync;
        var acls = new AclApis(broker);
        handlers[ApiKey.DescribeAcls] = acls.DescribeAclsAsync;
        handlers[ApiKey.CreateAcls] = acls.CreateAclsAsync;
        handlers[ApiKey.DeleteAcls] = acls.DeleteAclsAsync;
        return handlers;
    }
}
