using System.Buffers;
using Actors.Integration.Tests.Processes;
using Actors.Kafka.Protocol;
using Actors.Kafka.Protocol.Messages;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>
/// The admin APIs in the versions librdkafka does not send (CreateTopics v7 with topic ids and configs, DeleteTopics
/// v6 by topic id, DescribeConfigs v4 with types and documentation), spoken on a plain socket with the generated
/// messages, against three real silo processes.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AdminProtocolTests(KafkaClusterFixture fixture) : IClassFixture<KafkaClusterFixture>
{
    private int Port => fixture.Cluster.Silos[1].KafkaPort;

    [Fact]
    public async Task CreateTopics_v7_answers_the_topic_id_counts_and_effective_configs_then_DeleteTopics_v6_deletes_it_by_id()
    {
        using var connection = await RawKafkaConnection.OpenAsync(Port);
        var topic = $"admin-raw-{Guid.NewGuid():N}"[..24];

        var created = await AskAsync<CreateTopicsRequestData, CreateTopicsResponseData>(connection, ApiKeys.CreateTopics, 7, new CreateTopicsRequestData
        {
            TimeoutMs = 30_000,
            Topics =
            [
                new CreateTopicsRequestData.CreatableTopic
                {
                    Name = topic, NumPartitions = -1, ReplicationFactor = -1,
                    Configs = [new CreateTopicsRequestData.CreatableTopicConfig { Name = "segment.bytes", Value = "1048576" }],
                },
            ],
        });

        var result = Assert.Single(created.Topics);
        Assert.Equal((short)0, result.ErrorCode);
        Assert.Null(result.ErrorMessage);
        Assert.Equal((1, (short)1), (result.NumPartitions, result.ReplicationFactor));
        var id = (await fixture.Cluster.Controller.DescribeTopicsAsync([topic]))[0].TopicId;
        Assert.Equal(id, result.TopicId);
        var configs = result.Configs!.ToDictionary(c => c.Name);
        Assert.Equal(("1048576", (sbyte)1), (configs["segment.bytes"].Value, configs["segment.bytes"].ConfigSource));
        Assert.Equal(("604800000", (sbyte)5), (configs["retention.ms"].Value, configs["retention.ms"].ConfigSource));
        Assert.True(configs["compression.type"].ReadOnly);

        var deleted = await AskAsync<DeleteTopicsRequestData, DeleteTopicsResponseData>(connection, ApiKeys.DeleteTopics, 6, new DeleteTopicsRequestData
        {
            TimeoutMs = 30_000,
            Topics = [new DeleteTopicsRequestData.DeleteTopicState { TopicId = id }],
        });

        var answer = Assert.Single(deleted.Responses);
        Assert.Equal(((short)0, topic, id), (answer.ErrorCode, answer.Name, answer.TopicId));
        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);

        var again = await AskAsync<DeleteTopicsRequestData, DeleteTopicsResponseData>(connection, ApiKeys.DeleteTopics, 6, new DeleteTopicsRequestData
        {
            Topics = [new DeleteTopicsRequestData.DeleteTopicState { TopicId = id }],
        });
        Assert.Equal((short)ErrorCode.UnknownTopicId, Assert.Single(again.Responses).ErrorCode);
    }

    [Fact]
    public async Task CreateTopics_with_a_manual_replica_assignment_is_refused_INVALID_REQUEST_saying_so()
    {
        using var connection = await RawKafkaConnection.OpenAsync(Port);
        var topic = $"admin-assigned-{Guid.NewGuid():N}"[..24];

        var created = await AskAsync<CreateTopicsRequestData, CreateTopicsResponseData>(connection, ApiKeys.CreateTopics, 5, new CreateTopicsRequestData
        {
            TimeoutMs = 30_000,
            Topics =
            [
                new CreateTopicsRequestData.CreatableTopic
                {
                    Name = topic, NumPartitions = -1, ReplicationFactor = -1,
                    Assignments = [new CreateTopicsRequestData.CreatableReplicaAssignment { PartitionIndex = 0, BrokerIds = [1] }],
                },
            ],
        });

        var result = Assert.Single(created.Topics);
        Assert.Equal((short)ErrorCode.InvalidRequest, result.ErrorCode);
        Assert.Contains("Manual replica assignment is not supported", result.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(await fixture.Cluster.Controller.ListTopicsAsync(), t => t == topic);
    }

    [Fact]
    public async Task DescribeConfigs_v4_gives_types_documentation_and_only_the_keys_asked()
    {
        using var connection = await RawKafkaConnection.OpenAsync(Port);

        var described = await AskAsync<DescribeConfigsRequestData, DescribeConfigsResponseData>(connection, ApiKeys.DescribeConfigs, 4, new DescribeConfigsRequestData
        {
            IncludeDocumentation = true,
            IncludeSynonyms = true,
            Resources =
            [
                new DescribeConfigsRequestData.DescribeConfigsResource
                {
                    ResourceType = 2, ResourceName = KafkaClusterFixture.Topic, ConfigurationKeys = ["min.insync.replicas", "cleanup.policy", "retention.ms"],
                },
                new DescribeConfigsRequestData.DescribeConfigsResource { ResourceType = 8, ResourceName = "1", ConfigurationKeys = null },
                new DescribeConfigsRequestData.DescribeConfigsResource { ResourceType = 4, ResourceName = "99", ConfigurationKeys = null },
            ],
        });

        Assert.Equal(3, described.Results.Count);
        var topic = described.Results[0];
        Assert.Equal((short)0, topic.ErrorCode);
        var configs = topic.Configs.ToDictionary(c => c.Name);
        Assert.Equal(["cleanup.policy", "min.insync.replicas", "retention.ms"], configs.Keys.Order(StringComparer.Ordinal));
        // The fixture's topic overrides min.insync.replicas (1): DYNAMIC_TOPIC_CONFIG, type INT.
        Assert.Equal(("1", (sbyte)1, (sbyte)3), (configs["min.insync.replicas"].Value, configs["min.insync.replicas"].ConfigSource, configs["min.insync.replicas"].ConfigType));
        Assert.Equal((sbyte)7, configs["cleanup.policy"].ConfigType);
        Assert.Equal((sbyte)5, configs["retention.ms"].ConfigType);
        Assert.All(configs.Values, c => Assert.False(string.IsNullOrEmpty(c.Documentation)));
        Assert.Equal("log.retention.ms", Assert.Single(configs["retention.ms"].Synonyms).Name);

        Assert.Equal((short)ErrorCode.InvalidRequest, described.Results[1].ErrorCode);
        Assert.Contains("Broker loggers are not served", described.Results[1].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal((short)ErrorCode.InvalidRequest, described.Results[2].ErrorCode);
        Assert.Contains("Unexpected broker id", described.Results[2].ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_validate_only_checks_each_resource_and_changes_nothing()
    {
        using var connection = await RawKafkaConnection.OpenAsync(Port);
        var topic = KafkaClusterFixture.Topic;

        var checkedAll = await AlterAsync(connection, 1,
            Resource(2, topic, "retention.ms", 0, "60000"),
            Resource(2, "no-such-topic-" + Guid.NewGuid().ToString("N")[..8], "retention.ms", 0, "60000"),
            Resource(4, string.Empty, "min.insync.replicas", 0, "2"),
            Resource(2, topic, "cleanup.policy", 2, "compact"));
        var outOfRange = await AlterAsync(connection, 0, Resource(2, topic, "retention.ms", 0, "-7"));
        var readOnly = await AlterAsync(connection, 0, Resource(2, topic, "compression.type", 0, "gzip"));
        var twice = await AlterAsync(connection, 1, Resource(2, topic, "retention.ms", 0, "1"), Resource(2, topic, "segment.ms", 0, "1"));

        // The topic named twice in one request is refused (once), as Kafka does.
        Assert.Equal(
            [(short)ErrorCode.InvalidRequest, (short)ErrorCode.UnknownTopicOrPartition, (short)ErrorCode.InvalidRequest],
            checkedAll.Responses.Select(r => r.ErrorCode));
        Assert.Contains("restart the silo", checkedAll.Responses[2].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal((short)ErrorCode.InvalidConfig, outOfRange.Responses.Single().ErrorCode);
        Assert.Contains("must be at least -1", outOfRange.Responses.Single().ErrorMessage, StringComparison.Ordinal);
        Assert.Equal((short)ErrorCode.InvalidConfig, readOnly.Responses.Single().ErrorCode);
        Assert.Contains("cannot be altered", readOnly.Responses.Single().ErrorMessage, StringComparison.Ordinal);
        Assert.Equal((short)ErrorCode.InvalidRequest, twice.Responses.Single().ErrorCode);

        var valid = await AlterAsync(connection, 1, Resource(2, topic, "retention.ms", 0, "60000"), Resource(2, topic + "-other", "cleanup.policy", 2, "compact"));
        Assert.Equal([(short)0, (short)ErrorCode.UnknownTopicOrPartition], valid.Responses.Select(r => r.ErrorCode));
        Assert.False((await fixture.Cluster.Controller.DescribeTopicsAsync([topic]))[0].Configs.ContainsKey("retention.ms"));
    }

    private static IncrementalAlterConfigsRequestData.AlterConfigsResource Resource(sbyte type, string name, string config, sbyte operation, string? value) => new()
    {
        ResourceType = type,
        ResourceName = name,
        Configs = [new IncrementalAlterConfigsRequestData.AlterableConfig { Name = config, ConfigOperation = operation, Value = value }],
    };

    private static Task<IncrementalAlterConfigsResponseData> AlterAsync(RawKafkaConnection connection, short version, params IncrementalAlterConfigsRequestData.AlterConfigsResource[] resources) =>
        AskAsync<IncrementalAlterConfigsRequestData, IncrementalAlterConfigsResponseData>(connection, ApiKeys.IncrementalAlterConfigs, version,
            new IncrementalAlterConfigsRequestData { ValidateOnly = true, Resources = [.. resources] });

    private static async Task<TResponse> AskAsync<TRequest, TResponse>(RawKafkaConnection connection, KafkaApi api, short version, TRequest request)
        where TRequest : IKafkaMessage<TRequest>
        where TResponse : IKafkaMessage<TResponse>
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(body);
        request.Write(ref writer, version);
        var id = await connection.SendRawBodyAsync(api, version, body.WrittenSpan.ToArray());
        return await connection.ReceiveAsync(id, api, version, (ref KafkaReader r, short v) => TResponse.Read(ref r, v));
    }
}
