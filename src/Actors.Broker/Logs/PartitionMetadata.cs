using System.Globalization;
using System.Text;

namespace Actors.Broker.Logs;

/// <summary>
/// The identity of a partition directory, in <c>partition.metadata</c> as Kafka writes it (<c>version: 0</c>, then
/// <c>topic_id: &lt;id&gt;</c>, the topic id as Kafka prints a uuid: URL-safe base64 of its 16 big-endian bytes, no
/// padding), plus a <c>cluster_id: &lt;id&gt;</c> line naming the cluster whose metadata store created it (Kafka keeps
/// that in the log directory's <c>meta.properties</c>). A directory whose topic id differs from the controller's id
/// for the topic name is a deleted topic's leftover and is never reused; one whose cluster id differs from the
/// metadata store's belongs to another cluster (or the store was replaced) and the silo refuses to start.
/// </summary>
/// <param name="TopicId">The topic id; <see cref="Guid.Empty"/> when not recorded (a directory from before topic ids).</param>
/// <param name="ClusterId">The cluster id; null when not recorded.</param>
public sealed record PartitionMetadata(Guid TopicId, string? ClusterId)
{
    /// <summary>The file name, as in Kafka.</summary>
    public const string FileName = "partition.metadata";

    /// <summary>Nothing recorded.</summary>
    public static PartitionMetadata None { get; } = new(Guid.Empty, null);

    /// <summary>Reads the file in <paramref name="directory"/>; <see cref="None"/> when there is none.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a version-0 partition metadata file.</exception>
    public static PartitionMetadata Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return None;
        }

        var lines = File.ReadAllText(path, Encoding.ASCII).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || lines[0] != "version: 0")
        {
            throw new InvalidDataException($"'{path}' does not start with 'version: 0'; check what wrote it, or move it away to let the silo write a new one.");
        }

        var topicId = Guid.Empty;
        string? clusterId = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var (key, value) = colon > 0 ? (line[..colon].Trim(), line[(colon + 1)..].Trim()) : (line, string.Empty);
            switch (key)
            {
                case "topic_id":
                    topicId = ParseUuid(value, path);
                    break;
                case "cluster_id":
                    clusterId = value.Length > 0 ? value : null;
                    break;
                default:
                    throw new InvalidDataException($"'{path}' has an unknown line '{line}'; expected topic_id and cluster_id after the version.");
            }
        }

        return new PartitionMetadata(topicId, clusterId);
    }

    /// <summary>Writes the file in <paramref name="directory"/> through a temporary file, fsynced, and a rename.</summary>
    public void Write(string directory)
    {
        var text = new StringBuilder("version: 0\n");
        if (TopicId != Guid.Empty)
        {
            text.Append("topic_id: ").Append(FormatUuid(TopicId)).Append('\n');
        }

        if (ClusterId is not null)
        {
            text.Append("cluster_id: ").Append(ClusterId).Append('\n');
        }

        var path = Path.Combine(directory, FileName);
        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>A uuid as Kafka prints it: URL-safe base64 of its 16 big-endian bytes, without padding.</summary>
    public static string FormatUuid(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Parses <see cref="FormatUuid"/>'s form.</summary>
    /// <exception cref="InvalidDataException">Not 22 base64url characters of 16 bytes.</exception>
    public static Guid ParseUuid(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var base64 = text.Replace('-', '+').Replace('_', '/');
        Span<byte> bytes = stackalloc byte[18];
        if (text.Length != 22 || !Convert.TryFromBase64String(base64 + "==", bytes, out var written) || written != 16)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{source}' has topic id '{text}', which is not a uuid in Kafka's form (22 URL-safe base64 characters)."));
        }

        return new Guid(bytes[..16], bigEndian: true);
    }
}
