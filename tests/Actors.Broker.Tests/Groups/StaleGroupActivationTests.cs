using Actors.Broker.Groups;
using Actors.Broker.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Actors.Broker.Tests.Groups;

/// <summary>Two activations of one group can live for a moment while cluster membership changes; a commit accepted by
/// one must be what a fetch from the other answers, or committed offsets go back (found by the chaos suite).</summary>
[Collection(BrokerClusterCollection.Name)]
public sealed class StaleGroupActivationTests
{
    [Fact]
    public async Task A_fetch_answers_the_offset_another_activation_committed_not_its_own_older_copy()
    {
        await using var c = await BrokerCluster.StartAsync();
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "events", NumPartitions = 1, ReplicationFactor = 1 });
        var group = c.Client.GetGrain<IConsumerGroupGrain>("two-activations");
        var tp = new TopicPartition("events", 0);
        var commit = await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = string.Empty, MemberEpoch = -1, Offsets = [new TopicPartitionOffset(tp, 5, -1, null)] });
        Assert.Equal(ErrorCode.None, commit.Error);
        Assert.Equal(5, (await group.FetchOffsetsAsync([tp])).Single().Offset);

        // The other activation commits 9: its write lands in the group's storage, as that activation's would.
        var storage = c.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("Default");
        var other = new GrainState<ConsumerGroupRecord>();
        await storage.ReadStateAsync("group", group.GetGrainId(), other);
        Assert.NotNull(other.State);
        Assert.Equal(5, other.State.Offsets.Single(o => o.Partition == 0).Offset);
        other.State.Offsets.Single(o => o.Partition == 0).Offset = 9;
        await storage.WriteStateAsync("group", group.GetGrainId(), other);

        Assert.Equal(9, (await group.FetchOffsetsAsync([tp])).Single().Offset);
        Assert.Equal(9, (await group.FetchOffsetsAsync(null)).Single().Offset);
    }
}
