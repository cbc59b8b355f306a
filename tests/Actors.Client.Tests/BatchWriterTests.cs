using Actors.Log.Records;

namespace Actors.Client.Tests;

/// <summary>The producer's in-place batch encoder against the log's own builder and reader.</summary>
public class BatchWriterTests
{
    [Fact]
    public void A_sealed_batch_is_byte_for_byte_the_batch_the_log_builds()
    {
        var writer = new BatchWriter(64);
        var builder = new RecordBatchBuilder();
        var headers = new[] { new RecordHeader("trace", [1, 2, 3]), new RecordHeader("ü-empty", null) };
        for (var i = 0; i < 300; i++)
        {
            var key = i % 3 == 0 ? null : BitConverter.GetBytes(i);
            var value = i % 7 == 0 ? null : new byte[i % 50];
            var recordHeaders = i % 5 == 0 ? headers : null;
            writer.Add(1_700_000_000_000 + (i % 11), key, value, recordHeaders);
            builder.Add(1_700_000_000_000 + (i % 11), key, value, recordHeaders);
        }

        writer.ProducerId = builder.ProducerId = 42;
        writer.ProducerEpoch = builder.ProducerEpoch = 3;
        writer.BaseSequence = builder.BaseSequence = 1000;
        var sealedBatch = writer.Seal().ToArray();
        Assert.Equal(builder.Build(), sealedBatch);
        Assert.Equal(builder.SizeInBytes, writer.SizeInBytes);

        var batch = new RecordBatch(sealedBatch);
        Assert.True(batch.Crc == batch.ComputeCrc(), "the CRC written in place must match the batch's bytes");
        Assert.Equal(300, batch.RecordCount);
        var read = 0;
        foreach (var record in batch)
        {
            Assert.Equal(read++, record.Offset);
        }

        Assert.Equal(300, read);
    }

    [Fact]
    public void Sealing_again_with_new_sequence_numbers_leaves_the_bytes_handed_out_before_unchanged()
    {
        var writer = new BatchWriter(256);
        writer.Add(1, null, [1, 2, 3], null);
        writer.ProducerId = 7;
        writer.BaseSequence = 0;
        var first = writer.Seal();
        var before = first.ToArray();

        writer.ProducerId = 8;
        writer.BaseSequence = 0;
        var second = writer.Seal();

        Assert.Equal(before, first.ToArray());
        Assert.Equal(8, new RecordBatch(second.Span).ProducerId);
        Assert.Equal(7, new RecordBatch(first.Span).ProducerId);
    }
}
