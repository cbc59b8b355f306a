using Actors.Broker.Tests.Cluster;
using Actors.Broker.Tests.Support;

namespace Actors.Broker.Tests.Controller;

/// <summary>
/// The controller against its storage (review finding C1): interleaved reads never see a state that is not
/// persisted, a failed write never survives in memory, and a read never lands in the grain's state off the turn.
/// The controller's storage is gated by <see cref="ControllerStorageProbe"/>; its membership poll is slowed to a
/// minute so no periodic re-read hides what a change left in memory.
/// </summary>
[Collection(BrokerClusterCollection.Name)]
public class ControllerStorageTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static Task<BrokerCluster> StartAsync() => BrokerCluster.StartAsync(silos: 1, configure: o => o.ControllerMembershipPollMs = 60_000);

    private static AlterPartitionRequest SameIsr(PartitionState s) => new()
    {
        TopicPartition = s.TopicPartition,
        Leader = s.Leader!,
        LeaderEpoch = s.LeaderEpoch,
        PartitionEpoch = s.PartitionEpoch,
        NewIsr = s.Isr,
    };

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {Patience.TotalSeconds} s waiting for {what}.");
            throw;
        }
    }

    private static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {Patience.TotalSeconds} s waiting for {what}.");
        }
    }

    [Fact]
    public async Task Reads_during_a_blocked_write_see_the_persisted_state_not_the_one_being_written()
    {
        await using var c = await StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "gated", NumPartitions = 1, ReplicationFactor = 1 });
        var tp = new TopicPartition("gated", 0);
        var before = await c.Controller.GetPartitionStateAsync(tp);

        var gate = c.Metadata.GateNextWrite(afterStorage: false);
        var alter = c.Controller.AlterPartitionAsync(SameIsr(before));
        try
        {
            await Within(gate.Entered, "the ISR change to reach the controller's storage");
            var during = await c.Controller.GetPartitionStateAsync(tp);
            var described = (await c.Controller.DescribeTopicsAsync(["gated"]))[0].Partitions[0];
            Assert.True(during.PartitionEpoch == before.PartitionEpoch,
                $"A read while the write is held saw partition epoch {during.PartitionEpoch}, not yet persisted; persisted is {before.PartitionEpoch}.");
            Assert.Equal(before.PartitionEpoch, described.PartitionEpoch);
        }
        finally
        {
            gate.Release();
        }

        var after = await Within(alter, "the ISR change to complete once storage is released");
        Assert.Equal(before.PartitionEpoch + 1, after.PartitionEpoch);
        Assert.Equal(after.PartitionEpoch, (await c.Controller.GetPartitionStateAsync(tp)).PartitionEpoch);
    }

    [Fact]
    public async Task A_failed_write_is_dropped_and_the_next_change_is_decided_on_the_stored_state()
    {
        await using var c = await StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "failing", NumPartitions = 1, ReplicationFactor = 1 });
        var tp = new TopicPartition("failing", 0);
        var before = await c.Controller.GetPartitionStateAsync(tp);

        c.Metadata.FailNextWrite(new InvalidOperationException("injected: the grain storage is busy"));
        await Assert.ThrowsAnyAsync<Exception>(() => c.Controller.AlterPartitionAsync(SameIsr(before)));

        var seen = await c.Controller.GetPartitionStateAsync(tp);
        Assert.True(seen.PartitionEpoch == before.PartitionEpoch,
            $"After the failed write the controller answers partition epoch {seen.PartitionEpoch}; storage holds {before.PartitionEpoch}.");

        // The leader retries the same change (same partition epoch): decided on what is stored, it is accepted.
        var retried = await c.Controller.AlterPartitionAsync(SameIsr(before));
        Assert.Equal(before.PartitionEpoch + 1, retried.PartitionEpoch);
        var last = c.Metadata.History[^1].Partitions.Single(p => p.Topic == "failing");
        Assert.Equal(before.PartitionEpoch + 1, last.PartitionEpoch);
        MetadataHistoryChecker.AssertSound(c.Metadata.History);
    }

    [Fact]
    public async Task A_storage_read_of_a_lookup_that_lands_during_a_write_never_rolls_the_controller_back()
    {
        await using var c = await StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "race", NumPartitions = 2, ReplicationFactor = 1 });
        var p0 = await c.Controller.GetPartitionStateAsync(new TopicPartition("race", 0));

        // A lookup of an unknown topic reads storage (it may be a stale activation): the read gets the current
        // record and is held before the controller hears of it.
        var read = c.Metadata.GateNextRead(afterStorage: true);
        var lookup = c.Controller.DescribeTopicsAsync(["missing"]);
        await Within(read.Entered, "the unknown-topic lookup to read the controller's storage");

        // Meanwhile a change is written; it is held after storage took it.
        var write = c.Metadata.GateNextWrite(afterStorage: true);
        var alter = c.Controller.AlterPartitionAsync(SameIsr(p0));
        try
        {
            await Within(write.Entered, "the ISR change of partition 0 to be stored");

            // The old read lands, then the write returns.
            read.Release();
            var lookupError = await Assert.ThrowsAsync<BrokerException>(() => Within(lookup, "the lookup to answer"));
            Assert.Equal(ErrorCode.UnknownTopicOrPartition, lookupError.Code);
        }
        finally
        {
            read.Release();
            write.Release();
        }

        var changed = await Within(alter, "the ISR change of partition 0 to complete");
        Assert.Equal(p0.PartitionEpoch + 1, changed.PartitionEpoch);

        // The next change (another partition) must not write partition 0 back to what the lookup read.
        var p1 = await c.Controller.GetPartitionStateAsync(new TopicPartition("race", 1));
        await c.Controller.AlterPartitionAsync(SameIsr(p1));
        var last = c.Metadata.History[^1].Partitions.Single(p => p.Topic == "race" && p.Partition == 0);
        Assert.True(last.PartitionEpoch == changed.PartitionEpoch,
            $"The last persisted record has {last}; partition 0 was at partition epoch {changed.PartitionEpoch}.");
        Assert.Equal(changed.PartitionEpoch, (await c.Controller.GetPartitionStateAsync(new TopicPartition("race", 0))).PartitionEpoch);
        MetadataHistoryChecker.AssertSound(c.Metadata.History);
    }

    [Fact]
    public void The_history_checker_finds_an_epoch_regression_and_two_leaders_in_one_epoch()
    {
        var topic = Guid.NewGuid();
        PersistedControllerState Record(int seq, string leader, int leaderEpoch, int partitionEpoch) =>
            new(seq, $"e{seq}", [new PersistedPartition(topic, "t", 0, leader, leaderEpoch, partitionEpoch, [leader])]);

        Assert.Empty(MetadataHistoryChecker.Violations([Record(0, "a", 0, 0), Record(1, "b", 1, 1), Record(2, "b", 1, 2)]));
        var regression = MetadataHistoryChecker.Violations([Record(0, "a", 0, 0), Record(1, "b", 1, 1), Record(2, "a", 0, 2)]);
        Assert.Contains(regression, v => v.StartsWith("leader epoch went back", StringComparison.Ordinal));
        var split = MetadataHistoryChecker.Violations([Record(0, "a", 0, 0), Record(1, "b", 1, 1), Record(2, "c", 1, 2)]);
        Assert.Contains(split, v => v.StartsWith("two leaders in one leader epoch", StringComparison.Ordinal));

        // A topic re-created under the same name is a new partition: its epochs start again.
        var recreated = new PersistedControllerState(3, "e3", [new PersistedPartition(Guid.NewGuid(), "t", 0, "c", 0, 0, ["c"])]);
        Assert.Empty(MetadataHistoryChecker.Violations([Record(0, "a", 0, 0), Record(1, "b", 1, 1), recreated]));
    }
}
