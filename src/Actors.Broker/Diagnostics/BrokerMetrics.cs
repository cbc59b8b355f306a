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
