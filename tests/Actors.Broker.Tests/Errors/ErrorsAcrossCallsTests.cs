using Actors.Broker.Diagnostics;
using Actors.Broker.Tests.Cluster;
using Actors.Broker.Tests.Support;
using Actors.Log;
using Actors.Testing;
using Orleans.Configuration;

namespace Actors.Broker.Tests.Errors;

/// <summary>
/// What a caller receives when a grain call fails: every broker error code arrives as a <see cref="BrokerException"/>
/// with its code and message (not a codec error, not a code lost on the way), a log error carried inside keeps its
/// type and message, a call that takes too long ends in a <see cref="TimeoutException"/>, and an in-process kill is
/// treated as abrupt: no controlled hand-over.
/// </summary>
[Collection(BrokerClusterCollection.Name)]
public sealed class ErrorsAcrossCallsTests
{
    [Fact]
    public async Task Every_error_code_crosses_a_grain_call_with_its_type_code_and_message()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 2);
        var probe = c.Client.GetGrain<IErrorProbeGrain>("codes");
        var codes = ErrorCodes.All.Select(i => i.Code).Where(code => code != ErrorCode.None).ToArray();
        Assert.Contains(codes, code => code.IsRetriable());
        Assert.Contains(codes, code => !code.IsRetriable());
        foreach (var code in codes)
        {
            var e = await Assert.ThrowsAsync<BrokerException>(() => probe.ThrowAsync(code, $"probe of {code}"));
            Assert.Equal(code, e.Code);
            Assert.Equal(code.IsRetriable(), e.IsRetriable);
            Assert.Equal($"[{code.KafkaName()}] probe of {code}", e.Message);
        }
    }

    [Fact]
    public async Task A_broker_error_from_a_real_grain_keeps_its_code()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        var unknown = await Assert.ThrowsAsync<BrokerException>(() => c.Controller.DeleteTopicAsync("missing"));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, unknown.Code);
        var invalid = await Assert.ThrowsAsync<BrokerException>(() => c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = "no/slash" }));
        Assert.Equal(ErrorCode.InvalidTopicException, invalid.Code);
        Assert.Contains("no/slash", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_log_error_inside_a_broker_error_arrives_with_its_type_and_message()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1);
        var e = await Assert.ThrowsAsync<BrokerException>(() => c.Client.GetGrain<IErrorProbeGrain>("log").ThrowLogErrorAsync("/data/logs/t-0"));
        Assert.Equal(ErrorCode.KafkaStorageError, e.Code);
        var inner = Assert.IsType<LogWriteFailedException>(e.InnerException);
        Assert.Contains("/data/logs/t-0", inner.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_that_outlasts_the_response_timeout_fails_with_a_timeout()
    {
        await using var c = await BrokerCluster.StartAsync(silos: 1,
            configureClient: client => client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(500)));
        await Assert.ThrowsAsync<TimeoutException>(() => c.Client.GetGrain<IErrorProbeGrain>("slow").HangAsync(3_000));
    }

    [Fact]
    public async Task An_in_process_kill_of_the_leaders_silo_is_a_failover_not_a_controlled_shutdown()
    {
        const string topic = "abrupt-kill";
        using var metrics = new BrokerMetricsRecorder(topic);
        await using var c = await BrokerCluster.StartAsync(configure: o => o.ReplicaLagTimeMaxMs = 2_000);
        await c.Controller.CreateTopicAsync(new CreateTopicRequest { Name = topic, NumPartitions = 1, ReplicationFactor = 3 });
        var tp = new TopicPartition(topic, 0);
        Assert.Equal(ErrorCode.None, (await c.ProduceAsync(topic, 0, Batches.Values(0, 5))).Error);
        var leader = (await c.Controller.GetPartitionStateAsync(tp)).Leader!;

        await c.KillAsync(leader);
        await Wait.UntilAsync(() => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().Leader is { } l && l != leader, TimeSpan.FromSeconds(20),
            $"a new leader after {leader} was killed", () => c.Controller.GetPartitionStateAsync(tp).GetAwaiter().GetResult().ToString());
        Assert.Equal([BrokerMetrics.Failover], metrics.Elections);
        Assert.Equal(5, (await c.ConsumeAsync(topic, 0, 0, 5)).Count);
    }
}
