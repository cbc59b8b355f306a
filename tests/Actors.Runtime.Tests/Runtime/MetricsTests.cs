using System.Diagnostics.Metrics;
using Actors.Diagnostics;
using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>The instruments are process-wide, so these tests run alone: no other test's calls land in the counts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}

[Collection(MetricsCollection.Name)]
public sealed class MetricsTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task RemoteCallsAreCountedAndTimed()
    {
        long sent = 0;
        long latencies = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "actors.calls.sent")
            {
                Interlocked.Add(ref sent, value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == "actors.call.duration")
            {
                Interlocked.Increment(ref latencies);
            }
        });
        listener.Start();

        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("metrics"));
        for (var i = 0; i < 5; i++)
        {
            await grain.WhereAmI();
        }

        Assert.True(Interlocked.Read(ref sent) >= 5, $"calls sent counted: {sent}");
        Assert.True(Interlocked.Read(ref latencies) >= 5, $"latencies recorded: {latencies}");
    }

    [Fact]
    public async Task FailedCallsAreCounted()
    {
        long failed = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name == "actors.calls.failed")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failed, value));
        listener.Start();

        // Failing calls from the client (through a gateway), from a silo that does not host the grain, and from the
        // silo that does: each is counted once, by its caller, whatever hops it took.
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("metrics-failed"));
        await grain.WhereAmI();
        var viaSilo = fixture.Cluster.Silos.First(s => !s.Silo.HostsActivation(grain.GetGrainId()))
            .GrainFactory.GetGrain<IProbeGrain>(grain.GetPrimaryKeyString());
        var local = fixture.Cluster.Silos.First(s => s.Silo.HostsActivation(grain.GetGrainId()))
            .GrainFactory.GetGrain<IProbeGrain>(grain.GetPrimaryKeyString());
        var before = Interlocked.Read(ref failed);
        const int Failing = 5;
        for (var i = 0; i < Failing; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw("invalid", $"client failure {i}"));
            await Assert.ThrowsAsync<InvalidOperationException>(() => viaSilo.Throw("invalid", $"silo failure {i}"));
            await Assert.ThrowsAsync<InvalidOperationException>(() => local.Throw("invalid", $"local failure {i}"));
        }

        var counted = Interlocked.Read(ref failed) - before;
        Assert.Equal(3 * Failing, counted);
    }
}
