using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace Actors.Streams;

/// <summary>
/// The events of one queue (one partition) that its pulling agent holds for subscribers, in offset order, with one
/// cursor per subscription. Every record from <see cref="coveredFrom"/> up to the last received is here; a cursor at
/// an older offset (a subscriber resuming from an old token, or one that fell behind and whose events were evicted at
/// <see cref="ActorsStreamOptions.CacheSize"/>) reads its stream's events from the log until it reaches the cache,
/// so no position that the log retains is ever a cache miss.
/// </summary>
/// <remarks>Used by one pulling agent (one turn at a time); the lock guards against the cursor's log reads, which
/// leave the agent's turn only to wait.</remarks>
internal sealed partial class ActorsQueueCache(PartitionLog partitionLog, ActorsStreamOptions streamOptions, ILogger cacheLogger) : IQueueCache
{
    private readonly PartitionLog log = partitionLog;
    private readonly ActorsStreamOptions options = streamOptions;
    private readonly ILogger logger = cacheLogger;
    private const long Unset = -1;
    private readonly Lock gate = new();
    private readonly Queue<ActorsBatchContainer> all = new();
    private readonly Dictionary<StreamId, List<ActorsBatchContainer>> byStream = [];
    private readonly HashSet<Cursor> cursors = [];
    private long coveredFrom = Unset;
    private long end = Unset;

    /// <summary>The offset from which the partition's events can be forgotten: every live cursor is past it (or
    /// everything received, when no cursor waits); -1 before the first event.</summary>
    public long CommitOffset
    {
        get
        {
            lock (gate)
            {
                if (end == Unset)
                {
                    return Unset;
                }

                var min = end;
                foreach (var c in cursors)
                {
                    var p = c.Position == Unset ? coveredFrom : c.Position;
                    if (p >= coveredFrom && p < min)
                    {
                        min = p;
                    }
                }

                return min;
            }
        }
    }

    public int GetMaxAddCount() => Math.Max(1, options.CacheSize / 2);

    public void AddToCache(IList<IBatchContainer> messages)
    {
        lock (gate)
        {
            foreach (var m in messages)
            {
                if (m is not ActorsBatchContainer c || (end != Unset && c.Offset < end))
                {
                    continue;
                }

                all.Enqueue(c);
                if (!byStream.TryGetValue(c.StreamId, out var list))
                {
                    byStream[c.StreamId] = list = [];
                }

                list.Add(c);
                if (coveredFrom == Unset)
                {
                    coveredFrom = c.Offset;
                }

                end = c.Offset + 1;
            }
        }
    }

