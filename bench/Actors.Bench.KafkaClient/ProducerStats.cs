using System.Globalization;
using System.Text.Json;

namespace Actors.Bench.KafkaClient;

/// <summary>
/// The figures of librdkafka's statistics (STATISTICS.md) that say where a produce request's time goes, from the last
/// window seen: per broker, the request round trip (<c>rtt</c>: sent to answered), the wait in the broker's output
/// queue (<c>outbuf_latency</c>) and the time a message waits in the producer before it is sent (<c>int_latency</c>),
/// each p50/p99 in ms; per topic, the batch sizes in bytes and records.
/// </summary>
internal sealed class ProducerStats
{
    private readonly Lock gate = new();
    private string? last;

    public void Observe(string json)
    {
        lock (gate)
        {
            last = json;
            if (Environment.GetEnvironmentVariable("ACTORS_BENCH_STATS_FILE") is { Length: > 0 } file)
            {
                File.AppendAllText(file, json + Environment.NewLine);
            }
        }
    }

    /// <summary>" stats_..." fields for the result line, or an empty string before the first window.</summary>
    public string Summary()
    {
        string? json;
        lock (gate)
        {
            json = last;
        }

        if (json is null)
        {
            return string.Empty;
        }

        using var doc = JsonDocument.Parse(json);
        var text = new List<string>();
        foreach (var broker in doc.RootElement.GetProperty("brokers").EnumerateObject())
        {
            var b = broker.Value;
            if (b.GetProperty("nodeid").GetInt32() < 0 || b.GetProperty("rtt").GetProperty("cnt").GetInt64() == 0)
            {
                continue;
            }

            var id = b.GetProperty("nodeid").GetInt32();
            text.Add(Window(b, "rtt", $"b{id}_rtt"));
            text.Add(Window(b, "outbuf_latency", $"b{id}_outbuf"));
            text.Add(Window(b, "int_latency", $"b{id}_queue"));
        }

        foreach (var topic in doc.RootElement.GetProperty("topics").EnumerateObject())
        {
            var t = topic.Value;
            text.Add(string.Create(CultureInfo.InvariantCulture,
                $"{topic.Name}_batch_bytes_p50={t.GetProperty("batchsize").GetProperty("p50").GetInt64()} {topic.Name}_batch_records_p50={t.GetProperty("batchcnt").GetProperty("p50").GetInt64()}"));
        }

        return text.Count == 0 ? string.Empty : " " + string.Join(' ', text);
    }

    /// <summary>A window of microseconds as "<paramref name="name"/>_p50_ms=.. _p99_ms=..".</summary>
    private static string Window(JsonElement broker, string window, string name)
    {
        var w = broker.GetProperty(window);
        return string.Create(CultureInfo.InvariantCulture,
            $"{name}_p50_ms={w.GetProperty("p50").GetInt64() / 1000.0:F2} {name}_p99_ms={w.GetProperty("p99").GetInt64() / 1000.0:F2}");
    }
}
