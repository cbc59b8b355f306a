using Actors.Kafka.Listener.Apis;
using Actors.Log.Records;

namespace Actors.Kafka.Tests.Listener;

/// <summary>The pure parts of the record handlers: Kafka's produce record checks and the fetch size limits.</summary>
public class RecordApiTests
{
    private static byte[] Batch(int records, int valueBytes)
    {
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < records; i++)
        {
            builder.Add(1000 + i, null, new byte[valueBytes]);
        }

        return builder.Build();
    }

    [Fact]
    public void One_batch_of_magic_2_is_accepted()
    {
        Assert.Equal(ErrorCode.None, ProduceApi.CheckRecords(Batch(3, 10)).Error);
    }

    [Fact]
    public void No_records_is_INVALID_RECORD()
    {
        Assert.Equal(ErrorCode.InvalidRecord, ProduceApi.CheckRecords([]).Error);
    }

    [Fact]
    public void Two_batches_in_one_partition_are_INVALID_RECORD()
    {
        Assert.Equal(ErrorCode.InvalidRecord, ProduceApi.CheckRecords([.. Batch(1, 10), .. Batch(1, 10)]).Error);
    }

    [Fact]
    public void A_batch_of_magic_1_is_INVALID_RECORD_and_a_torn_header_CORRUPT_MESSAGE()
    {
        var batch = Batch(1, 10);
        batch[16] = 1;
        Assert.Equal(ErrorCode.InvalidRecord, ProduceApi.CheckRecords(batch).Error);
        Assert.Equal(ErrorCode.CorruptMessage, ProduceApi.CheckRecords(batch.AsSpan(0, 10)).Error);
    }

    [Fact]
    public void Trim_keeps_whole_batches_within_the_limit()
    {
        var first = Batch(1, 100);
        var second = Batch(1, 100);
        byte[] both = [.. first, .. second];

        Assert.Equal(both.Length, FetchApi.Trim(both, both.Length, atLeastOneBatch: false).Length);
        Assert.Equal(first.Length, FetchApi.Trim(both, both.Length - 1, atLeastOneBatch: false).Length);
        Assert.Equal(0, FetchApi.Trim(both, first.Length - 1, atLeastOneBatch: false).Length);
    }

    [Fact]
    public void Trim_returns_the_first_batch_whole_above_the_limit_when_asked()
    {
        var first = Batch(5, 1000);
        byte[] both = [.. first, .. Batch(1, 10)];

        Assert.Equal(first.Length, FetchApi.Trim(both, 10, atLeastOneBatch: true).Length);
    }

    [Fact]
    public void Trim_drops_a_partial_batch_at_the_end()
    {
        var first = Batch(1, 100);
        byte[] torn = [.. first, .. Batch(1, 100).AsSpan(0, 40)];

        Assert.Equal(first.Length, FetchApi.Trim(torn, int.MaxValue, atLeastOneBatch: true).Length);
    }
}
