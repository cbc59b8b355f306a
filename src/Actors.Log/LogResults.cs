using System.Buffers;

namespace Actors.Log;

/// <summary>What an append stored.</summary>
/// <param name="FirstOffset">Offset of the first record appended.</param>
/// <param name="LastOffset">Offset of the last record appended.</param>
/// <param name="MaxTimestamp">Largest batch max timestamp among the appended batches (after log-append-time stamping).</param>
/// <param name="OffsetOfMaxTimestamp">Last offset of the batch holding <paramref name="MaxTimestamp"/>.</param>
/// <param name="LogAppendTime">The broker time stamped on the batches with <c>message.timestamp.type=LogAppendTime</c>, else -1.</param>
/// <param name="LogStartOffset">Log start offset after the append.</param>
/// <param name="BatchCount">Batches appended.</param>
/// <param name="SizeInBytes">Bytes appended.</param>
public readonly record struct LogAppendInfo(
    long FirstOffset,
    long LastOffset,
    long MaxTimestamp,
    long OffsetOfMaxTimestamp,
    long LogAppendTime,
    long LogStartOffset,
    int BatchCount,
    int SizeInBytes);

/// <summary>Producer batches <see cref="PartitionLog.ValidateAsLeader"/> found whole and intact (size, magic, lengths,
/// record count, CRC), ready for <see cref="PartitionLog.AppendAsLeader(ValidatedBatches, int)"/>.</summary>
/// <remarks>Only the log makes one, so holding one means the bytes passed every check once.</remarks>
public readonly ref struct ValidatedBatches
{
    internal ValidatedBatches(ReadOnlySpan<byte> bytes, int batchCount, int maxMessageBytes)
    {
        Bytes = bytes;
        BatchCount = batchCount;
        MaxMessageBytes = maxMessageBytes;
    }

    /// <summary>The batches, as the producer sent them.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>How many batches.</summary>
    public int BatchCount { get; }

    /// <summary>The max.message.bytes they were checked against.</summary>
    public int MaxMessageBytes { get; }
}

/// <summary>Outcome of <see cref="PartitionLog.Read"/>.</summary>
public enum LogReadStatus
{
    /// <summary>The offset is in range; <see cref="LogReadResult.Records"/> holds zero or more whole batches.</summary>
    Ok,

    /// <summary>The offset is below the log start offset or above the log end offset (Kafka's OFFSET_OUT_OF_RANGE).</summary>
    OffsetOutOfRange,
}

/// <summary>Result of a read: whole record batches copied straight from the segment file, in a pooled buffer.</summary>
/// <remarks>Dispose the result to return the buffer to the pool; <see cref="Records"/> must not be used after.
/// The first batch may start before the requested offset (clients skip records below it), as in Kafka.</remarks>
public sealed class LogReadResult : IDisposable
{
    private byte[]? _buffer;

    internal LogReadResult(LogReadStatus status, byte[]? buffer, int length, long logStartOffset, long logEndOffset, long firstBatchOffset, long nextOffset)
    {
        Status = status;
        _buffer = buffer;
        Length = length;
        LogStartOffset = logStartOffset;
        LogEndOffset = logEndOffset;
        FirstBatchOffset = firstBatchOffset;
        NextOffset = nextOffset;
    }

    /// <summary>Ok, or OffsetOutOfRange.</summary>
    public LogReadStatus Status { get; }

    /// <summary>The batch bytes; empty when nothing is available or out of range.</summary>
    public ReadOnlyMemory<byte> Records => _buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_buffer, 0, Length);

    /// <summary>Byte count of <see cref="Records"/>.</summary>
    public int Length { get; }

    /// <summary>Log start offset when the read ran.</summary>
    public long LogStartOffset { get; }

    /// <summary>Log end offset when the read ran.</summary>
    public long LogEndOffset { get; }

    /// <summary>Base offset of the first batch returned, -1 when none.</summary>
    public long FirstBatchOffset { get; }

    /// <summary>Offset after the last batch returned (where the next read should start); the requested offset when none.</summary>
    public long NextOffset { get; }

    /// <summary>Hands the pooled buffer behind <see cref="Records"/> to the caller, who returns it to
    /// <see cref="ArrayPool{T}.Shared"/> when done (or leaves it to the garbage collector); null when there is none.
    /// The result no longer owns it: <see cref="Dispose"/> does nothing after this.</summary>
    public byte[]? DetachBuffer() => Interlocked.Exchange(ref _buffer, null);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>The first record at or after a timestamp.</summary>
/// <param name="Timestamp">The record's timestamp.</param>
/// <param name="Offset">The record's offset.</param>
public readonly record struct TimestampAndOffset(long Timestamp, long Offset);

/// <summary>What recovery did when the log was opened.</summary>
/// <param name="CleanShutdown">The clean shutdown marker was present, so only damaged indexes were rebuilt.</param>
/// <param name="SegmentsScanned">Segments whose batches were scanned and CRC-checked.</param>
/// <param name="BytesTruncated">Bytes cut from torn or corrupt tails (including deleted later segments).</param>
/// <param name="IndexesRebuilt">Segments whose index files were rebuilt.</param>
public readonly record struct LogRecoveryInfo(bool CleanShutdown, int SegmentsScanned, long BytesTruncated, int IndexesRebuilt);

/// <summary>One entry of the leader-epoch cache: the first offset written in <see cref="Epoch"/>.</summary>
/// <param name="Epoch">Leader epoch.</param>
/// <param name="StartOffset">First offset appended by the leader of that epoch.</param>
public readonly record struct EpochEntry(int Epoch, long StartOffset);
