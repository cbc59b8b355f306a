using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Producers;
using Actors.Broker.Tests.Support;
using Actors.Broker.Topics;
using Actors.Testing;

namespace Actors.Broker.Tests.Producers;

/// <summary>Producer-state snapshots: the table's own round trip, and a partition that rebuilds idempotence state from
/// the newest snapshot plus the batches after it, on real files.</summary>
public sealed class ProducerSnapshotTests : IDisposable
{
    private const long Pid = 7;
    private static readonly TopicPartition Tp = new("orders", 0);
    private readonly TempDirectory dir = new("broker-tests");

    public void Dispose() => dir.Dispose();

    [Fact]
    public void A_snapshot_round_trips_every_producer_with_its_epoch_and_last_five_batches()
    {
        var table = new ProducerStateTable();
        for (var i = 0; i < 7; i++)
        {
            table.OnAppended(Pid, 2, i * 10, (i * 10) + 9, 1000 + (i * 10), 1009 + (i * 10), 50 + i, 99);
        }

        table.OnAppended(8, 0, 0, 0, 2000, 2000, 60, 99);
        var copy = new ProducerStateTable();
        copy.LoadSnapshot(table.ToSnapshot());

        Assert.Equal(2, copy.Count);
        Assert.Equal(ProducerCheckOutcome.Duplicate, copy.Check(Pid, 2, 60, 69).Outcome);
        Assert.Equal(1060, copy.Check(Pid, 2, 60, 69).Original.FirstOffset);
        Assert.Equal(ProducerCheckOutcome.Duplicate, copy.Check(Pid, 2, 20, 29).Outcome);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, copy.Check(Pid, 2, 0, 9).Error);
        Assert.Equal(ProducerCheckOutcome.Append, copy.Check(Pid, 2, 70, 79).Outcome);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, copy.Check(Pid, 1, 70, 79).Error);
        Assert.Equal(ProducerCheckOutcome.Duplicate, copy.Check(8, 0, 0, 0).Outcome);
        Assert.Equal(table.ToSnapshot(), copy.ToSnapshot());
    }

    [Fact]
    public void A_damaged_snapshot_is_refused_and_leaves_the_table_empty()
    {
        var table = new ProducerStateTable();
        table.OnAppended(Pid, 0, 0, 4, 0, 4, 1, 1);
        var bytes = table.ToSnapshot();
        bytes[^3] ^= 0x10;
        var copy = new ProducerStateTable();
        Assert.Throws<InvalidDataException>(() => copy.LoadSnapshot(bytes));
        Assert.Throws<InvalidDataException>(() => copy.LoadSnapshot(bytes.AsSpan(0, 5)));
        Assert.Equal(0, copy.Count);
    }

    [Fact]
    public async Task A_reopened_partition_loads_the_snapshot_written_at_close_and_replays_only_later_batches()
    {
        await using (var logs = await OpenAsync())
        {
            var p = Partition(logs);
            Produce(p, 0, 10);
        }

        await using (var logs = await OpenAsync())
        {
            var p = Partition(logs);
            Assert.Single(Directory.GetFiles(p.Log.Directory, "*" + LocalPartition.ProducerSnapshotExtension));
            Assert.Equal(0, p.LastRebuildReplayedBatches);
            Assert.Equal(ProducerCheckOutcome.Duplicate, p.Producers.Check(Pid, 0, 9, 9).Outcome);

            // Three batches after the snapshot: a rebuild (a new leader) replays those three only.
            Produce(p, 10, 3);
            p.RebuildProducerState();
            Assert.Equal(3, p.LastRebuildReplayedBatches);
            Assert.Equal(ProducerCheckOutcome.Duplicate, p.Producers.Check(Pid, 0, 12, 12).Outcome);
        }
    }

    [Fact]
    public async Task Truncating_below_a_snapshot_deletes_it_and_the_cut_batches_are_no_longer_duplicates()
    {
        await using var logs = await OpenAsync();
        var p = Partition(logs);
        Produce(p, 0, 10);
        p.WriteProducerSnapshot();
        Produce(p, 10, 2);
        p.WriteProducerSnapshot();
        Assert.Equal(2, Directory.GetFiles(p.Log.Directory, "*" + LocalPartition.ProducerSnapshotExtension).Length);

        p.TruncateTo(8, leaderEpoch: 0);

        Assert.Empty(Directory.GetFiles(p.Log.Directory, "*" + LocalPartition.ProducerSnapshotExtension));
        Assert.Equal(8, p.LastRebuildReplayedBatches);
        Assert.Equal(ProducerCheckOutcome.Duplicate, p.Producers.Check(Pid, 0, 7, 7).Outcome);
        Assert.Equal(ProducerCheckOutcome.Append, p.Producers.Check(Pid, 0, 8, 8).Outcome);
    }

    [Fact]
    public async Task A_damaged_snapshot_file_falls_back_to_replaying_the_log()
    {
        string directory;
        await using (var logs = await OpenAsync())
        {
            var p = Partition(logs);
            Produce(p, 0, 6);
            directory = p.Log.Directory;
        }

        var snapshot = Assert.Single(Directory.GetFiles(directory, "*" + LocalPartition.ProducerSnapshotExtension));
        File.WriteAllBytes(snapshot, [1, 2, 3]);

        await using (var logs = await OpenAsync())
        {
            var p = Partition(logs);
            Assert.Equal(6, p.LastRebuildReplayedBatches);
            Assert.Equal(ProducerCheckOutcome.Duplicate, p.Producers.Check(Pid, 0, 5, 5).Outcome);
            Assert.False(File.Exists(snapshot), "the damaged snapshot was kept");
        }
    }

    private async Task<LogManager> OpenAsync()
    {
        var logs = new LogManager(Microsoft.Extensions.Options.Options.Create(new BrokerOptions { LogDirs = dir.Path }), TimeProvider.System);
        await logs.StartAsync(CancellationToken.None);
        return logs;
    }

    private static LocalPartition Partition(LogManager logs)
    {
        var p = logs.GetOrCreate(Tp, EffectiveTopicConfig.Resolve(null, new BrokerOptions { LogDirs = "unused" }));
        Assert.True(p.ClaimRole(0));
        return p;
    }

    /// <summary>One single-record batch per sequence from <paramref name="firstSequence"/>, each appended by the leader.</summary>
    private static void Produce(LocalPartition p, int firstSequence, int batches)
    {
        for (var s = firstSequence; s < firstSequence + batches; s++)
        {
            Assert.Equal(ErrorCode.None, p.AppendAsLeader(Batches.Values(s, 1, Pid, 0, s), 0).Error);
        }
    }
}
