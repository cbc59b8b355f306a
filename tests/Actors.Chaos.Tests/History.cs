using System.Text.Json;
using System.Text.Json.Serialization;

namespace Actors.Chaos.Tests;

/// <summary>The kinds of event a chaos history holds.</summary>
internal static class HistoryKind
{
    /// <summary>A producer handed a record to its client: producer, partition, key, value.</summary>
    public const string Send = "send";

    /// <summary>The broker acknowledged a sent record: producer, partition, value and the offset it got.</summary>
    public const string Ack = "ack";

    /// <summary>The client gave up on a sent record: producer, partition, value and the error.</summary>
    public const string Fail = "fail";

    /// <summary>A consumer read a record: consumer, partition, offset, key, value.</summary>
    public const string Poll = "poll";

    /// <summary>A consumer committed an offset (the next offset it will read) and the coordinator accepted it: the
    /// group as consumer, partition, offset.</summary>
    public const string Commit = "commit";

    /// <summary>The group's committed offset as the coordinator reported it when asked: the group as consumer,
    /// partition, offset.</summary>
    public const string Committed = "committed";

    /// <summary>The controller's state of a partition as seen by a poll: partition, leader, leader epoch.</summary>
    public const string State = "state";
}

/// <summary>
/// One line of a chaos history file (JSON, one object a line). Fields that do not apply to the kind are absent.
/// <see cref="Offset"/> is -1 where no offset applies (a send or a failure).
/// </summary>
internal sealed record HistoryEvent(
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("offset")] long Offset = -1,
    [property: JsonPropertyName("producer")] string? Producer = null,
    [property: JsonPropertyName("consumer")] string? Consumer = null,
    [property: JsonPropertyName("key")] string? Key = null,
    [property: JsonPropertyName("value")] string? Value = null,
    [property: JsonPropertyName("error")] string? Error = null,
    [property: JsonPropertyName("leader")] string? Leader = null,
    [property: JsonPropertyName("leaderEpoch")] int LeaderEpoch = -1);

/// <summary>
/// Appends history events to a file as JSON lines, each flushed as it is written, from any thread; keeps them in
/// memory too so the checker can run without reading the file back.
/// </summary>
internal sealed class HistoryRecorder : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private readonly Lock gate = new();
    private readonly StreamWriter writer;
    private readonly List<HistoryEvent> events = [];

    public HistoryRecorder(string path)
    {
        Path = path;
        writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
    }

    public string Path { get; }

    /// <summary>A copy of every event recorded so far, in the order they were recorded.</summary>
    public IReadOnlyList<HistoryEvent> Events
    {
        get
        {
            lock (gate)
            {
                return [.. events];
            }
        }
    }

    public void Send(string producer, int partition, string key, string value) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Send, partition, Producer: producer, Key: key, Value: value));

    public void Ack(string producer, int partition, long offset, string key, string value) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Ack, partition, offset, Producer: producer, Key: key, Value: value));

    public void Fail(string producer, int partition, string key, string value, string error) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Fail, partition, Producer: producer, Key: key, Value: value, Error: error));

    public void Poll(string consumer, int partition, long offset, string? key, string? value) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Poll, partition, offset, Consumer: consumer, Key: key, Value: value));

    public void Commit(string consumer, int partition, long offset) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Commit, partition, offset, Consumer: consumer));

    public void Committed(string group, int partition, long offset) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.Committed, partition, offset, Consumer: group));

    public void State(int partition, string? leader, int leaderEpoch) =>
        Append(new HistoryEvent(DateTimeOffset.UtcNow, HistoryKind.State, partition, Leader: leader, LeaderEpoch: leaderEpoch));

    public void Append(HistoryEvent e)
    {
        var line = JsonSerializer.Serialize(e, Json);
        lock (gate)
        {
            events.Add(e);
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>Reads a history file back; a line that is not a history event fails naming the file and line.</summary>
    public static IReadOnlyList<HistoryEvent> Read(string path)
    {
        var result = new List<HistoryEvent>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            result.Add(JsonSerializer.Deserialize<HistoryEvent>(line, Json)
                ?? throw new InvalidDataException($"{path}:{number} is not a history event: {line}"));
        }

        return result;
    }

    public void Dispose()
    {
        lock (gate)
        {
            writer.Dispose();
        }
    }
}
