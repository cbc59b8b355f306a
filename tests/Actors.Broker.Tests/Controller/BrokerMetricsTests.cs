using Actors.Broker.Controller;
using Actors.Broker.Diagnostics;
using Actors.Broker.Tests.Support;

namespace Actors.Broker.Tests.Controller;

/// <summary>What the controller records for each kind of partition change (<see cref="BrokerMetrics.RecordChange"/>).</summary>
public class BrokerMetricsTests
{
    private static PartitionState State(string topic, string? leader, string[] isr) => new()
    {
        Topic = topic,
        Partition = 0,
        Replicas = ["a", "b", "c"],
        Leader = leader,
        LeaderEpoch = 1,
        Isr = isr,
        PartitionEpoch = 1,
    };

    [Fact]
    public void A_failover_counts_an_election_with_its_reason_and_the_shrink()
    {
        using var metrics = new BrokerMetricsRecorder("metrics-failover");
        var before = State("metrics-failover", "a", ["a", "b", "c"]);
        var after = PartitionStateMachine.OnLivenessChanged(before, s => s != "a");
        BrokerMetrics.RecordChange(before, after, BrokerMetrics.Failover);
        Assert.Equal(["actors.broker.leader.elections:failover", "actors.broker.isr.shrinks"], metrics.All);
    }

    [Fact]
    public void Losing_the_last_in_sync_replica_counts_an_offline_partition_not_an_election()
    {
        using var metrics = new BrokerMetricsRecorder("metrics-offline");
        var before = State("metrics-offline", "a", ["a"]);
        var after = PartitionStateMachine.OnLivenessChanged(before, s => s != "a");
        Assert.Null(after.Leader);
        BrokerMetrics.RecordChange(before, after, BrokerMetrics.Failover);
        Assert.Equal(["actors.broker.partitions.offline"], metrics.All);
    }

    [Fact]
    public void An_isr_change_without_a_leader_change_counts_only_the_isr()
    {
        using var metrics = new BrokerMetricsRecorder("metrics-isr");
        var narrow = State("metrics-isr", "a", ["a"]);
        var wide = State("metrics-isr", "a", ["a", "b"]);
        BrokerMetrics.RecordChange(narrow, wide, reason: null);
        BrokerMetrics.RecordChange(wide, narrow, reason: null);
        BrokerMetrics.RecordChange(wide, wide, reason: null);
        Assert.Equal(["actors.broker.isr.expands", "actors.broker.isr.shrinks"], metrics.All);
    }
}
