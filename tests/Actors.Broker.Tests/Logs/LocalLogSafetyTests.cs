using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Replication;
using Actors.Broker.Tests.Support;
using Actors.Broker.Topics;
using Actors.Log;
using Actors.Testing;

namespace Actors.Broker.Tests.Logs;

/// <summary>The silo's partition logs under faults: the epoch fence survives a restart (C5), the flush settings and
/// checkpoints bound what a killed silo loses and rescans (C6), a log is never reused for another topic or deleted
/// because a name is missing (C2), and retention stays below the high watermark (C12).</summary>
public sealed class LocalLogSafetyTests : IDisposable
{
    private static readonly TopicPartition Tp = new("orders", 0);
    private readonly TempDirectory dir = new("broker-logs");

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task A_restarted_silo_whose_log_holds_epoch_6_refuses_to_lead_or_append_at_epoch_5()
    {
        await using (var logs = await OpenAsync())
        {
            var p = logs.GetOrCreate(Tp, Config());
            Assert.True(p.ClaimRole(6));
            Assert.Equal(ErrorCode.None, p.AppendAsLeader(Batches.Values(0, 3), 6).Error);
        }

        // A restart forgets every role; the log still says epoch 6 was led, so the fence starts there.
        await using (var logs = await OpenAsync())
        {
            var p = logs.TryGet(Tp)!;
            Assert.Equal(6, p.RoleEpoch);
            Assert.False(p.ClaimRole(5), "a role of epoch 5 was granted over a log that holds epoch 6");

            var stale = State(leaderEpoch: 5);
            var refused = Assert.Throws<BrokerException>(() => new PartitionLeader(p, stale, "s1", Config(), 30_000, TimeProvider.System, _ => Task.FromResult(stale)));
            Assert.Equal(ErrorCode.FencedLeaderEpoch, refused.Code);
            Assert.Contains("5", refused.Message, StringComparison.Ordinal);
            Assert.Contains("6", refused.Message, StringComparison.Ordinal);

            var append = Assert.Throws<BrokerException>(() => p.AppendAsLeader(Batches.Values(3, 1), 5));
            Assert.Equal(ErrorCode.FencedLeaderEpoch, append.Code);
            Assert.Equal(3, p.LogEndOffset);

            // A newer epoch leads as before.
            var current = State(leaderEpoch: 7);
            var leader = new PartitionLeader(p, current, "s1", Config(), 30_000, TimeProvider.System, _ => Task.FromResult(current));
            Assert.Equal(ErrorCode.None, p.AppendAsLeader(Batches.Values(3, 1), 7).Error);
            leader.Resign();
        }
    }