    /// <summary>Drops the events every cursor is past, and the oldest beyond CacheSize (their cursors then read the log).</summary>
    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        lock (gate)
        {
            var min = end;
            foreach (var c in cursors)
            {
                var p = c.Position == Unset ? coveredFrom : c.Position;
                if (p >= coveredFrom && p < min)
                {
                    min = p;
                }
            }

            var purged = new List<IBatchContainer>();
            while (all.TryPeek(out var oldest) && (oldest.Offset < min || all.Count > options.CacheSize))
            {
                all.Dequeue();
                var list = byStream[oldest.StreamId];
                list.RemoveAt(0);
                if (list.Count == 0)
                {
                    byStream.Remove(oldest.StreamId);
                }

                coveredFrom = oldest.Offset + 1;
                purged.Add(oldest);
            }

            purgedItems = purged;
            return purged.Count > 0;
        }
    }

    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        lock (gate)
        {
            // No token: the events that arrive from now on.
            var cursor = new Cursor(this, streamId, token is null ? end : Math.Max(0, token.SequenceNumber));
            cursors.Add(cursor);
            return cursor;
        }
    }

    public bool IsUnderPressure() => false;

    private sealed class Cursor(ActorsQueueCache cache, StreamId streamId, long position) : IQueueCacheCursor
    {
        private readonly Queue<ActorsBatchContainer> replayed = new();
        private ActorsBatchContainer? current;
        private long readFrom = Unset;

        /// <summary>The next offset this cursor looks at (Unset: the first event the cache gets).</summary>
        public long Position { get; private set; } = position;

        public IBatchContainer? GetCurrent(out Exception? exception)
        {
            exception = null;
            return current;
        }

        public bool MoveNext()
        {
            while (true)
            {
                long until;
                lock (cache.gate)
                {
                    if (replayed.TryDequeue(out var r))
                    {
                        return Deliver(r);
                    }

                    if (Position == Unset)
                    {
                        if (cache.coveredFrom == Unset)
                        {
                            return false;
                        }

                        Position = cache.coveredFrom;
                    }

                    if (cache.coveredFrom == Unset || Position >= cache.coveredFrom)
                    {
                        return FromCache();
                    }

                    until = cache.coveredFrom;
                }

                // Older than the cache: this stream's events come from the log, up to where the cache begins.
                ReadLog(until);
            }
        }

        public void Refresh(StreamSequenceToken token)
        {
        }

        public void RecordDeliveryFailure()
        {
        }

        public void Dispose()
        {
            lock (cache.gate)
            {
                cache.cursors.Remove(this);
            }
        }

        private bool Deliver(ActorsBatchContainer c)
        {
            current = c;
            Position = c.Offset + 1;
            return true;
        }

        private bool FromCache()
        {
            if (cache.byStream.TryGetValue(streamId, out var list))
            {
                var lo = 0;
                var hi = list.Count;
                while (lo < hi)
                {
                    var mid = (lo + hi) / 2;
                    if (list[mid].Offset < Position)
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid;
                    }
                }

                if (lo < list.Count)
                {
                    return Deliver(list[lo]);
                }
            }

            current = null;
            Position = Math.Max(Position, cache.end);
            return false;
        }

        /// <summary>Reads the log from the cursor's position until it finds events of its stream or reaches
        /// <paramref name="until"/>. The pulling agent's cursor API is synchronous, so the agent's turn waits for the
        /// reads (on the thread pool, off the agent's scheduler, which their answers do not need).</summary>
        private void ReadLog(long until)
        {
            var from = Math.Max(Position, readFrom);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (from < until)
            {
                List<ActorsBatchContainer> events;
                long next;
                try
                {
                    (events, next) = Task.Run(() => cache.log.ReadAsync(from, cache.options.FetchMaxBytes)).GetAwaiter().GetResult();
                }
                catch (Exception e) when (DateTime.UtcNow < deadline)
                {
                    LogReplayReadFailed(cache.logger, e, cache.log.Topic, cache.log.Partition, from);
                    Thread.Sleep(200);
                    continue;
                }
                catch (Exception e)
                {
                    throw new DataNotAvailableException($"Orleans stream {streamId}: reading {cache.log.Topic}-{cache.log.Partition} from offset {from} failed for 30 s ({e.Message}); the subscription restarts from the newest events.", e);
                }

                var found = false;
                foreach (var e in events)
                {
                    if (e.Offset >= until)
                    {
                        break;
                    }

                    if (e.StreamId.Equals(streamId))
                    {
                        replayed.Enqueue(e);
                        found = true;
                    }
                }

                if (next <= from)
                {
                    // Nothing more in the log below the cache (e.g. the records were compacted away).
                    from = until;
                    break;
                }

                from = Math.Min(next, until);
                if (found)
                {
                    break;
                }
            }

            lock (cache.gate)
            {
                readFrom = from;
                if (replayed.Count == 0)
                {
                    Position = Math.Max(Position, from);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orleans streams: reading {Topic}-{Partition} at offset {Offset} for a rewinding subscriber failed; retrying.")]
    private static partial void LogReplayReadFailed(ILogger logger, Exception exception, string topic, int partition, long offset);
}
