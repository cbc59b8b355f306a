using Actors.Broker.Partitioning;

namespace Actors.Broker.Tests.Errors;

public class ErrorCodeTests
{
    [Theory]
    [InlineData("UNKNOWN_SERVER_ERROR", -1, false)]
    [InlineData("NONE", 0, false)]
    [InlineData("OFFSET_OUT_OF_RANGE", 1, false)]
    [InlineData("CORRUPT_MESSAGE", 2, true)]
    [InlineData("UNKNOWN_TOPIC_OR_PARTITION", 3, true)]
    [InlineData("LEADER_NOT_AVAILABLE", 5, true)]
    [InlineData("NOT_LEADER_OR_FOLLOWER", 6, true)]
    [InlineData("REQUEST_TIMED_OUT", 7, true)]
    [InlineData("MESSAGE_TOO_LARGE", 10, false)]
    [InlineData("COORDINATOR_NOT_AVAILABLE", 15, true)]
    [InlineData("NOT_COORDINATOR", 16, true)]
    [InlineData("INVALID_TOPIC_EXCEPTION", 17, false)]
    [InlineData("NOT_ENOUGH_REPLICAS", 19, true)]
    [InlineData("NOT_ENOUGH_REPLICAS_AFTER_APPEND", 20, true)]
    [InlineData("INVALID_REQUIRED_ACKS", 21, false)]
    [InlineData("ILLEGAL_GENERATION", 22, false)]
    [InlineData("UNKNOWN_MEMBER_ID", 25, false)]
    [InlineData("REBALANCE_IN_PROGRESS", 27, false)]
    [InlineData("TOPIC_ALREADY_EXISTS", 36, false)]
    [InlineData("INVALID_PARTITIONS", 37, false)]
    [InlineData("INVALID_REPLICATION_FACTOR", 38, false)]
    [InlineData("INVALID_CONFIG", 40, false)]
    [InlineData("NOT_CONTROLLER", 41, true)]
    [InlineData("POLICY_VIOLATION", 44, false)]
    [InlineData("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, false)]
    [InlineData("DUPLICATE_SEQUENCE_NUMBER", 46, false)]
    [InlineData("INVALID_PRODUCER_EPOCH", 47, false)]
    [InlineData("KAFKA_STORAGE_ERROR", 56, true)]
    [InlineData("UNKNOWN_PRODUCER_ID", 59, false)]
    [InlineData("NON_EMPTY_GROUP", 68, false)]
    [InlineData("GROUP_ID_NOT_FOUND", 69, false)]
    [InlineData("FENCED_LEADER_EPOCH", 74, true)]
    [InlineData("UNKNOWN_LEADER_EPOCH", 75, true)]
    [InlineData("OFFSET_NOT_AVAILABLE", 78, true)]
    [InlineData("INVALID_UPDATE_VERSION", 95, false)]
    [InlineData("INELIGIBLE_REPLICA", 107, false)]
    [InlineData("FENCED_MEMBER_EPOCH", 110, false)]
    [InlineData("UNSUPPORTED_ASSIGNOR", 112, false)]
    [InlineData("STALE_MEMBER_EPOCH", 113, false)]
    public void Table_matches_kafkas_numbers_names_and_retriability(string kafkaName, short number, bool retriable)
    {
        Assert.True(ErrorCodes.TryParseKafkaName(kafkaName, out var code), $"{kafkaName} missing from the table");
        Assert.Equal(number, (short)code);
        Assert.Equal(kafkaName, code.KafkaName());
        Assert.Equal(retriable, code.IsRetriable());
    }

    [Fact]
    public void Table_is_dense_from_minus_one_to_the_last_code_with_unique_names_and_messages()
    {
        var all = ErrorCodes.All;
        Assert.Equal(Enumerable.Range(-1, all.Count).Select(i => (short)i), all.Select(i => (short)i.Code));
        Assert.Equal(all.Count, all.Select(i => i.KafkaName).Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, i => Assert.False(string.IsNullOrWhiteSpace(i.DefaultMessage)));
        Assert.All(all, i => Assert.NotEqual(i.Code.ToString(), i.DefaultMessage));
    }

    [Fact]
    public void Unknown_number_maps_to_unknown_server_error()
    {
        Assert.Equal(ErrorCode.UnknownServerError, ((ErrorCode)30000).Info().Code);
    }

    [Fact]
    public void BrokerException_carries_code_and_rebuilds_it_from_its_message()
    {
        var ex = new BrokerException(ErrorCode.NotEnoughReplicas, "Only 1 of 3 replicas in sync (min.insync.replicas=2).");
        Assert.Equal(ErrorCode.NotEnoughReplicas, ex.Code);
        Assert.True(ex.IsRetriable);
        Assert.StartsWith("[NOT_ENOUGH_REPLICAS] ", ex.Message, StringComparison.Ordinal);

        var rebuilt = new BrokerException(ex.Message);
        Assert.Equal(ErrorCode.NotEnoughReplicas, rebuilt.Code);
        Assert.Equal(ex.Message, rebuilt.Message);

        var withDefault = new BrokerException(ErrorCode.TopicAlreadyExists, null);
        Assert.Equal("[TOPIC_ALREADY_EXISTS] " + ErrorCode.TopicAlreadyExists.DefaultMessage(), withDefault.Message);
        Assert.Equal(ErrorCode.UnknownServerError, new BrokerException("no prefix here").Code);
    }

    [Fact]
    public void Grain_keys_round_trip()
    {
        var tp = new TopicPartition("orders.v1_x-y", 12);
        Assert.Equal("orders.v1_x-y/12", BrokerGrainKeys.Partition(tp));
        Assert.Equal("orders.v1_x-y/12@silo-2", BrokerGrainKeys.Replica(tp, "silo-2"));
        Assert.Equal(tp, BrokerGrainKeys.ParsePartition("orders.v1_x-y/12"));
        Assert.Equal(tp, BrokerGrainKeys.ParsePartition("orders.v1_x-y/12@silo-2"));
        Assert.Equal("silo-2", BrokerGrainKeys.ParseReplicaSilo("orders.v1_x-y/12@silo-2"));
        Assert.Throws<FormatException>(() => BrokerGrainKeys.ParsePartition("orders"));
        Assert.Throws<FormatException>(() => BrokerGrainKeys.ParsePartition("orders/x"));
        Assert.Equal("orders.v1_x-y-12", tp.ToString());
    }
}

public class Murmur2PartitionerTests
{
    // The vectors of Kafka's own murmur2 unit test (UtilsTest.testMurmur2).
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_kafka(string key, int expected)
    {
        Assert.Equal(expected, Murmur2Partitioner.Murmur2(System.Text.Encoding.ASCII.GetBytes(key)));
    }

    [Fact]
    public void Partition_is_positive_hash_modulo_count()
    {
        var key = System.Text.Encoding.ASCII.GetBytes("foobar");
        Assert.Equal((-790332482 & 0x7fffffff) % 6, Murmur2Partitioner.Partition(key, 6));
        Assert.Equal(0, Murmur2Partitioner.ToPositive(int.MinValue));
        Assert.Equal(0, Murmur2Partitioner.Partition([], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Murmur2Partitioner.Partition(key, 0));
    }
}
