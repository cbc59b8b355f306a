using Actors.Log.Records;

namespace Actors.Log;

/// <summary>Base of the errors a <see cref="PartitionLog"/> reports for appends and truncations.</summary>
public abstract class LogException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected LogException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>An appended batch is malformed: bad CRC, wrong magic, impossible lengths or record counts.
/// Kafka reports this as CORRUPT_MESSAGE. Nothing was written.</summary>
public sealed class CorruptRecordBatchException : LogException
{
    /// <summary>Creates the exception.</summary>
    public CorruptRecordBatchException(RecordBatchError error, int position, string message)
        : base(message)
    {
        Error = error;
        Position = position;
    }

    /// <summary>What is wrong.</summary>
    public RecordBatchError Error { get; }

    /// <summary>Byte position of the bad batch inside the appended buffer.</summary>
    public int Position { get; }
}

/// <summary>A batch is larger than <see cref="LogConfig.MaxMessageBytes"/> (<c>max.message.bytes</c>).
/// Kafka reports this as MESSAGE_TOO_LARGE. Nothing was written.</summary>
public sealed class RecordBatchTooLargeException : LogException
{
    /// <summary>Creates the exception.</summary>
    public RecordBatchTooLargeException(int size, int limit)
        : base($"A record batch of {size} bytes exceeds max.message.bytes (LogConfig.MaxMessageBytes) = {limit}; raise the setting or send smaller batches.")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>Size of the refused batch.</summary>
    public int Size { get; }

    /// <summary>The configured limit.</summary>
    public int Limit { get; }
}

/// <summary>A follower append whose offsets do not continue the log (they start below the log end offset or
/// go backwards). Nothing was written.</summary>
public sealed class OffsetOrderException : LogException
{
    /// <summary>Creates the exception.</summary>
    public OffsetOrderException(string message)
        : base(message)
    {
    }
}

/// <summary>A write to the log's files failed (disk full, I/O error). The log stays failed: every later
/// append, truncation or flush throws this again, with the first failure as <see cref="Exception.InnerException"/>,
/// while reads of what is stored keep working. Reopen the log to recover. Kafka reports KAFKA_STORAGE_ERROR.</summary>
public sealed class LogWriteFailedException : LogException
{
    /// <summary>Creates the exception.</summary>
    public LogWriteFailedException(string directory, Exception inner)
        : base($"The log in '{directory}' failed a write and accepts no more writes until it is reopened: {inner.Message}", inner)
    {
    }
}

/// <summary>A leader append carries a leader epoch older than the newest epoch the log already holds: a deposed
/// leader (or one restarted over a log that a newer leader wrote to) must not write under its old epoch. Kafka
/// fences such a leader; the broker reports FENCED_LEADER_EPOCH. Nothing was written.</summary>
public sealed class StaleLeaderEpochException : LogException
{
    /// <summary>Creates the exception.</summary>
    public StaleLeaderEpochException(string directory, int leaderEpoch, int latestEpoch)
        : base($"The log in '{directory}' refuses an append as leader of epoch {leaderEpoch}: it already holds leader epoch {latestEpoch}, so epoch {leaderEpoch} is no longer the current leader's.")
    {
        LeaderEpoch = leaderEpoch;
        LatestEpoch = latestEpoch;
    }

    /// <summary>The epoch the refused append claimed.</summary>
    public int LeaderEpoch { get; }

    /// <summary>The newest epoch in the log's epoch cache.</summary>
    public int LatestEpoch { get; }
}
