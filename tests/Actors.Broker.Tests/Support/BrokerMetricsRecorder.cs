using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.Broker.Diagnostics;

namespace Actors.Broker.Tests.Support;

/// <summary>Records the <see cref="BrokerMetrics"/> measurements of one topic, in order, as "instrument" or
/// "instrument:reason". The meter is process-wide and other tests run alongside, so each test uses a topic of its own.</summary>
internal sealed class BrokerMetricsRecorder : IDisposable
{
    private readonly ConcurrentQueue<string> measurements = new();
    private readonly MeterListener listener = new();

    public BrokerMetricsRecorder(string topic)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BrokerMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            string? measuredTopic = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "topic")
                {
                    measuredTopic = tag.Value as string;
                }
                else if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }

            if (measuredTopic == topic)
            {
                measurements.Enqueue(reason is null ? instrument.Name : $"{instrument.Name}:{reason}");
            }
        });
        listener.Start();
    }

    /// <summary>Everything recorded so far.</summary>
    public string[] All => measurements.ToArray();

    /// <summary>The reasons of the leader elections recorded so far.</summary>
    public string[] Elections => All
        .Where(m => m.StartsWith("actors.broker.leader.elections:", StringComparison.Ordinal))
        .Select(m => m["actors.broker.leader.elections:".Length..])
        .ToArray();

    public void Dispose() => listener.Dispose();
}
