namespace Actors.Kafka.Tests;

/// <summary>Metadata request and response, versions 0 to 12: exact bytes, exact lengths, round trips.</summary>
public sealed class MetadataCodecTests
{
    private static readonly Guid TopicId = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");

    private static readonly MetadataResponse Sample = new()
    {
        ThrottleTimeMs = 5,
        Brokers = [new MetadataBroker(1, "b1", 9092, "r1")],
        ClusterId = "c1",
        ControllerId = 1,
        Topics =
        [
            new MetadataTopic
            {
                Name = "t",
                TopicId = TopicId,
                Partitions =
                [
                    new MetadataPartition { PartitionIndex = 0, LeaderId = 1, LeaderEpoch = 3, ReplicaNodes = [1, 2], IsrNodes = [1] },
                ],
                TopicAuthorizedOperations = 8,
            },
        ],
        ClusterAuthorizedOperations = 0,
    };

    [Fact]
    public void V0_response_bytes()
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, Sample, 0));
        var expected = Bytes.Hex(
            "00000001 00000001 0002 6231 00002384"
            + " 00000001 0000 0001 74 00000001 0000 00000000 00000001 00000002 00000001 00000002 00000001 00000001");
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void V9_response_bytes()
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, Sample, 9));
        var expected = Bytes.Hex(
            "00000005"
            + " 02 00000001 03 6231 00002384 03 7231 00"
            + " 03 6331 00000001"
            + " 02 0000 02 74 00 02 0000 00000000 00000001 00000003 03 00000001 00000002 02 00000001 01 00 00000008 00"
            + " 00000000 00");
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData(0, 59)]
    [InlineData(1, 68)]
    [InlineData(9, 74)]
    [InlineData(12, 86)]
    public void Response_has_exactly_the_fields_of_its_version(short version, int length)
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, Sample, version));
        Assert.Equal(length, bytes.Length);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => MetadataCodec.ReadResponse(ref r, version));
        AssertCarried(back, version);
    }

    [Fact]
    public void Response_round_trips_in_every_version()
    {
        for (short version = 0; version <= 12; version++)
        {
            var v = version;
            var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, Sample, v));
            var back = Bytes.Read(bytes, (ref KafkaReader r) => MetadataCodec.ReadResponse(ref r, v));
            AssertCarried(back, version);
            Assert.Equal(bytes, Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, back, v)));
        }
    }

    [Fact]
    public void Response_v12_carries_a_null_name_for_a_topic_asked_by_id()
    {
        var response = new MetadataResponse
        {
            Topics = [new MetadataTopic { ErrorCode = ErrorCode.UnknownTopicId, Name = null, TopicId = TopicId }],
        };
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, response, 12));
        var back = Bytes.Read(bytes, (ref KafkaReader r) => MetadataCodec.ReadResponse(ref r, 12));
        Assert.Null(back.Topics[0].Name);
        Assert.Equal(ErrorCode.UnknownTopicId, back.Topics[0].ErrorCode);
        Assert.Throws<ArgumentException>(() => Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, response, 11)));
    }

    [Theory]
    [InlineData(0, "00000001 0001 74")]
    [InlineData(1, "00000001 0001 74")]
    [InlineData(4, "00000001 0001 74 01")]
    [InlineData(8, "00000001 0001 74 01 00 01")]
    [InlineData(9, "02 02 74 00 01 00 01 00")]
    [InlineData(10, "02 00000000000000000000000000000000 02 74 00 01 00 01 00")]
    [InlineData(11, "02 00000000000000000000000000000000 02 74 00 01 01 00")]
    public void Request_bytes_for_one_topic_by_name(short version, string hex)
    {
        var request = new MetadataRequest { Topics = [new MetadataRequestTopic(Guid.Empty, "t")], IncludeTopicAuthorizedOperations = true };
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, request, version));
        Assert.Equal(Bytes.Hex(hex), bytes);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, version));
        Assert.Equal(request.Topics, back.Topics);
        Assert.Equal(version >= 8, back.IncludeTopicAuthorizedOperations);
        Assert.True(back.AllowAutoTopicCreation);
    }

    [Fact]
    public void Request_v12_asks_by_id_with_a_null_name()
    {
        var request = new MetadataRequest { Topics = [new MetadataRequestTopic(TopicId, null)], AllowAutoTopicCreation = false };
        var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, request, 12));
        Assert.Equal(Bytes.Hex("02 00112233445566778899AABBCCDDEEFF 00 00 00 00 00"), bytes);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 12));
        Assert.Equal(request.Topics, back.Topics);
        Assert.False(back.AllowAutoTopicCreation);
    }

    [Fact]
    public void Null_topic_list_means_every_topic_and_empty_means_none()
    {
        var all = new MetadataRequest { Topics = null };
        var none = new MetadataRequest { Topics = [] };
        Assert.Equal(Bytes.Hex("FFFFFFFF"), Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, all, 1)));
        Assert.Equal(Bytes.Hex("00000000"), Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, none, 1)));
        Assert.Equal(Bytes.Hex("00 01 00 00 00"), Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, all, 9)));
        Assert.Equal(Bytes.Hex("01 01 00 00 00"), Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, none, 9)));
        Assert.Null(Bytes.Read(Bytes.Hex("FFFFFFFF"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 1)).Topics);
        Assert.Empty(Bytes.Read(Bytes.Hex("00000000"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 1)).Topics!);
        Assert.Null(Bytes.Read(Bytes.Hex("00 01 00 00 00"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 9)).Topics);
    }

    [Fact]
    public void V0_request_empty_list_means_every_topic_and_cannot_say_none()
    {
        Assert.Equal(Bytes.Hex("00000000"), Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, new MetadataRequest(), 0)));
        Assert.Null(Bytes.Read(Bytes.Hex("00000000"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 0)).Topics);
        Bytes.ReadFails(Bytes.Hex("FFFFFFFF"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 0));
        Assert.Throws<ArgumentException>(() =>
            Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, new MetadataRequest { Topics = [] }, 0)));
        Assert.Throws<ArgumentException>(() =>
            Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, new MetadataRequest { AllowAutoTopicCreation = false }, 3)));
    }

    [Fact]
    public void Every_prefix_of_a_request_fails_cleanly_in_every_version()
    {
        for (short version = 0; version <= 12; version++)
        {
            var v = version;
            var request = new MetadataRequest
            {
                Topics = [new MetadataRequestTopic(v >= 10 ? TopicId : Guid.Empty, "orders"), new MetadataRequestTopic(Guid.Empty, "t")],
            };
            var payload = Bytes.Write((ref KafkaWriter w) =>
            {
                new RequestHeader((short)ApiKey.Metadata, v, 77, "client").Write(ref w, ApiKeys.Metadata.RequestHeaderVersion(v));
                MetadataCodec.WriteRequest(ref w, request, v);
            });
            var whole = Bytes.Read(payload, (ref KafkaReader r) =>
            {
                var header = RequestHeader.Read(ref r);
                return MetadataCodec.ReadRequest(ref r, header.ApiVersion);
            });
            Assert.Equal(request.Topics, whole.Topics);
            for (var length = 0; length < payload.Length; length++)
            {
                Bytes.ReadFails(payload[..length], (ref KafkaReader r) =>
                {
                    var header = RequestHeader.Read(ref r);
                    return MetadataCodec.ReadRequest(ref r, header.ApiVersion);
                });
            }
        }
    }

    [Fact]
    public void Every_prefix_of_a_response_fails_cleanly()
    {
        foreach (short version in new short[] { 0, 1, 9, 12 })
        {
            var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, Sample, version));
            for (var length = 0; length < bytes.Length; length++)
            {
                Bytes.ReadFails(bytes[..length], (ref KafkaReader r) => MetadataCodec.ReadResponse(ref r, version));
            }
        }
    }

    [Fact]
    public void Huge_topic_count_in_a_short_request_fails_without_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Bytes.ReadFails(Bytes.Hex("7FFFFFFF 0001 74 01"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 4));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Contains("topics", error.Message, StringComparison.Ordinal);
        Bytes.ReadFails(Bytes.Hex("FFFFFFFF0F 00"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 9));
    }

    [Fact]
    public void Null_topic_name_before_v10_is_refused()
    {
        var error = Bytes.ReadFails(Bytes.Hex("00000001 FFFF 01"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 4));
        Assert.Equal(4, error.Position);
    }

    [Fact]
    public void Unsupported_version_is_refused_as_unsupported()
    {
        var error = Bytes.ReadFails(Bytes.Hex("00"), (ref KafkaReader r) => MetadataCodec.ReadRequest(ref r, 13));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.ErrorCode);
    }

    private static void AssertCarried(MetadataResponse back, short version)
    {
        Assert.Equal(version >= 3 ? 5 : 0, back.ThrottleTimeMs);
        Assert.Equal(new MetadataBroker(1, "b1", 9092, version >= 1 ? "r1" : null), Assert.Single(back.Brokers));
        Assert.Equal(version >= 2 ? "c1" : null, back.ClusterId);
        Assert.Equal(version >= 1 ? 1 : -1, back.ControllerId);
        Assert.Equal(version is >= 8 and <= 10 ? 0 : int.MinValue, back.ClusterAuthorizedOperations);
        var topic = Assert.Single(back.Topics);
        Assert.Equal("t", topic.Name);
        Assert.Equal(version >= 10 ? TopicId : Guid.Empty, topic.TopicId);
        Assert.Equal(version >= 8 ? 8 : int.MinValue, topic.TopicAuthorizedOperations);
        var partition = Assert.Single(topic.Partitions);
        Assert.Equal(1, partition.LeaderId);
        Assert.Equal(version >= 7 ? 3 : -1, partition.LeaderEpoch);
        Assert.Equal([1, 2], partition.ReplicaNodes);
        Assert.Equal([1], partition.IsrNodes);
        Assert.Empty(partition.OfflineReplicas);
    }
}
