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
    private int started;
    private bool closed;

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
    public LocalPartition GetOrCreate(TopicPartition tp, EffectiveTopicConfig config)
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

            unconfirmed.TryRemove(tp, out _);
            if (partitions.TryGetValue(tp, out var existing))
            {
                if (configs.TryGetValue(tp, out var current) && current != logConfig)
                {
                    existing.UpdateConfig(logConfig);
                    configs[tp] = logConfig;
                }

                return existing;
            }

            var directory = Path.Combine(LeastLoadedDirectory(), DirectoryName(tp));
            var log = PartitionLog.Open(directory, logConfig, time, logger);
            var partition = new LocalPartition(tp, log, time);
            configs[tp] = logConfig;
            partitions[tp] = partition;
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
                    deleted += p.Log.DeleteExpiredSegments();
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

    public async ValueTask DisposeAsync()
    {
        var stop = Interlocked.Exchange(ref retentionStop, null);
        if (stop is not null)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                if (retentionLoop is not null)
                {
                    await retentionLoop.ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping.
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
            MaxMessageBytes = Math.Max(config.MaxMessageBytes, Actors.Log.Records.RecordBatchLayout.HeaderSize),
            AllowTinySegments = config.SegmentBytes < LogConfig.MinSegmentBytes,
        };
    }

    private string LeastLoadedDirectory() => directories
        .OrderBy(d => partitions.Values.Count(p => p.Log.Directory.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        .ThenBy(d => d, StringComparer.Ordinal)
        .First();

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
}
