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

    [Fact]
    public async Task A_fetch_from_a_current_activation_reads_only_the_stored_etag_and_a_stale_one_reads_the_record()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "events", NumPartitions = 1, ReplicationFactor = 1 });
        var group = c.Client.GetGrain<IConsumerGroupGrain>("one-activation");
        var tp = new TopicPartition("events", 0);
        var commit = await group.CommitOffsetsAsync(new OffsetCommitRequest { MemberId = string.Empty, MemberEpoch = -1, Offsets = [new TopicPartitionOffset(tp, 5, -1, null)] });
        Assert.Equal(ErrorCode.None, commit.Error);

        // Nobody else wrote since the activation's own commit: each fetch reads the stored ETag, never the record.
        var fullReads = c.Metadata.FullReads("group");
        var etagReads = c.Metadata.ETagReads("group");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(5, (await group.FetchOffsetsAsync([tp])).Single().Offset);
        }

        Assert.Equal(fullReads, c.Metadata.FullReads("group"));
        Assert.Equal(etagReads + 5, c.Metadata.ETagReads("group"));

        // Another activation's write changes the stored ETag: the next fetch reads the record and answers its offset.
        var storage = c.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("Default");
        var other = new GrainState<ConsumerGroupRecord>();
        await storage.ReadStateAsync("group", group.GetGrainId(), other);
        Assert.NotNull(other.State);
        other.State.Offsets.Single(o => o.Partition == 0).Offset = 9;
        await storage.WriteStateAsync("group", group.GetGrainId(), other);
        fullReads = c.Metadata.FullReads("group");
        Assert.Equal(9, (await group.FetchOffsetsAsync([tp])).Single().Offset);
        Assert.Equal(fullReads + 1, c.Metadata.FullReads("group"));
    }
}
