using Actors.Broker;
using Actors.Client;
using ErrorCode = Actors.Broker.ErrorCode;

namespace Actors.Streams;

/// <summary>The reads and commits a stream queue makes on its partition, straight to the broker's grains: fetches,
/// list-offsets, and the provider's consumer group's committed offset.</summary>
internal sealed class PartitionLog(IGrainFactory grains, string topic, int partition, string groupId, EventRecords records, string fallbackNamespace)
{
    private readonly Actors.Broker.TopicPartition topicPartition = new(topic, partition);

    public string Topic => topic;

    public int Partition => partition;

    private IPartitionGrain Grain => field ??= grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(topicPartition));

    /// <summary>The records from <paramref name="from"/> (at most about <paramref name="maxBytes"/>), decoded, and the
    /// offset to read next. A position before the log's start moves to the start (those events were deleted by
    /// retention); one past its end moves to the end.</summary>
    public async Task<(List<ActorsBatchContainer> Events, long Next)> ReadAsync(long from, int maxBytes)
    {
        var answer = await Grain.FetchAsync(new FetchRequest { FetchOffset = from, MaxBytes = maxBytes, MaxWaitMs = 0, MinBytes = 0 }).ConfigureAwait(false);
        if (answer.Error == ErrorCode.OffsetOutOfRange)
        {
            var start = await ListOffsetAsync(ListOffsetsRequest.Earliest).ConfigureAwait(false);
            if (from < start)
            {
                return ([], start);
            }

            return ([], await ListOffsetAsync(ListOffsetsRequest.Latest).ConfigureAwait(false));
        }

        if (answer.Error != ErrorCode.None)
        {
            throw new BrokerException(answer.Error, $"Reading {topicPartition} at offset {from} for Orleans streams: {answer.ErrorMessage ?? answer.Error.DefaultMessage()}");
        }

        var fetched = FetchedRecords.Read(answer.Records.Span, from, out var next);
        var events = new List<ActorsBatchContainer>(fetched.Count);
        foreach (var r in fetched)
        {
            events.Add(records.ToContainer(r.Offset, r.Key, r.Value, r.Headers, fallbackNamespace));
        }

        return (events, Math.Max(next, events.Count > 0 ? events[^1].Offset + 1 : from));
    }

    /// <summary>The group's committed offset for the partition, or -1.</summary>
    public async Task<long> CommittedAsync()
    {
        var offsets = await grains.GetGrain<IConsumerGroupGrain>(groupId).FetchOffsetsAsync([topicPartition]).ConfigureAwait(false);
        return offsets.FirstOrDefault(o => o.TopicPartition == topicPartition) is { Offset: >= 0 } o ? o.Offset : -1;
    }

    public async Task CommitAsync(long offset)
    {
        var answer = await grains.GetGrain<IConsumerGroupGrain>(groupId).CommitOffsetsAsync(new OffsetCommitRequest
        {
            Offsets = [new Actors.Broker.TopicPartitionOffset(topicPartition, offset, -1, null)],
        }).ConfigureAwait(false);
        if (answer.Error != ErrorCode.None)
        {
            throw new BrokerException(answer.Error, $"Committing offset {offset} of {topicPartition} to group '{groupId}' for Orleans streams: {answer.ErrorMessage ?? answer.Error.DefaultMessage()}");
        }
    }

    public async Task<long> ListOffsetAsync(long timestamp)
    {
        var answer = await Grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = timestamp }).ConfigureAwait(false);
        if (answer.Error != ErrorCode.None)
        {
            throw new BrokerException(answer.Error, $"Listing offsets of {topicPartition} for Orleans streams: {answer.Error.DefaultMessage()}");
        }

        return answer.Offset;
    }
}
