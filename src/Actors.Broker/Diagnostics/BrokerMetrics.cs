using System.Diagnostics.Metrics;

namespace Actors.Broker.Diagnostics;

/// <summary>The broker's instruments, on the meter "Actors.Broker" (listen with dotnet-counters, OpenTelemetry or a
/// MeterListener). The controller records every change it makes to a partition's leader or in-sync replicas.</summary>
/// <remarks>Process-wide: several silos in one process (tests) add to the same instruments. Every measurement is
/// tagged with <c>topic</c>; elections also with <c>reason</c>.</remarks>
public static class BrokerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Actors.Broker";

    /// <summary>The <c>reason</c> of a leader change: the old leader's silo announced its shutdown and handed over.</summary>
    public const string ControlledShutdown = "controlled_shutdown";

    /// <summary>The <c>reason</c> of a leader change: the leader's silo left the Active silos; an in-sync replica took over.</summary>
    public const string Failover = "failover";

    /// <summary>The <c>reason</c> of a leader change: no in-sync replica was alive and unclean.leader.election.enable let
    /// an out-of-sync replica lead (records may be lost).</summary>
    public const string Unclean = "unclean";

    /// <summary>The <c>reason</c> of a leader change: leadership went back to the preferred (first assigned) replica.</summary>
    public const string Preferred = "preferred";

    private static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>Partition leader changes, tagged <c>topic</c> and <c>reason</c>.</summary>
    public static readonly Counter<long> LeaderElections = Meter.CreateCounter<long>(
        "actors.broker.leader.elections", "{election}", "Partition leader changes made by the controller.");

    /// <summary>Partitions left without a leader (no in-sync replica alive), tagged <c>topic</c>.</summary>
    public static readonly Counter<long> PartitionsOffline = Meter.CreateCounter<long>(
        "actors.broker.partitions.offline", "{partition}", "Partitions that lost their last live in-sync replica.");

    /// <summary>In-sync replica sets that shrank, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> IsrShrinks = Meter.CreateCounter<long>(
        "actors.broker.isr.shrinks", "{change}", "In-sync replica sets that lost a member.");

    /// <summary>In-sync replica sets that grew, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> IsrExpands = Meter.CreateCounter<long>(
        "actors.broker.isr.expands", "{change}", "In-sync replica sets that gained a member.");

    private static readonly List<Func<BrokerGaugeSnapshot?>> Sources = [];

    /// <summary>Partitions led by this silo whose in-sync replicas are fewer than their replicas (Kafka's
    /// UnderReplicatedPartitions), as of the last refresh (<c>metrics.refresh.ms</c>).</summary>
    public static readonly ObservableGauge<long> UnderReplicatedPartitions = Meter.CreateObservableGauge(
        "actors.broker.under_replicated_partitions", () => Observe(s => [new Measurement<long>(s.UnderReplicated)]),
        "{partition}", "Partitions led by this silo with fewer in-sync replicas than replicas.");

    /// <summary>Partitions of the cluster with no leader (Kafka's OfflinePartitionsCount); every silo reports the
    /// cluster's count, so take the max across silos, not the sum.</summary>
    public static readonly ObservableGauge<long> OfflinePartitions = Meter.CreateObservableGauge(
        "actors.broker.offline_partitions", () => Observe(s => [new Measurement<long>(s.Offline)]),
        "{partition}", "Partitions of the cluster without a leader (the same on every silo).");

    /// <summary>Per consumer group and partition led by this silo: the high watermark minus the group's committed
    /// offset, tagged <c>group</c>, <c>topic</c>, <c>partition</c>; what consumer-groups --describe shows as LAG.</summary>
    public static readonly ObservableGauge<long> ConsumerLag = Meter.CreateObservableGauge(
        "actors.broker.consumer.lag", () => Observe(s => s.Lag.Select(l => new Measurement<long>(l.Lag,
            new KeyValuePair<string, object?>("group", l.Group),
            new KeyValuePair<string, object?>("topic", l.Topic),
            new KeyValuePair<string, object?>("partition", l.Partition)))),
        "{message}", "Committed offset behind the high watermark, per group and partition led by this silo.");

    /// <summary>Registers a silo's gauge values (the latest snapshot it has, or null before the first).</summary>
    internal static IDisposable Register(Func<BrokerGaugeSnapshot?> source)
    {
        lock (Sources)
        {
            Sources.Add(source);
        }

        return new Registration(source);
    }

    private static Measurement<long>[] Observe(Func<BrokerGaugeSnapshot, IEnumerable<Measurement<long>>> measure)
    {
        Func<BrokerGaugeSnapshot?>[] sources;
        lock (Sources)
        {
            sources = [.. Sources];
        }

        return sources.Select(s => s()).OfType<BrokerGaugeSnapshot>().SelectMany(measure).ToArray();
    }

    private sealed class Registration(Func<BrokerGaugeSnapshot?> source) : IDisposable
    {
        public void Dispose()
        {
            lock (Sources)
            {
                Sources.Remove(source);
            }
        }
    }

    /// <summary>Records what the controller changed from <paramref name="before"/> to <paramref name="after"/>;
    /// <paramref name="reason"/> names why, should the leader have changed (null where it cannot: an ISR change
    /// asked by the leader).</summary>
    internal static void RecordChange(PartitionState before, PartitionState after, string? reason)
    {
        var topic = new KeyValuePair<string, object?>("topic", after.Topic);
        if (!string.Equals(before.Leader, after.Leader, StringComparison.Ordinal))
        {
            if (after.Leader is null)
            {
                PartitionsOffline.Add(1, topic);
            }
            else
            {
                LeaderElections.Add(1, topic, new KeyValuePair<string, object?>("reason", reason ?? "unknown"));
            }
        }

        if (after.Isr.Length < before.Isr.Length)
        {
            IsrShrinks.Add(1, topic);
        }
        else if (after.Isr.Length > before.Isr.Length)
        {
            IsrExpands.Add(1, topic);
        }
    }
}

/// <summary>One silo's gauge values at one refresh.</summary>
internal sealed record BrokerGaugeSnapshot(long UnderReplicated, long Offline, IReadOnlyList<GroupLag> Lag);

/// <summary>A group's lag on one partition.</summary>
internal readonly record struct GroupLag(string Group, string Topic, int Partition, long Lag);
