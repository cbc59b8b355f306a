namespace Actors.Log.Records;

/// <summary>Field positions of a Kafka record batch, magic 2. All integers are big-endian.</summary>
public static class RecordBatchLayout
{
    /// <summary>int64 base offset.</summary>
    public const int BaseOffsetOffset = 0;

    /// <summary>int32 batch length: the bytes that follow this field.</summary>
    public const int BatchLengthOffset = 8;

    /// <summary>int32 partition leader epoch (not covered by the CRC).</summary>
    public const int PartitionLeaderEpochOffset = 12;

    /// <summary>int8 magic, 2 for this format.</summary>
    public const int MagicOffset = 16;

    /// <summary>uint32 CRC-32C of everything from <see cref="AttributesOffset"/> to the end of the batch.</summary>
    public const int CrcOffset = 17;

    /// <summary>int16 attributes.</summary>
    public const int AttributesOffset = 21;

    /// <summary>int32 offset delta of the last record.</summary>
    public const int LastOffsetDeltaOffset = 23;

    /// <summary>int64 timestamp of the first record.</summary>
    public const int BaseTimestampOffset = 27;

    /// <summary>int64 largest timestamp in the batch (or the log append time).</summary>
    public const int MaxTimestampOffset = 35;

    /// <summary>int64 producer id, -1 when none.</summary>
    public const int ProducerIdOffset = 43;

    /// <summary>int16 producer epoch, -1 when none.</summary>
    public const int ProducerEpochOffset = 51;

    /// <summary>int32 sequence of the first record, -1 when none.</summary>
    public const int BaseSequenceOffset = 53;

    /// <summary>int32 number of records.</summary>
    public const int RecordCountOffset = 57;

    /// <summary>Size of the batch header; records start here.</summary>
    public const int HeaderSize = 61;

    /// <summary>Size of the fields before and including the batch length (base offset + length).</summary>
    public const int LogOverhead = 12;

    /// <summary>The only magic value accepted.</summary>
    public const byte CurrentMagic = 2;

    /// <summary>Smallest legal batch length field (a batch with no records).</summary>
    public const int MinBatchLength = HeaderSize - LogOverhead;

    /// <summary>Value of the producer id, epoch and sequence fields when there is no producer state.</summary>
    public const int NoProducerValue = -1;
}

/// <summary>Compression codec in attribute bits 0-2.</summary>
public enum CompressionType : byte
{
    /// <summary>Records are stored as they are.</summary>
    None = 0,

    /// <summary>gzip.</summary>
    Gzip = 1,

    /// <summary>snappy (xerial framing).</summary>
    Snappy = 2,

    /// <summary>lz4 frame.</summary>
    Lz4 = 3,

    /// <summary>zstd.</summary>
    Zstd = 4,
}

/// <summary>Meaning of the batch timestamps (attribute bit 3).</summary>
public enum TimestampType : byte
{
    /// <summary>Timestamps were set by the producer.</summary>
    CreateTime = 0,

    /// <summary>The broker set the max timestamp to the time it appended the batch.</summary>
    LogAppendTime = 1,
}
