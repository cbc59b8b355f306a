using System.Runtime.CompilerServices;

namespace Actors.Broker.Tests.Controller;

public class PartitionStateTests
{
    private static PartitionState State(int leaderEpoch, int partitionEpoch) => new()
    {
        Topic = "orders",
        Partition = 0,
        Replicas = ["a", "b", "c"],
        Leader = "a",
        LeaderEpoch = leaderEpoch,
        Isr = ["a", "b", "c"],
        PartitionEpoch = partitionEpoch,
    };

    [Fact]
    public void A_published_state_cannot_be_changed_only_replaced()
    {
        var settable = typeof(PartitionState).GetProperties()
            .Where(p => p.SetMethod is { IsPublic: true } set && !set.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)))
            .Select(p => p.Name)
            .ToArray();
        Assert.True(settable.Length == 0, $"PartitionState has public setters after construction: {string.Join(", ", settable)}");

        var state = State(3, 7);
        var deleted = state.With(null, 4, [], 8, replicas: []);
        Assert.Equal(["a", "b", "c"], state.Replicas);
        Assert.Empty(deleted.Replicas);
        Assert.Equal((4, 8, (string?)null), (deleted.LeaderEpoch, deleted.PartitionEpoch, deleted.Leader));
    }

    [Fact]
    public void Newer_means_a_higher_leader_epoch_or_the_same_leader_epoch_and_a_higher_partition_epoch()
    {
        Assert.True(State(3, 7).IsNewerThan(null));
        Assert.True(State(3, 8).IsNewerThan(State(3, 7)));
        Assert.True(State(4, 7).IsNewerThan(State(3, 9)));
        Assert.False(State(3, 7).IsNewerThan(State(3, 7)));
        Assert.False(State(3, 6).IsNewerThan(State(3, 7)));

        // A stale leader epoch never wins, whatever its partition epoch.
        Assert.False(State(2, 9).IsNewerThan(State(3, 7)));
    }
}
