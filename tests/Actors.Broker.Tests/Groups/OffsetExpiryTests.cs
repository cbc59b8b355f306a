using Actors.Broker.Groups;

namespace Actors.Broker.Tests.Groups;

public class OffsetExpiryTests
{
    private const long RetentionMs = 7 * 24 * 60 * 60_000L;

    private static ConsumerGroupRecord Record(long emptySinceMs, int offsets = 1) => new()
    {
        EmptySinceMs = emptySinceMs,
        Offsets = Enumerable.Range(0, offsets).Select(p => new CommittedOffset { Topic = "orders", Partition = p, Offset = 10 }).ToList(),
    };

    [Fact]
    public void Offsets_of_a_group_empty_for_longer_than_the_retention_expire()
    {
        Assert.True(Record(emptySinceMs: 1_000).OffsetsExpired(groupIsEmpty: true, nowMs: 1_000 + RetentionMs + 1, RetentionMs));
    }

    [Fact]
    public void Offsets_are_kept_up_to_the_retention_while_members_remain_or_when_there_are_none()
    {
        Assert.False(Record(emptySinceMs: 1_000).OffsetsExpired(groupIsEmpty: true, nowMs: 1_000 + RetentionMs, RetentionMs));
        Assert.False(Record(emptySinceMs: 1_000).OffsetsExpired(groupIsEmpty: false, nowMs: 1_000 + RetentionMs + 1, RetentionMs));
        Assert.False(Record(emptySinceMs: 0).OffsetsExpired(groupIsEmpty: true, nowMs: long.MaxValue / 2, RetentionMs));
        Assert.False(Record(emptySinceMs: 1_000, offsets: 0).OffsetsExpired(groupIsEmpty: true, nowMs: 1_000 + RetentionMs + 1, RetentionMs));
    }
}
