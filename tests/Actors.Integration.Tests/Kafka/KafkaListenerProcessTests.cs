using System.Diagnostics;
using System.Text.Json;
using Actors.Integration.Tests.Processes;
using Actors.Kafka.Protocol;
using Xunit.Abstractions;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

namespace Actors.Integration.Tests.Kafka;

/// <summary>
/// The Kafka listener of real silo processes, spoken to on a plain socket (requests and answers through the protocol
/// layer) and by kcat, librdkafka's command-line client.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class KafkaListenerProcessTests(KafkaClusterFixture fixture, ITestOutputHelper output) : IClassFixture<KafkaClusterFixture>
{
    private int FirstKafkaPort => fixture.Cluster.Silos[0].KafkaPort;

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task ApiVersions_lists_Metadata_0_to_12_and_ApiVersions_0_to_3(short version)
    {
        using var connection = await RawKafkaConnection.OpenAsync(FirstKafkaPort);

        var response = await connection.ApiVersionsAsync(version);

        Assert.Equal(ErrorCode.None, response.ErrorCode);
        Assert.Contains(new ApiVersionRange((short)ApiKey.Metadata, 0, 12), response.ApiKeys);
        Assert.Contains(new ApiVersionRange((short)ApiKey.ApiVersions, 0, 3), response.ApiKeys);
    }

    [Fact]
    public async Task ApiVersions_of_a_version_not_served_is_answered_UNSUPPORTED_VERSION_as_version_0()
    {
        using var connection = await RawKafkaConnection.OpenAsync(FirstKafkaPort);

        // Version 99 is flexible by Kafka's rule: header v2; its body is not decoded, so an empty tag section will do.
        var id = await connection.SendRawBodyAsync(ApiKeys.ApiVersions, 99, [0]);
        var response = await connection.ReceiveAsync(id, ApiKeys.ApiVersions, 0, (ref KafkaReader r, short v) => ApiVersionsCodec.ReadResponse(ref r, v));

        Assert.Equal(ErrorCode.UnsupportedVersion, response.ErrorCode);
        Assert.Contains(new ApiVersionRange((short)ApiKey.ApiVersions, 0, 3), response.ApiKeys);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    public async Task Metadata_lists_the_three_brokers_and_the_topic_with_leader_replicas_and_isr_as_node_ids(short version)
    {
        var silos = await fixture.Cluster.Controller.GetMetadataAsync(new Actors.Broker.MetadataRequest { Topics = [KafkaClusterFixture.Topic] });
        var nodeIds = silos.KafkaBrokers.ToDictionary(b => b.SiloName, b => b.NodeId, StringComparer.Ordinal);
        var states = silos.Topics.Single().Description!.Partitions;
        using var connection = await RawKafkaConnection.OpenAsync(FirstKafkaPort);

        var response = await connection.MetadataAsync(
            new KafkaMetadataRequest { Topics = [new MetadataRequestTopic(Guid.Empty, KafkaClusterFixture.Topic)], AllowAutoTopicCreation = version < 4 },
            version);

        Assert.Equal(
            fixture.Cluster.Silos.Select(s => (nodeIds[s.Name], "127.0.0.1", s.KafkaPort)).Order().ToArray(),
            response.Brokers.Select(b => (b.NodeId, b.Host, b.Port)).Order().ToArray());
        Assert.Equal(response.Brokers.Min(b => b.NodeId), response.ControllerId);
        var topic = Assert.Single(response.Topics);
        Assert.Equal(ErrorCode.None, topic.ErrorCode);
        Assert.Equal(KafkaClusterFixture.Topic, topic.Name);
        Assert.Equal(version >= 10 ? silos.Topics.Single().Description!.TopicId : Guid.Empty, topic.TopicId);
        Assert.Equal(KafkaClusterFixture.Partitions, topic.Partitions.Count);
        foreach (var partition in topic.Partitions)
        {
            var state = states.Single(s => s.Partition == partition.PartitionIndex);
            Assert.Equal(ErrorCode.None, partition.ErrorCode);
            Assert.Equal(nodeIds[state.Leader!], partition.LeaderId);
            Assert.Equal(state.Replicas.Select(r => nodeIds[r]).ToArray(), partition.ReplicaNodes);
            Assert.Equal(state.Isr.Select(r => nodeIds[r]).ToArray(), partition.IsrNodes);
            Assert.Empty(partition.OfflineReplicas);
            Assert.Equal(version >= 7 ? state.LeaderEpoch : -1, partition.LeaderEpoch);
        }
    }

    [Fact]
    public async Task Metadata_v12_with_an_empty_topic_list_lists_brokers_only_and_a_missing_topic_is_not_created_when_not_allowed()
    {
        using var connection = await RawKafkaConnection.OpenAsync(FirstKafkaPort);

        var brokersOnly = await connection.MetadataAsync(new KafkaMetadataRequest { Topics = [] }, 12);
        var missing = await connection.MetadataAsync(
            new KafkaMetadataRequest { Topics = [new MetadataRequestTopic(Guid.Empty, "not-created")], AllowAutoTopicCreation = false }, 12);

        Assert.Equal(3, brokersOnly.Brokers.Count);
        Assert.Empty(brokersOnly.Topics);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, Assert.Single(missing.Topics).ErrorCode);
        Assert.DoesNotContain("not-created", await fixture.Cluster.Controller.ListTopicsAsync());
    }

    [Fact]
    public async Task A_garbage_frame_closes_only_its_own_connection()
    {
        using var bystander = await RawKafkaConnection.OpenAsync(FirstKafkaPort);
        using var victim = await RawKafkaConnection.OpenAsync(FirstKafkaPort);
        Assert.Equal(ErrorCode.None, (await bystander.ApiVersionsAsync(3)).ErrorCode);

        // Size 8, then an API key nobody serves (0x7F7F) and junk.
        await victim.SendBytesAsync([0, 0, 0, 8, 0x7F, 0x7F, 0xFF, 0xFF, 0xDE, 0xAD, 0xBE, 0xEF]);

        Assert.True(await victim.ClosedByBrokerAsync(), "the broker kept the connection that sent garbage open");
        Assert.Equal(ErrorCode.None, (await bystander.ApiVersionsAsync(3)).ErrorCode);
        using var newcomer = await RawKafkaConnection.OpenAsync(FirstKafkaPort);
        Assert.Equal(3, (await newcomer.MetadataAsync(new KafkaMetadataRequest { Topics = [] }, 12)).Brokers.Count);
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_the_order_sent()
    {
        using var connection = await RawKafkaConnection.OpenAsync(FirstKafkaPort);

        // A slow Metadata (a controller call), then a fast ApiVersions sent before the first answer is read: the
        // ApiVersions answer must wait its turn (each read checks the correlation id it expects).
        var metadataId = await connection.SendMetadataAsync(new KafkaMetadataRequest(), 12);
        var versionsId = await connection.SendApiVersionsAsync(3);

        var metadata = await connection.ReceiveMetadataAsync(metadataId, 12);
        var versions = await connection.ReceiveApiVersionsAsync(versionsId, 3);

        Assert.Contains(metadata.Topics, t => t.Name == KafkaClusterFixture.Topic);
        Assert.Equal(ErrorCode.None, versions.ErrorCode);
    }

    [KcatFact]
    public async Task Kcat_lists_three_brokers_and_the_topic_with_three_partitions()
    {
        var (exit, stdout, stderr) = await Clients.ClientProcess.RunAsync(KcatFactAttribute.Path!, ["-L", "-b", $"127.0.0.1:{FirstKafkaPort}", "-J", "-m", "15"], TimeSpan.FromSeconds(60));
        output.WriteLine(stdout);
        output.WriteLine(stderr);

        Assert.True(exit == 0, $"kcat exited with {exit}: {stderr}");
        using var json = JsonDocument.Parse(stdout);
        var brokers = json.RootElement.GetProperty("brokers").EnumerateArray()
            .Select(b => (b.GetProperty("id").GetInt32(), b.GetProperty("name").GetString())).Order().ToArray();
        Assert.Equal(
            fixture.Cluster.Silos.Select(s => s.KafkaPort).Order().Select(p => $"127.0.0.1:{p}").ToArray(),
            brokers.Select(b => b.Item2!).Order(StringComparer.Ordinal).ToArray());
        var topic = json.RootElement.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("topic").GetString() == KafkaClusterFixture.Topic);
        var partitions = topic.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(KafkaClusterFixture.Partitions, partitions.Length);
        var ids = brokers.Select(b => b.Item1).ToHashSet();
        Assert.All(partitions, p => Assert.Contains(p.GetProperty("leader").GetInt32(), ids));
        Assert.All(partitions, p => Assert.Equal(3, p.GetProperty("isrs").GetArrayLength()));
    }
}

/// <summary>A fact that needs kcat on the PATH; skipped, saying how to get it, when it is missing.</summary>
public sealed class KcatFactAttribute : FactAttribute
{
    public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "kcat"))
        .FirstOrDefault(File.Exists);

    public KcatFactAttribute()
    {
        if (Path is null)
        {
            Skip = "kcat is not installed: tests/install-tools.sh installs Debian's package (apt-get install kcat), which needs root.";
        }
    }
}
