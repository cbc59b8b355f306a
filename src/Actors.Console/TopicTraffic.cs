using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.Kafka.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Actors.WebConsole;

/// <summary>
/// This silo's running totals of records its Kafka listener sent to clients in fetch responses, per topic: the
/// listener's <c>actors.kafka.messages.out</c> counter (what <c>/metrics</c> exports), read with a
/// <see cref="MeterListener"/>. The console's sampler asks every silo for its totals (<see cref="SiloReport.FetchedRecords"/>)
/// and turns their advance into the Topics page's messages/s out. Followers' replication is not counted: it does not
/// pass through the Kafka listener.
/// </summary>
/// <remarks>The counter is process-wide, so is this. Totals start at 0 when the silo starts; at most
/// <see cref="MaxTopics"/> topics are kept (a topic past the bound is not counted). Thread-safe.</remarks>
public sealed class TopicTraffic : IHostedService, IDisposable
{
    /// <summary>Bound on the topics counted.</summary>
    public const int MaxTopics = 100_000;

    private readonly ConcurrentDictionary<string, long> fetched = new(StringComparer.Ordinal);
    private readonly MeterListener listener = new();

    public TopicTraffic()
    {
        // Called while KafkaMetrics' static fields are being created: only its constants may be read here.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KafkaMetrics.MeterName && instrument.Name == KafkaMetrics.MessagesOutName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "topic" && tag.Value is string topic && (fetched.Count < MaxTopics || fetched.ContainsKey(topic)))
                {
                    fetched.AddOrUpdate(topic, value, (_, total) => total + value);
                    return;
                }
            }
        });
    }

    /// <summary>Records sent to Kafka clients per topic since this silo started counting.</summary>
    public Dictionary<string, long> Fetched() => new(fetched, StringComparer.Ordinal);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => listener.Dispose();
}
