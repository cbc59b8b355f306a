using Actors.Broker;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Actors.Streams;

/// <summary>
/// Reads one partition for its pulling agent: from the provider group's committed offset (or
/// <see cref="ActorsStreamOptions.StartFrom"/> when there is none), and commits how far every subscriber of the queue
/// has come (<see cref="ActorsQueueCache.CommitOffset"/>), so a queue that moves to another silo, or a restarted
/// cluster, resumes where delivery stood: events are delivered at least once.
/// </summary>
internal sealed partial class ActorsQueueReceiver(
    PartitionLog log,
    ActorsStreamOptions options,
    Func<Task> ensureTopic,
    Func<ActorsQueueCache?> cache,
    ILogger logger) : IQueueAdapterReceiver
{
    private long position = -1;
    private long committed = -1;
    private DateTime nextCommit;

    public async Task Initialize(TimeSpan timeout)
    {
        await ensureTopic().ConfigureAwait(false);
        committed = await log.CommittedAsync().ConfigureAwait(false);
        position = committed >= 0
            ? committed
            : await log.ListOffsetAsync(options.StartFrom == "latest" ? ListOffsetsRequest.Latest : ListOffsetsRequest.Earliest).ConfigureAwait(false);
        LogStarted(logger, log.Topic, log.Partition, position, committed >= 0 ? "the committed offset" : options.StartFrom);
    }

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
    {
        if (position < 0)
        {
            await Initialize(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        var (events, next) = await log.ReadAsync(position, options.FetchMaxBytes).ConfigureAwait(false);
        if (maxCount >= 0 && events.Count > maxCount)
        {
            // The cache takes no more now: the rest is read again next time.
            events.RemoveRange(maxCount, events.Count - maxCount);
            next = events.Count > 0 ? events[^1].Offset + 1 : position;
        }

        position = next;
        await CommitAsync(force: false).ConfigureAwait(false);
        return [.. events];
    }

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => MessagesDeliveredAsync(messages, CancellationToken.None);

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken) => CommitAsync(force: false);

    public async Task Shutdown(TimeSpan timeout)
    {
        try
        {
            await CommitAsync(force: true).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogCommitFailed(logger, e, log.Topic, log.Partition);
        }
    }

    private async Task CommitAsync(bool force)
    {
        var offset = cache()?.CommitOffset ?? -1;
        if (offset <= committed || (!force && DateTime.UtcNow < nextCommit))
        {
            return;
        }

        nextCommit = DateTime.UtcNow + options.CommitInterval;
        await log.CommitAsync(offset).ConfigureAwait(false);
        committed = offset;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Orleans streams: reading {Topic}-{Partition} from offset {Offset} ({Source}).")]
    private static partial void LogStarted(ILogger logger, string topic, int partition, long offset, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orleans streams: committing the progress of {Topic}-{Partition} on shutdown failed; its events since the last commit are delivered again.")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string topic, int partition);
}
