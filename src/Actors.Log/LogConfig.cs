using Actors.Log.Records;

namespace Actors.Log;

/// <summary>Settings of one partition log. Defaults are Kafka's; each property names its Kafka topic
/// config (and broker default) in its summary.</summary>
/// <remarks>Immutable; a running log takes new settings as a whole new instance through
/// <see cref="PartitionLog.UpdateConfig"/>. Call <see cref="Validate"/> to get a message naming the bad setting.</remarks>
public sealed record LogConfig
{
    /// <summary>Smallest <see cref="SegmentBytes"/> allowed unless <see cref="AllowTinySegments"/> is set.</summary>
    public const int MinSegmentBytes = 1024 * 1024;

    /// <summary><c>segment.bytes</c> (<c>log.segment.bytes</c>): roll to a new segment when the active one
    /// would grow past this. Default 1 GiB; minimum 1 MiB.</summary>
    public int SegmentBytes { get; init; } = 1024 * 1024 * 1024;

    /// <summary><c>segment.ms</c> (<c>log.roll.ms</c>): roll when the active segment's first batch is this old.
    /// Default 7 days.</summary>
    public long SegmentMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary><c>retention.ms</c> (<c>log.retention.ms</c>): delete closed segments whose largest timestamp
    /// is older than this. Default 7 days; -1 keeps segments forever.</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary><c>retention.bytes</c> (<c>log.retention.bytes</c>): delete the oldest closed segments while the
    /// log is larger than this. Default -1, unlimited.</summary>
    public long RetentionBytes { get; init; } = -1;

    /// <summary><c>max.message.bytes</c> (<c>message.max.bytes</c>): largest record batch accepted. Default 1048588.</summary>
    public int MaxMessageBytes { get; init; } = 1048588;

    /// <summary><c>index.interval.bytes</c>: bytes between entries of the sparse offset index. Default 4096.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary><c>segment.index.bytes</c> (<c>log.index.size.max.bytes</c>): the most bytes each index of a segment
    /// may hold; a segment rolls when its index is full. Default 10 MiB.</summary>
    public int SegmentIndexBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary><c>flush.messages</c> (<c>log.flush.interval.messages</c>): fsync after this many records.
    /// Default <see cref="long.MaxValue"/>: leave it to the page cache and replication.</summary>
    public long FlushMessages { get; init; } = long.MaxValue;

    /// <summary><c>flush.ms</c> (<c>log.flush.interval.ms</c>): fsync when the last flush is this old (checked on
    /// append). Default <see cref="long.MaxValue"/>.</summary>
    public long FlushMs { get; init; } = long.MaxValue;

    /// <summary><c>message.timestamp.type</c>: with <see cref="TimestampType.LogAppendTime"/> the leader stamps
    /// every batch's max timestamp with its clock. Default <see cref="TimestampType.CreateTime"/>.</summary>
    public TimestampType MessageTimestampType { get; init; } = TimestampType.CreateTime;

    /// <summary>Lets <see cref="SegmentBytes"/> go below 1 MiB (tests only). Default false.</summary>
    public bool AllowTinySegments { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting and its allowed range.</summary>
    public void Validate()
    {
        int minSegment = AllowTinySegments ? RecordBatchLayout.HeaderSize : MinSegmentBytes;
        if (SegmentBytes < minSegment)
        {
            throw Bad($"segment.bytes (SegmentBytes) is {SegmentBytes}; it must be at least {minSegment}.");
        }

        if (SegmentMs < 1)
        {
            throw Bad($"segment.ms (SegmentMs) is {SegmentMs}; it must be at least 1.");
        }

        if (RetentionMs < -1)
        {
            throw Bad($"retention.ms (RetentionMs) is {RetentionMs}; it must be -1 (unlimited) or at least 0.");
        }

        if (RetentionBytes < -1)
        {
            throw Bad($"retention.bytes (RetentionBytes) is {RetentionBytes}; it must be -1 (unlimited) or at least 0.");
        }

        if (MaxMessageBytes < RecordBatchLayout.HeaderSize)
        {
            throw Bad($"max.message.bytes (MaxMessageBytes) is {MaxMessageBytes}; it must be at least {RecordBatchLayout.HeaderSize} (one empty batch).");
        }

        if (IndexIntervalBytes < 0)
        {
            throw Bad($"index.interval.bytes (IndexIntervalBytes) is {IndexIntervalBytes}; it must be at least 0.");
        }

        if (SegmentIndexBytes < 96)
        {
            throw Bad($"segment.index.bytes (SegmentIndexBytes) is {SegmentIndexBytes}; it must be at least 96.");
        }

        if (FlushMessages < 1)
        {
            throw Bad($"flush.messages (FlushMessages) is {FlushMessages}; it must be at least 1.");
        }

        if (FlushMs < 0)
        {
            throw Bad($"flush.ms (FlushMs) is {FlushMs}; it must be at least 0.");
        }

        if (MessageTimestampType is not (TimestampType.CreateTime or TimestampType.LogAppendTime))
        {
            throw Bad($"message.timestamp.type (MessageTimestampType) is {MessageTimestampType}; use CreateTime or LogAppendTime.");
        }
    }

    private static ArgumentException Bad(string message) => new(message);
}
