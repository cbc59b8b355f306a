using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Actors.Kafka.Protocol;

namespace Actors.Kafka.Diagnostics;

/// <summary>The Kafka listener's instruments, on the meter "Actors.Kafka": records and bytes produced and fetched per
/// topic (Kafka's MessagesInPerSec, BytesInPerSec, BytesOutPerSec) and request latency per API (Kafka's
/// RequestMetrics TotalTimeMs). Listen with OpenTelemetry (the silo's /metrics), dotnet-counters or a MeterListener.</summary>
/// <remarks>Process-wide. Fetches by followers do not pass through the Kafka listener (replication is grain calls), so
/// "out" counts what Kafka clients read.</remarks>
public static class KafkaMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Actors.Kafka";

    private const int LogOverhead = 12;
    private const int RecordCountOffset = 57;

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly FrozenDictionary<ApiKey, KeyValuePair<string, object?>> ApiTags =
        Enum.GetValues<ApiKey>().ToFrozenDictionary(k => k, k => new KeyValuePair<string, object?>("api", k.ToString()));

    /// <summary>Records appended by produce requests, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> MessagesIn = Meter.CreateCounter<long>(
        "actors.kafka.messages.in", "{message}", "Records appended by Kafka produce requests.");

    /// <summary>Record-batch bytes appended by produce requests, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> BytesIn = Meter.CreateCounter<long>(
        "actors.kafka.in", "By", "Record-batch bytes appended by Kafka produce requests.");

    /// <summary>The name of <see cref="MessagesOut"/>, for a <see cref="MeterListener"/> (which must not touch this class's
    /// fields while they are being created: its callback runs inside their initialization).</summary>
    public const string MessagesOutName = "actors.kafka.messages.out";

    /// <summary>Records sent in fetch responses, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> MessagesOut = Meter.CreateCounter<long>(
        MessagesOutName, "{message}", "Records sent to Kafka clients in fetch responses (whole batches).");

    /// <summary>Record-batch bytes sent in fetch responses, tagged <c>topic</c>.</summary>
    public static readonly Counter<long> BytesOut = Meter.CreateCounter<long>(
        "actors.kafka.out", "By", "Record-batch bytes sent to Kafka clients in fetch responses.");

    /// <summary>Time from a request's frame read to its response built, tagged <c>api</c> (Produce, Fetch, ...).</summary>
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "actors.kafka.request.duration", "s", "Time to answer a Kafka request, per API.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Counts a produce's records and bytes once the broker accepted them.</summary>
    public static void Produced(string topic, ReadOnlySpan<byte> records)
    {
        if (!MessagesIn.Enabled && !BytesIn.Enabled)
        {
            return;
        }

        var tag = new KeyValuePair<string, object?>("topic", topic);
        MessagesIn.Add(CountRecords(records), tag);
        BytesIn.Add(records.Length, tag);
    }

    /// <summary>Counts the records and bytes of a fetch response's partition.</summary>
    public static void Fetched(string topic, ReadOnlySpan<byte> records)
    {
        if (records.IsEmpty || (!MessagesOut.Enabled && !BytesOut.Enabled))
        {
            return;
        }

        var tag = new KeyValuePair<string, object?>("topic", topic);
        MessagesOut.Add(CountRecords(records), tag);
        BytesOut.Add(records.Length, tag);
    }

    /// <summary>Records a request's duration since <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static void Answered(ApiKey api, long startTimestamp)
    {
        if (RequestDuration.Enabled && ApiTags.TryGetValue(api, out var tag))
        {
            RequestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tag);
        }
    }

    /// <summary>The records in the whole v2 batches of <paramref name="records"/> (the batch header's record count).</summary>
    internal static long CountRecords(ReadOnlySpan<byte> records)
    {
        long count = 0;
        var position = 0;
        while (records.Length - position >= RecordCountOffset + 4)
        {
            var size = (long)BinaryPrimitives.ReadInt32BigEndian(records[(position + 8)..]) + LogOverhead;
            if (size < RecordCountOffset + 4 || size > records.Length - position)
            {
                break;
            }

            count += Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(records[(position + RecordCountOffset)..]));
            position += (int)size;
        }

        return count;
    }
}
