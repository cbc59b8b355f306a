using Microsoft.Extensions.Logging;
using BrokerException = Actors.Broker.BrokerException;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// Where the record APIs (Produce, Fetch, ListOffsets, OffsetForLeaderEpoch) send one partition's request: a client
/// connected to any silo is answered for the partitions this silo leads (by the cached cluster view) and told
/// NOT_LEADER_OR_FOLLOWER for the others, so the call into the partition grain stays within the leader's silo. A
/// view found wrong is refreshed in the background; a topic the view does not know is looked up fresh before it is
/// refused (a topic created a moment ago is served at once).
/// </summary>
/// <remarks>Thread-safe: the view does its own locking; the refresh throttle is one interlocked timestamp.</remarks>
internal sealed partial class RecordRouting(KafkaBroker broker)
{
    /// <summary>A fresh snapshot is not asked for more often than this per reason (the view runs one fetch at a time).</summary>
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>When the last background refresh started (<see cref="TimeProvider.GetTimestamp"/>), 0 before the first.</summary>
    private long lastRefresh;

    /// <summary>The snapshot to route by: the cached one, or a fresh one when it lacks a topic in
    /// <paramref name="topics"/> and is older than <see cref="MinRefreshInterval"/>.</summary>
    public async ValueTask<ClusterSnapshot> SnapshotAsync(IEnumerable<string> topics)
    {
        var snapshot = await broker.Cluster.GetAsync().ConfigureAwait(false);
        if (topics.Any(t => snapshot.Topic(t) is null) && broker.Time.GetElapsedTime(snapshot.FetchedAt) >= MinRefreshInterval)
        {
            snapshot = await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
        }

        return snapshot;
    }

    /// <summary>None when this silo leads the partition by <paramref name="snapshot"/>; otherwise the error to answer
    /// (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER). A partition led elsewhere also
    /// starts a background refresh of the view, so a stale cache heals.</summary>
    public ErrorCode Check(ClusterSnapshot snapshot, string topic, int partition)
    {
        var state = snapshot.Partition(topic, partition);
        if (state is null || state.Replicas.Length == 0)
        {
            return ErrorCode.UnknownTopicOrPartition;
        }

        if (state.Leader is null)
        {
            return ErrorCode.LeaderNotAvailable;
        }

        if (!string.Equals(state.Leader, broker.SiloName, StringComparison.Ordinal))
        {
            RefreshSoon(snapshot);
            return ErrorCode.NotLeaderOrFollower;
        }

        return ErrorCode.None;
    }

    /// <summary>Notes an answer from a partition grain: one saying another silo leads refreshes the view.</summary>
    public void Observe(ErrorCode error)
    {
        if (error is ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable or ErrorCode.FencedLeaderEpoch)
        {
            RefreshSoon(null);
        }
    }

    /// <summary>The per-partition error for a grain call that threw: the code of a <see cref="BrokerException"/>,
    /// REQUEST_TIMED_OUT for a timeout, else NOT_LEADER_OR_FOLLOWER (the silo is stopping or the grain moved: the client
    /// refreshes its metadata and retries). Never closes the connection.</summary>
    public ErrorCode Failed(Exception exception, string topic, int partition, string api)
    {
        var code = exception switch
        {
            BrokerException b => b.Code,
            TimeoutException or OperationCanceledException => ErrorCode.RequestTimedOut,
            _ => ErrorCode.NotLeaderOrFollower,
        };
        LogGrainCallFailed(broker.Logger, api, topic, partition, code, exception);
        Observe(code);
        return code;
    }

    private void RefreshSoon(ClusterSnapshot? seen)
    {
        var now = broker.Time.GetTimestamp();
        var last = Interlocked.Read(ref lastRefresh);
        if ((seen is not null && broker.Time.GetElapsedTime(seen.FetchedAt) < MinRefreshInterval)
            || (last != 0 && broker.Time.GetElapsedTime(last) < MinRefreshInterval)
            || Interlocked.CompareExchange(ref lastRefresh, now, last) != last)
        {
            return;
        }

        _ = RefreshAsync();
    }

    private async Task RefreshAsync()
    {
        try
        {
            await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogRefreshFailed(broker.Logger, e);
        }
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Debug, Message = "{Api} of {Topic}-{Partition}: the partition grain call failed, answered {Code}")]
    private static partial void LogGrainCallFailed(ILogger logger, string api, string topic, int partition, ErrorCode code, Exception exception);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Debug, Message = "Refreshing the cluster view failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
