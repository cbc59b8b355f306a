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

    [Fact]
    public void Each_offset_ages_from_its_last_commit_and_an_expiry_that_empties_the_group_clears_its_empty_since()
    {
        var record = new ConsumerGroupRecord
        {
            EmptySinceMs = 1_000,
            Offsets =
            [
                new CommittedOffset { Topic = "orders", Partition = 0, Offset = 10, CommitTimestampMs = 1_000 },
                new CommittedOffset { Topic = "orders", Partition = 1, Offset = 20, CommitTimestampMs = 5_000 },
            ],
        };

        // Past the retention from the group's emptiness and partition 0's commit, not from partition 1's commit.
        Assert.Equal(1, record.RemoveExpiredOffsets(groupIsEmpty: true, nowMs: 1_000 + RetentionMs + 1, RetentionMs));
        Assert.Equal([1], record.Offsets.Select(o => o.Partition));
        Assert.Equal(1_000, record.EmptySinceMs);
        Assert.Equal(0, record.RemoveExpiredOffsets(groupIsEmpty: false, nowMs: 5_000 + RetentionMs + 1, RetentionMs));
        Assert.Equal(1, record.RemoveExpiredOffsets(groupIsEmpty: true, nowMs: 5_000 + RetentionMs + 1, RetentionMs));
        Assert.Empty(record.Offsets);
        Assert.Equal(0, record.EmptySinceMs);
    }
}