    [Fact]
    public async Task Topic_flush_messages_and_the_broker_default_are_wired_into_the_log()
    {
        await using var logs = await OpenAsync();
        var p = logs.GetOrCreate(Tp, Config(new() { [TopicConfigNames.FlushMessages] = "1" }));
        Assert.True(p.ClaimRole(0));
        for (var i = 0; i < 3; i++)
        {
            var flushes = p.Log.FlushCount;
            p.AppendAsLeader(Batches.Values(i, 1), 0);
            Assert.Equal(flushes + 1, p.Log.FlushCount);
            Assert.Equal(p.LogEndOffset, p.Log.RecoveryPoint);
        }

        // The broker settings are the defaults a topic without overrides runs with.
        var defaults = new BrokerOptions { LogDirs = "unused", LogFlushIntervalMessages = 10, LogFlushIntervalMs = 2_000 };
        var config = LogManager.ToLogConfig(EffectiveTopicConfig.Resolve(null, defaults));
        Assert.Equal((10L, 2_000L), (config.FlushMessages, config.FlushMs));
        var kafkaDefault = LogManager.ToLogConfig(EffectiveTopicConfig.Resolve(null, new BrokerOptions { LogDirs = "unused" }));
        Assert.Equal((long.MaxValue, long.MaxValue), (kafkaDefault.FlushMessages, kafkaDefault.FlushMs));

        var bad = Assert.Throws<BrokerException>(() => TopicConfigValidator.ValidateConfig(TopicConfigNames.FlushMessages, "0"));
        Assert.Equal(ErrorCode.InvalidConfig, bad.Code);
        Assert.Contains("flush.messages", bad.Message, StringComparison.Ordinal);
        Assert.Contains("log.flush.interval.messages", Assert.Throws<ArgumentException>(() => new BrokerOptions { LogDirs = "x", LogFlushIntervalMessages = 0 }.Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoints_follow_rolls_so_a_killed_silo_rescans_only_the_tail()
    {
        var root = dir.File("silo");
        await using var logs = await OpenAsync(root, o => o.ReplicaHighWatermarkCheckpointIntervalMs = 50);
        var p = logs.GetOrCreate(Tp, Config(new() { [TopicConfigNames.SegmentBytes] = "4096" }));
        Assert.True(p.ClaimRole(0));
        var next = 0;
        while (p.Log.SegmentCount < 4)
        {
            p.AppendAsLeader(Batches.Values(next++, 1), 0);
        }

        p.AppendAsLeader(Batches.Values(next++, 1), 0);
        p.UpdateHighWatermark(p.LogEndOffset);
        var activeBase = p.Log.SegmentBaseOffsets[^1];
        var end = p.LogEndOffset;
        var recoveryFile = Path.Combine(p.Log.Directory, PartitionLog.RecoveryPointCheckpointFileName);
        var hwFile = Path.Combine(p.Log.Directory, LocalPartition.HighWatermarkFileName);

        // Nothing asks for a flush or a checkpoint: the rolls flush the closed segments and the checkpoint loop
        // writes both files.
        await Wait.UntilAsync(
            () => ReadOrEmpty(recoveryFile) == $"0\n{activeBase}\n" && ReadOrEmpty(hwFile).Trim() == $"{end}",
            TimeSpan.FromSeconds(10),
            $"the recovery-point checkpoint to reach the active segment's base {activeBase} and the high-watermark checkpoint {end}",
            () => $"recovery point file '{ReadOrEmpty(recoveryFile).Replace('\n', ' ')}', high watermark file '{ReadOrEmpty(hwFile)}'");

        // A kill now: the files as they are, no clean close, the last record torn.
        var crashed = dir.File("crashed");
        var crashedPartition = Path.Combine(crashed, LogManager.DirectoryName(Tp));
        Directory.CreateDirectory(crashedPartition);
        foreach (var file in Directory.EnumerateFiles(p.Log.Directory).Where(f => Path.GetFileName(f) != PartitionLog.LockFileName))
        {
            File.Copy(file, Path.Combine(crashedPartition, Path.GetFileName(file)));
        }

        using (var tail = new FileStream(Path.Combine(crashedPartition, $"{activeBase:D20}.log"), FileMode.Open, FileAccess.Write))
        {
            tail.SetLength(tail.Length - 3);
        }

        await using var restarted = await OpenAsync(crashed);
        var recovered = restarted.TryGet(Tp)!;
        Assert.False(recovered.Log.LastRecovery.CleanShutdown);
        Assert.Equal(1, recovered.Log.LastRecovery.SegmentsScanned);
        Assert.Equal(end - 1, recovered.LogEndOffset);
        Assert.Equal(end - 1, recovered.HighWatermark);
    }

    [Fact]
    public async Task Retention_keeps_every_segment_that_reaches_the_high_watermark()
    {
        await using var logs = await OpenAsync();
        var p = logs.GetOrCreate(Tp, Config(new() { [TopicConfigNames.SegmentBytes] = "4096", [TopicConfigNames.RetentionMs] = "60000" }));
        Assert.True(p.ClaimRole(0));
        var old = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        var next = 0;
        while (p.Log.SegmentCount < 5)
        {
            p.AppendAsLeader(Batches.Values(next++, 1, timestamp: old), 0);
        }

        var bases = p.Log.SegmentBaseOffsets.ToArray();

        // Every closed segment is past retention.ms, but nothing is committed yet.
        Assert.Equal(0, logs.RunRetention());
        Assert.Equal(0, p.LogStartOffset);

        // Committed up to inside the third segment: only the two segments wholly below the high watermark go.
        p.UpdateHighWatermark(bases[2] + 1);
        Assert.Equal(2, logs.RunRetention());
        Assert.Equal(bases[2], p.LogStartOffset);
    }

    [Fact]
    public async Task A_re_created_topic_starts_empty_and_the_old_log_is_moved_aside_not_reused()
    {
        var oldId = Guid.NewGuid();
        var newId = Guid.NewGuid();
        string root;
        await using (var logs = await OpenAsync())
        {
            root = logs.Directories[0];
            var p = logs.GetOrCreate(Tp, Config(), oldId);
            Assert.True(p.ClaimRole(3));
            p.AppendAsLeader(Batches.Values(0, 3), 3);
            Assert.Equal(oldId, PartitionMetadata.Read(p.Log.Directory).TopicId);
            Assert.Contains($"topic_id: {PartitionMetadata.FormatUuid(oldId)}", File.ReadAllText(Path.Combine(p.Log.Directory, PartitionMetadata.FileName)), StringComparison.Ordinal);

            // The same silo, still holding the old topic's log, is given the re-created topic.
            var fresh = logs.GetOrCreate(Tp, Config(), newId);
            Assert.Equal(0, fresh.LogEndOffset);
            Assert.Equal(-1, fresh.RoleEpoch);
            Assert.Equal(newId, PartitionMetadata.Read(fresh.Log.Directory).TopicId);
            fresh.ClaimRole(0);
            fresh.AppendAsLeader(Batches.Values(100, 2), 0);
        }

        var stray = Assert.Single(Directory.GetDirectories(root, LogManager.DirectoryName(Tp) + ".*" + LogManager.StraySuffix));
        using (var kept = PartitionLog.Open(stray, new LogConfig(), TimeProvider.System))
        {
            Assert.Equal(3, kept.LogEndOffset);
        }

        // After a restart the same check holds: the log recorded under the newer id is not reused for a third one.
        await using (var logs = await OpenAsync())
        {
            Assert.Equal(2, logs.TryGet(Tp)!.LogEndOffset);
            Assert.Equal(2, logs.GetOrCreate(Tp, Config(), newId).LogEndOffset);
            Assert.Equal(0, logs.GetOrCreate(Tp, Config(), Guid.NewGuid()).LogEndOffset);
        }

        Assert.Equal(2, Directory.GetDirectories(root, LogManager.DirectoryName(Tp) + ".*" + LogManager.StraySuffix).Length);
    }

    [Fact]
    public async Task Logs_of_another_cluster_are_refused_and_nothing_is_deleted()
    {
        string partitionDir;
        await using (var logs = await OpenAsync())
        {
            logs.RequireClusterId();
            Assert.Equal(ErrorCode.NotLeaderOrFollower, Assert.Throws<BrokerException>(() => logs.GetOrCreate(Tp, Config(), Guid.NewGuid())).Code);
            logs.VerifyClusterId("cluster-a");
            var p = logs.GetOrCreate(Tp, Config(), Guid.NewGuid());
            Assert.True(p.ClaimRole(0));
            p.AppendAsLeader(Batches.Values(0, 4), 0);
            partitionDir = p.Log.Directory;
            Assert.Equal("cluster-a", PartitionMetadata.Read(partitionDir).ClusterId);
        }

        var files = Directory.GetFiles(partitionDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        await using (var logs = await OpenAsync())
        {
            logs.RequireClusterId();
            var refused = Assert.Throws<InvalidOperationException>(() => logs.VerifyClusterId("cluster-b"));
            Assert.Contains("cluster id cluster-a", refused.Message, StringComparison.Ordinal);
            Assert.Contains("cluster id cluster-b", refused.Message, StringComparison.Ordinal);
            Assert.Contains("metadata store", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Nothing was deleted", refused.Message, StringComparison.Ordinal);
            Assert.Contains(partitionDir, refused.Message, StringComparison.Ordinal);

            // Still refusing to hand out (and so to truncate or overwrite) any log.
            Assert.Equal(ErrorCode.NotLeaderOrFollower, Assert.Throws<BrokerException>(() => logs.GetOrCreate(Tp, Config(), Guid.NewGuid())).Code);
            Assert.Equal(4, logs.TryGet(Tp)!.LogEndOffset);
        }

        Assert.Equal(files, Directory.GetFiles(partitionDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("cluster-a", PartitionMetadata.Read(partitionDir).ClusterId);
    }

    [Fact]
    public void Topic_ids_are_written_as_Kafka_prints_uuids()
    {
        var id = Guid.Parse("00010203-0405-0607-0809-0a0b0c0d0e0f");
        Assert.Equal("AAECAwQFBgcICQoLDA0ODw", PartitionMetadata.FormatUuid(id));
        Assert.Equal(id, PartitionMetadata.ParseUuid("AAECAwQFBgcICQoLDA0ODw", "test"));
        Assert.Throws<InvalidDataException>(() => PartitionMetadata.ParseUuid("not-a-uuid", "test"));
    }

    private static string ReadOrEmpty(string path) => File.Exists(path) ? File.ReadAllText(path) : string.Empty;

    private async Task<LogManager> OpenAsync(string? root = null, Action<BrokerOptions>? configure = null)
    {
        var options = new BrokerOptions { LogDirs = root ?? dir.File("logs") };
        configure?.Invoke(options);
        var logs = new LogManager(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        await logs.StartAsync(CancellationToken.None);
        return logs;
    }

    private static EffectiveTopicConfig Config(Dictionary<string, string>? overrides = null) =>
        EffectiveTopicConfig.Resolve(overrides, new BrokerOptions { LogDirs = "unused" });

    private static PartitionState State(int leaderEpoch) => new()
    {
        Topic = Tp.Topic, Partition = Tp.Partition, Replicas = ["s1"], Leader = "s1", Isr = ["s1"], LeaderEpoch = leaderEpoch, PartitionEpoch = leaderEpoch,
    };
}
