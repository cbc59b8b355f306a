using System.Collections.Concurrent;
using Actors.Broker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.WebConsole;

/// <summary>One lag sample of a group: when, and the group's total lag then.</summary>
public readonly record struct LagSample(DateTimeOffset At, long TotalLag);

/// <summary>A bounded ring of lag samples for one group (oldest dropped first).</summary>
public sealed class LagRing(int capacity)
{
    private readonly LagSample[] samples = new LagSample[Math.Max(2, capacity)];
    private int start;
    private int count;

    public int Capacity => samples.Length;

    public void Add(LagSample sample)
    {
        lock (samples)
        {
            if (count < samples.Length)
            {
                samples[(start + count) % samples.Length] = sample;
                count++;
            }
            else
            {
                samples[start] = sample;
                start = (start + 1) % samples.Length;
            }
        }
    }

    /// <summary>The samples, oldest first.</summary>
    public LagSample[] Snapshot()
    {
        lock (samples)
        {
            var copy = new LagSample[count];
            for (var i = 0; i < count; i++)
            {
                copy[i] = samples[(start + i) % samples.Length];
            }

            return copy;
        }
    }
}

/// <summary>
/// Samples, every <see cref="ConsoleOptions.SampleInterval"/>, each group's lag (into a <see cref="LagRing"/> per group,
/// for the chart), each partition's high watermark (messages/s in: records appended, by any client or the console)
/// and every live silo's count of records its Kafka listener sent to clients per topic (messages/s out: records
/// fetched by Kafka consumers, <see cref="TopicTraffic"/>). Everything is bounded: groups by
/// <see cref="ConsoleOptions.MaxSampledGroups"/>, partitions by <see cref="ConsoleOptions.MaxSampledPartitions"/>,
/// samples by the ring's capacity. A sample that fails (a silo starting or dying) is skipped, not retried.
/// </summary>
public sealed partial class ConsoleSampler(IGrainFactory grains, IOptions<ConsoleOptions> options, TimeProvider time, ILogger<ConsoleSampler> logger)
    : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, LagRing> rings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Point Previous, Point Last)> highWatermarks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Silo, string Topic), (Point Previous, Point Last)> fetched = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> silosSampled = new(StringComparer.Ordinal);
    private volatile Dictionary<string, (double? OutRate, long Fetched)> traffic = new(StringComparer.Ordinal);

    private readonly record struct Point(DateTimeOffset At, long Value);

    /// <summary>When the last sample finished, or null before the first.</summary>
    public DateTimeOffset? LastSample { get; private set; }

    /// <summary>The lag samples of <paramref name="groupId"/>, oldest first (empty when never sampled).</summary>
    public LagSample[] History(string groupId) => rings.TryGetValue(groupId, out var ring) ? ring.Snapshot() : [];

    /// <summary>Records appended per second to the partition ("topic/partition") between the last two samples.</summary>
    public double? InRate(string partitionKey) => Rate(highWatermarks, partitionKey);

    /// <summary>Records of <paramref name="topic"/> sent to Kafka clients in fetch responses per second between the
    /// last two samples, summed over the silos (each counts what its own listener served); null before two samples.</summary>
    public double? OutRate(string topic) => traffic.TryGetValue(topic, out var t) ? t.OutRate : null;

    /// <summary>Records of <paramref name="topic"/> sent to Kafka clients since the live silos started, at the last
    /// sample; null when no silo has served any.</summary>
    public long? Fetched(string topic) => traffic.TryGetValue(topic, out var t) ? t.Fetched : null;

    private static double? Rate<TKey>(ConcurrentDictionary<TKey, (Point Previous, Point Last)> points, TKey key)
        where TKey : notnull
    {
        if (!points.TryGetValue(key, out var p) || p.Previous.At == default || p.Last.At <= p.Previous.At)
        {
            return null;
        }

        return Math.Max(0, p.Last.Value - p.Previous.Value) / (p.Last.At - p.Previous.At).TotalSeconds;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SampleInterval, time);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogSampleFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Takes one sample of every group and partition (bounded).</summary>
    public async Task SampleAsync(CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var groupIds = (await grains.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync().WaitAsync(CallTimeout, cancellation))
            .Order(StringComparer.Ordinal).Take(settings.MaxSampledGroups).ToArray();
        var described = await ConsoleData.ForEachAsync(groupIds, 8, async id =>
        {
            try
            {
                return await grains.GetGrain<IConsumerGroupGrain>(id).DescribeAsync().WaitAsync(CallTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null; // deleted since listed, or its silo is changing
            }
        });
        foreach (var group in described.OfType<ConsumerGroupDescription>())
        {
            var total = group.Offsets.Where(o => o.Lag > 0).Sum(o => o.Lag);
            rings.GetOrAdd(group.GroupId, _ => new LagRing(settings.SampleCapacity)).Add(new LagSample(now, total));
        }

        foreach (var gone in rings.Keys.Except(groupIds, StringComparer.Ordinal).ToArray())
        {
            rings.TryRemove(gone, out _);
        }

        var topics = await grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller).DescribeTopicsAsync(null).WaitAsync(CallTimeout, cancellation);
        var online = topics.SelectMany(t => t.Partitions).Where(p => p.IsOnline).Take(settings.MaxSampledPartitions).ToArray();
        var statuses = await ConsoleData.ForEachAsync(online, 16, async p =>
        {
            try
            {
                return await grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(p.TopicPartition)).GetStatusAsync().WaitAsync(CallTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null;
            }
        });
        var live = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < online.Length; i++)
        {
            var key = BrokerGrainKeys.Partition(online[i].TopicPartition);
            live.Add(key);
            if (statuses[i] is { Error: ErrorCode.None, HighWatermark: >= 0 } status)
            {
                Advance(highWatermarks, key, new Point(now, status.HighWatermark));
            }
        }

        foreach (var gone in highWatermarks.Keys.Where(k => !live.Contains(k)).ToArray())
        {
            highWatermarks.TryRemove(gone, out _);
        }

        await SampleFetchedAsync(now, topics.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), cancellation);

        LastSample = now;
    }

    /// <summary>Every live silo's count of records its listener fetched, per topic; silos and topics gone are dropped.</summary>
    private async Task SampleFetchedAsync(DateTimeOffset now, HashSet<string> topics, CancellationToken cancellation)
    {
        // Grain calls are bounded by the timeout and the token through WaitAsync.
#pragma warning disable CA2016
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(CallTimeout, cancellation);
#pragma warning restore CA2016
        var silos = hosts.Select(h => h.SiloName).Distinct(StringComparer.Ordinal).ToArray();
        var reports = await ConsoleData.ForEachAsync(silos, 8, async name =>
        {
            try
            {
                return await grains.GetGrain<ISiloConsoleGrain>(SiloConsoleKeys.For(name)).GetReportAsync().WaitAsync(ReportTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null;
            }
        });
        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < silos.Length; i++)
        {
            if (reports[i] is not { } report)
            {
                continue;
            }

            var before = silosSampled.TryGetValue(silos[i], out var at) ? at : (DateTimeOffset?)null;
            foreach (var (topic, count) in report.FetchedRecords)
            {
                if (topics.Contains(topic) && seen.Count < options.Value.MaxSampledPartitions)
                {
                    var key = (silos[i], topic);
                    seen.Add(key);
                    if (before is { } previous && !fetched.ContainsKey(key))
                    {
                        // A topic the silo had served nothing of at its previous sample: it counted 0 then.
                        fetched[key] = (new Point(previous, 0), new Point(now, count));
                    }
                    else
                    {
                        Advance(fetched, key, new Point(now, count));
                    }
                }
            }

            silosSampled[silos[i]] = now;
        }

        foreach (var gone in silosSampled.Keys.Except(silos.Where((_, i) => reports[i] is not null), StringComparer.Ordinal).ToArray())
        {
            silosSampled.TryRemove(gone, out _);
        }

        foreach (var gone in fetched.Keys.Where(k => !seen.Contains(k)).ToArray())
        {
            // A silo gone, or not answering this time (its rate starts again from two fresh samples), or a topic deleted.
            fetched.TryRemove(gone, out _);
        }

        // Per topic, summed over the silos once here rather than on every page.
        var totals = new Dictionary<string, (double? OutRate, long Fetched)>(StringComparer.Ordinal);
        foreach (var (key, points) in fetched)
        {
            var (rate, count) = totals.GetValueOrDefault(key.Topic);
            var silo = Rate(fetched, key);
            totals[key.Topic] = (silo is null ? rate : (rate ?? 0) + silo, count + points.Last.Value);
        }

        traffic = totals;
    }

    private static void Advance<TKey>(ConcurrentDictionary<TKey, (Point Previous, Point Last)> points, TKey key, Point point)
        where TKey : notnull =>
        points.AddOrUpdate(key, _ => (default, point), (_, p) => (p.Last, point));

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Console sample skipped: {Reason}")]
    private static partial void LogSampleFailed(ILogger logger, string reason);
}
