using Actors.Log.Records;

namespace Actors.Client;

/// <summary>One record read from a fetch, copied out of the batch (a value: the consumer's queue holds them inline).</summary>
internal readonly record struct FetchedRecord(long Offset, long Timestamp, TimestampType TimestampType, byte[]? Key, byte[]? Value, (string Key, byte[]? Value)[] Headers, int LeaderEpoch);

/// <summary>Reads the records of fetched batches (compressed or not), skipping control batches and records before the
/// fetch offset.</summary>
internal static class FetchedRecords
{
    private static readonly (string Key, byte[]? Value)[] NoHeaders = [];

    public static List<FetchedRecord> Read(ReadOnlySpan<byte> records, long fromOffset) => Read(records, fromOffset, out _);

    /// <param name="records">Whole batches back to back (a trailing partial batch is ignored).</param>
    /// <param name="fromOffset">The fetch offset: earlier records are skipped.</param>
    /// <param name="nextOffset">The offset after the last whole batch (control batches included), or
    /// <paramref name="fromOffset"/> when there is none: where the next fetch starts.</param>
    public static List<FetchedRecord> Read(ReadOnlySpan<byte> records, long fromOffset, out long nextOffset)
    {
        var list = new List<FetchedRecord>();
        nextOffset = fromOffset;
        var reader = new RecordBatchReader(records);
        while (reader.TryReadNext(out var batch))
        {
            nextOffset = Math.Max(nextOffset, batch.NextOffset);
            if (batch.NextOffset <= fromOffset || batch.IsControl)
            {
                continue;
            }

            // An uncompressed batch is read where it lies; a compressed one from its decompressed copy.
            var plain = batch.Compression == CompressionType.None ? batch : new RecordBatch(RecordCodec.Uncompressed(batch.Bytes, batch.Compression));
            var type = plain.TimestampType;
            var appendTime = plain.MaxTimestamp;
            var epoch = plain.PartitionLeaderEpoch;
            foreach (var record in plain)
            {
                if (record.Offset < fromOffset)
                {
                    continue;
                }

                var headers = record.HeaderCount == 0 ? NoHeaders : new (string, byte[]?)[record.HeaderCount];
                var i = 0;
                foreach (var h in record.Headers)
                {
                    headers[i++] = (h.KeyString, h.ValueIsNull ? null : h.Value.ToArray());
                }

                list.Add(new FetchedRecord(
                    record.Offset,
                    type == TimestampType.LogAppendTime ? appendTime : record.Timestamp,
                    type,
                    record.KeyIsNull ? null : record.Key.ToArray(),
                    record.ValueIsNull ? null : record.Value.ToArray(),
                    headers,
                    epoch));
            }
        }

        return list;
    }
}
