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
/// for the chart) and each partition's high watermark and committed offsets (for messages/s in and out). Everything
/// is bounded: groups by <see cref="ConsoleOptions.MaxSampledGroups"/>, partitions by
/// <see cref="ConsoleOptions.MaxSampledPartitions"/>, samples by the ring's capacity. A sample that fails (a silo
/// starting or dying) is skipped, not retried.
/// </summary>
public sealed partial class ConsoleSampler(IGrainFactory grains, IOptions<ConsoleOptions> options, TimeProvider time, ILogger<ConsoleSampler> logger)
    : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, LagRing> rings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Point Previous, Point Last)> highWatermarks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Point Previous, Point Last)> consumed = new(StringComparer.Ordinal);

    private readonly record struct Point(DateTimeOffset At, long Value);

    /// <summary>When the last sample finished, or null before the first.</summary>
    public DateTimeOffset? LastSample { get; private set; }

    /// <summary>The lag samples of <paramref name="groupId"/>, oldest first (empty when never sampled).</summary>
    public LagSample[] History(string groupId) => rings.TryGetValue(groupId, out var ring) ? ring.Snapshot() : [];

    /// <summary>Records appended per second to the partition ("topic/partition") between the last two samples.</summary>
    public double? InRate(string partitionKey) => Rate(highWatermarks, partitionKey);

    /// <summary>Records consumed per second from the partition between the last two samples: the advance of the
    /// offsets every group has committed there.</summary>
    public double? OutRate(string partitionKey) => Rate(consumed, partitionKey);

    private static double? Rate(ConcurrentDictionary<string, (Point Previous, Point Last)> points, string key)
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
        var committed = new Dictionary<string, long>(StringComparer.Ordinal);
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
            foreach (var offset in group.Offsets.Where(o => o.CommittedOffset >= 0))
            {
                var key = BrokerGrainKeys.Partition(offset.TopicPartition);
                committed[key] = committed.GetValueOrDefault(key) + offset.CommittedOffset;
            }
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

            if (committed.TryGetValue(key, out var sum))
            {
                Advance(consumed, key, new Point(now, sum));
            }
        }

        foreach (var gone in highWatermarks.Keys.Where(k => !live.Contains(k)).ToArray())
        {
            highWatermarks.TryRemove(gone, out _);
            consumed.TryRemove(gone, out _);
        }

        LastSample = now;
    }

    private static void Advance(ConcurrentDictionary<string, (Point Previous, Point Last)> points, string key, Point point) =>
        points.AddOrUpdate(key, _ => (default, point), (_, p) => (p.Last, point));

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Console sample skipped: {Reason}")]
    private static partial void LogSampleFailed(ILogger logger, string reason);
}
