using System.Collections.Concurrent;
using System.Globalization;
using Actors.Broker.Configuration;
using Actors.Broker.Topics;
using Actors.Log;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Logs;

/// <summary>
/// The silo's partition logs under <c>log.dirs</c> (comma-separated directories, as in Kafka): at start it opens
/// and recovers every <c>&lt;topic&gt;-&lt;partition&gt;</c> directory it finds; it creates logs for new replicas in the
/// directory holding the fewest; it runs retention every <c>log.retention.check.interval.ms</c>; and it hands
/// each <see cref="LocalPartition"/> to whichever grain holds the partition's role on this silo.
/// </summary>
/// <remarks>Thread-safe. The manager owns the logs: grains never dispose them. In a silo it takes part in the silo
/// lifecycle at <see cref="ServiceLifecycleStage.ApplicationServices"/>: the logs are open before the silo becomes
/// Active and are closed only after every grain has deactivated, so no grain reopens a log the manager already closed
/// (a restarted silo in the same process would then find it locked). Once closed it hands out no more logs.</remarks>
public sealed partial class LogManager : IHostedService, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<TopicPartition, LocalPartition> partitions = new();
    private readonly ConcurrentDictionary<TopicPartition, LogConfig> configs = new();

    // Logs opened at start carry the silo defaults until a role hands in the topic's own config; retention waits
    // for that, so a topic's longer retention.ms is never cut short by the defaults.
    private readonly ConcurrentDictionary<TopicPartition, bool> unconfirmed = new();
    private readonly object openLock = new();
    private readonly string[] directories;
    private CancellationTokenSource? retentionStop;
    private Task? retentionLoop;
    private Task? checkpointLoop;
    private int started;
    private bool closed;

    // Set by the silo: until VerifyClusterId ran, no log is handed out, so a silo started over another cluster's logs
    // (or over a replaced metadata store) changes nothing before it refuses to start.
    private bool clusterIdRequired;
    private string? clusterId;

    public LogManager(IOptions<BrokerOptions> options, TimeProvider time, ILogger<LogManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.options.Validate();
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        directories = this.options.LogDirs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Path.GetFullPath).ToArray();
    }

    /// <summary>The partitions with a log on this silo.</summary>
    public IReadOnlyCollection<TopicPartition> Partitions => partitions.Keys.ToArray();

    /// <summary>The log directories.</summary>
    public IReadOnlyList<string> Directories => directories;

    /// <summary>The cluster id this silo's logs belong to, once <see cref="VerifyClusterId"/> accepted it.</summary>
    public string? ClusterId => Volatile.Read(ref clusterId);

    /// <summary>Suffix of a partition directory moved aside instead of served or deleted:
    /// <c>&lt;topic&gt;-&lt;partition&gt;.&lt;id&gt;-stray</c>, as Kafka names the logs it finds stray. Never opened again
    /// by the silo; an operator inspects it and deletes it, or renames it back.</summary>
    public const string StraySuffix = "-stray";

    /// <summary>Makes <see cref="GetOrCreate"/> refuse until <see cref="VerifyClusterId"/> ran (the silo does this at
    /// construction: nothing may write a log before its cluster id is checked).</summary>
    public void RequireClusterId() => clusterIdRequired = true;

    /// <summary>Checks that every partition directory that records a cluster id records <paramref name="expected"/>
    /// (the metadata store's), then records it in those that have none. On a mismatch nothing is changed or deleted
    /// and an exception says what to check.</summary>
    /// <exception cref="InvalidOperationException">A directory belongs to another cluster.</exception>
    public void VerifyClusterId(string expected)
    {
        ArgumentException.ThrowIfNullOrEmpty(expected);
        lock (openLock)
        {
            var foreign = partitions.Values
                .Where(p => p.Metadata.ClusterId is { } id && !string.Equals(id, expected, StringComparison.Ordinal))
                .ToArray();
            if (foreign.Length > 0)
            {
                var found = string.Join(", ", foreign.Select(p => p.Metadata.ClusterId).Distinct(StringComparer.Ordinal));
                var examples = string.Join(", ", foreign.Take(5).Select(p => p.Log.Directory));
                throw new InvalidOperationException(
                    $"The logs under log.dirs ({string.Join(", ", directories)}) belong to cluster id {found}, but the metadata store " +
                    $"(grain storage \"Default\") holds cluster id {expected}; {foreign.Length} partition directories differ, e.g. {examples}. " +
                    "Check that this silo uses the cluster's shared metadata store (the grain storage database path or connection) " +
                    "and the right log.dirs; a fresh or replaced metadata store would forget every topic. Nothing was deleted. " +
                    $"To start this silo empty on purpose, move those directories away (their {PartitionMetadata.FileName} names the cluster).");
            }

            Volatile.Write(ref clusterId, expected);
            foreach (var p in partitions.Values.Where(p => p.Metadata.ClusterId is null))
            {
                p.WriteMetadata(p.Metadata with { ClusterId = expected });
            }
        }
    }

    /// <summary>Closes the partition's log and moves its directory aside (<see cref="StraySuffix"/>), keeping every
    /// file. Returns the new directory, or null when this silo has no log of <paramref name="tp"/>.</summary>
    public string? MoveAside(TopicPartition tp)
    {
        lock (openLock)
        {
            if (!partitions.TryRemove(tp, out var p))
            {
                return null;
            }

            configs.TryRemove(tp, out _);
            unconfirmed.TryRemove(tp, out _);
            var target = StrayDirectory(p);
            p.CloseAndMoveTo(target);
            return target;
        }
    }

    /// <summary>Opens (and recovers) every partition found under log.dirs, then starts the retention loop. Idempotent.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started, 1) == 1)
        {
            return Task.CompletedTask;
        }

        foreach (var dir in directories)
        {
            Directory.CreateDirectory(dir);
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                if (TryParseDirectoryName(Path.GetFileName(sub), out var tp))
                {
                    var config = ToLogConfig(EffectiveTopicConfig.Resolve(null, options));
                    var log = PartitionLog.Open(sub, config, time, logger);
                    configs[tp] = config;
                    unconfirmed[tp] = true;
                    partitions[tp] = new LocalPartition(tp, log, time);
                    LogOpened(logger, tp.ToString(), log.LogStartOffset, log.LogEndOffset, log.LastRecovery.CleanShutdown);
                }
            }
        }

        retentionStop = new CancellationTokenSource();
        retentionLoop = RunRetentionLoopAsync(retentionStop.Token);
        checkpointLoop = RunCheckpointLoopAsync(retentionStop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <summary>Opens the logs before the silo becomes Active; closes them after the grains have deactivated.</summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(LogManager), ServiceLifecycleStage.ApplicationServices, StartAsync, StopAsync);
    }

    /// <summary>The partition's local copy, or null when this silo has none.</summary>
    public LocalPartition? TryGet(TopicPartition tp) => partitions.TryGetValue(tp, out var p) ? p : null;

    /// <summary>The partition's local copy, created (or given <paramref name="config"/> in place when its settings changed).</summary>
    /// <param name="tp">The partition.</param>
    /// <param name="config">The topic's effective config.</param>
    /// <param name="topicId">The controller's id of the topic (<see cref="Guid.Empty"/> when unknown). A local log
    /// recorded under another id is a deleted topic's leftover: it is moved aside (never reused, never deleted) and
    /// the partition starts empty. The id is recorded in the partition directory.</param>
    public LocalPartition GetOrCreate(TopicPartition tp, EffectiveTopicConfig config, Guid topicId = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        TopicNameValidator.Validate(tp.Topic);
        var logConfig = ToLogConfig(config);
        lock (openLock)
        {
            if (closed)
            {
                throw new BrokerException(ErrorCode.NotLeaderOrFollower, $"{tp}: this silo is stopping and has closed its logs; retry on the current leader.");
            }

            if (clusterIdRequired && clusterId is null)
            {
                throw new BrokerException(ErrorCode.NotLeaderOrFollower, $"{tp}: this silo is still checking that its logs belong to this cluster; retry shortly.");
            }

            if (partitions.TryGetValue(tp, out var existing)
                && topicId != Guid.Empty
                && existing.Metadata.TopicId != Guid.Empty
                && existing.Metadata.TopicId != topicId)
            {
                // A topic of this name was deleted and re-created while this copy was away (or its deletion failed
                // here): the old records must not show up in the new topic.
                partitions.TryRemove(tp, out _);
                configs.TryRemove(tp, out _);
                var target = StrayDirectory(existing);
                existing.CloseAndMoveTo(target);
                LogStaleTopicId(logger, tp.ToString(), PartitionMetadata.FormatUuid(existing.Metadata.TopicId), PartitionMetadata.FormatUuid(topicId), target);
                existing = null;
            }

            unconfirmed.TryRemove(tp, out _);
            if (existing is not null)
            {
                if (configs.TryGetValue(tp, out var current) && current != logConfig)
                {
                    existing.UpdateConfig(logConfig);
                    configs[tp] = logConfig;
                }

                RecordIdentity(existing, topicId);
                return existing;
            }

            var directory = Path.Combine(LeastLoadedDirectory(), DirectoryName(tp));
            var log = PartitionLog.Open(directory, logConfig, time, logger);
            var partition = new LocalPartition(tp, log, time);
            configs[tp] = logConfig;
            partitions[tp] = partition;
            RecordIdentity(partition, topicId);
            LogCreated(logger, tp.ToString(), directory);
            return partition;
        }
    }

    /// <summary>Gives this silo's copy of the partition the topic's new settings at once (a topic config change),
    /// whatever role this silo holds; nothing when this silo has no copy. Returns true when a log took them.</summary>
    public bool ApplyConfig(TopicPartition tp, EffectiveTopicConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var logConfig = ToLogConfig(config);
        lock (openLock)
        {
            if (closed || !partitions.TryGetValue(tp, out var existing))
            {
                return false;
            }

            unconfirmed.TryRemove(tp, out _);
            if (!configs.TryGetValue(tp, out var current) || current != logConfig)
            {
                existing.UpdateConfig(logConfig);
                configs[tp] = logConfig;
                LogConfigApplied(logger, tp.ToString(), logConfig.RetentionMs, logConfig.RetentionBytes, logConfig.SegmentBytes, logConfig.MaxMessageBytes);
            }

            return true;
        }
    }

    /// <summary>Closes and deletes the partition's files (topic deletion). Returns false when there were none.</summary>
    public bool Delete(TopicPartition tp)
    {
        lock (openLock)
        {
            if (!partitions.TryRemove(tp, out var p))
            {
                return false;
            }

            configs.TryRemove(tp, out _);
            unconfirmed.TryRemove(tp, out _);
            p.DeleteFiles();
            LogDeleted(logger, tp.ToString());
            return true;
        }
    }

    /// <summary>Applies retention to every log whose topic config a role has confirmed (see
    /// <see cref="GetOrCreate"/>), forgets expired idempotent producers and snapshots producer state (so a restart
    /// replays at most one retention interval of batches); returns the number of segments deleted.</summary>
    public int RunRetention()
    {
        var deleted = 0;
        foreach (var (tp, p) in partitions)
        {
            try
            {
                if (!unconfirmed.ContainsKey(tp))
                {
                    // Only segments wholly below the high watermark may go (Kafka's rule): never a record that is
                    // not yet committed.
                    deleted += p.Log.DeleteExpiredSegments(p.HighWatermark);
                }

                p.RemoveExpiredProducers(options.ProducerIdExpirationMs);
                p.WriteProducerSnapshot();
                p.CheckpointHighWatermark();
            }
            catch (Exception e) when (e is LogException or IOException or ObjectDisposedException)
            {
                LogRetentionFailed(logger, p.TopicPartition.ToString(), e);
            }
        }

        return deleted;
    }

    /// <summary>Every <c>replica.high.watermark.checkpoint.interval.ms</c>: writes each partition's high watermark and
    /// recovery point checkpoints, and flushes logs whose flush.ms elapsed. The recovery point moves when segments
    /// roll (they are flushed then) and with the flush policy, so a silo killed now rescans only the tail after it.</summary>
    /// <returns>How many recovery-point files were rewritten.</returns>
    public async Task<int> CheckpointAsync()
    {
        var written = 0;
        foreach (var p in partitions.Values)
        {
            try
            {
                await p.Log.FlushIfDueAsync().ConfigureAwait(false);
                p.CheckpointHighWatermark();
                if (p.Log.CheckpointRecoveryPoint())
                {
                    written++;
                }
            }
            catch (Exception e) when (e is LogException or IOException or ObjectDisposedException or UnauthorizedAccessException)
            {
                LogCheckpointFailed(logger, p.TopicPartition.ToString(), e);
            }
        }

        return written;
    }

    public async ValueTask DisposeAsync()
    {
        var stop = Interlocked.Exchange(ref retentionStop, null);
        if (stop is not null)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var task in new[] { retentionLoop, checkpointLoop })
            {
                try
                {
                    if (task is not null)
                    {
                        await task.ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Stopping.
                }
            }

            stop.Dispose();
        }

        lock (openLock)
        {
            closed = true;
            foreach (var p in partitions.Values)
            {
                p.Dispose();
            }

            partitions.Clear();
        }
    }

    /// <summary>"orders-3" for partition 3 of "orders" (Kafka's directory naming).</summary>
    public static string DirectoryName(TopicPartition tp) => $"{tp.Topic}-{tp.Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses a partition directory name; false for anything else (e.g. Kafka's ".delete" directories).</summary>
    public static bool TryParseDirectoryName(string name, out TopicPartition tp)
    {
        tp = default;
        var dash = name.LastIndexOf('-');
        if (dash <= 0
            || !int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || TopicNameValidator.Check(name[..dash]) is not null)
        {
            return false;
        }

        tp = new TopicPartition(name[..dash], partition);
        return true;
    }

    /// <summary>The log engine's settings for a topic's effective config.</summary>
    public static LogConfig ToLogConfig(EffectiveTopicConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new LogConfig
        {
            SegmentBytes = config.SegmentBytes,
            SegmentMs = config.SegmentMs,
            RetentionMs = config.RetentionMs,
            RetentionBytes = config.RetentionBytes,
            FlushMessages = config.FlushMessages,
            FlushMs = config.FlushMs,
            MaxMessageBytes = Math.Max(config.MaxMessageBytes, Actors.Log.Records.RecordBatchLayout.HeaderSize),
            AllowTinySegments = config.SegmentBytes < LogConfig.MinSegmentBytes,
        };
    }

    private string LeastLoadedDirectory() => directories
        .OrderBy(d => partitions.Values.Count(p => p.Log.Directory.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        .ThenBy(d => d, StringComparer.Ordinal)
        .First();

    private void RecordIdentity(LocalPartition partition, Guid topicId)
    {
        var wanted = partition.Metadata with
        {
            TopicId = topicId != Guid.Empty ? topicId : partition.Metadata.TopicId,
            ClusterId = partition.Metadata.ClusterId ?? Volatile.Read(ref clusterId),
        };
        if (wanted != partition.Metadata)
        {
            partition.WriteMetadata(wanted);
        }
    }

    private static string StrayDirectory(LocalPartition partition)
    {
        var dir = partition.Log.Directory;
        return $"{dir}.{Guid.NewGuid():N}{StraySuffix}";
    }

    private async Task RunCheckpointLoopAsync(CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.ReplicaHighWatermarkCheckpointIntervalMs);
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            await CheckpointAsync().ConfigureAwait(false);
        }
    }

    private async Task RunRetentionLoopAsync(CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.LogRetentionCheckIntervalMs);
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            var deleted = RunRetention();
            if (deleted > 0)
            {
                LogRetentionRan(logger, deleted);
            }
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Opened partition log {Partition}: log start {LogStartOffset}, log end {LogEndOffset}, clean shutdown {Clean}")]
    private static partial void LogOpened(ILogger logger, string partition, long logStartOffset, long logEndOffset, bool clean);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Created partition log {Partition} in {Directory}")]
    private static partial void LogCreated(ILogger logger, string partition, string directory);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Deleted partition log {Partition}")]
    private static partial void LogDeleted(ILogger logger, string partition);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Retention deleted {Segments} segments")]
    private static partial void LogRetentionRan(ILogger logger, int segments);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Partition log {Partition} took new settings: retention.ms {RetentionMs}, retention.bytes {RetentionBytes}, segment.bytes {SegmentBytes}, max.message.bytes {MaxMessageBytes}")]
    private static partial void LogConfigApplied(ILogger logger, string partition, long retentionMs, long retentionBytes, int segmentBytes, int maxMessageBytes);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Retention of partition {Partition} failed")]
    private static partial void LogRetentionFailed(ILogger logger, string partition, Exception exception);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Checkpointing partition {Partition} failed")]
    private static partial void LogCheckpointFailed(ILogger logger, string partition, Exception exception);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "The local log of {Partition} belongs to topic id {OldTopicId}, not to the current topic's id {TopicId} (the topic was deleted and re-created); it was moved aside to {Directory}, kept for inspection, and the partition starts empty here")]
    private static partial void LogStaleTopicId(ILogger logger, string partition, string oldTopicId, string topicId, string directory);
}
