using System.Globalization;
using System.Text;

namespace Actors.Log.Storage;

/// <summary>Small text checkpoint files in Kafka's style: a version line "0", then lines of values. Written to a
/// temporary file, fsynced and renamed over the old one, so a crash leaves either the old or the new content.</summary>
internal static class CheckpointFile
{
    /// <summary>Replaces <paramref name="fileName"/> in <paramref name="directory"/> atomically. When
    /// <paramref name="durable"/>, the temporary file is fsynced before the rename and the directory after it, so
    /// the new content survives a power loss once this returns; otherwise neither is, and a power loss may leave
    /// the old content (or, rarely, an empty file).</summary>
    /// <exception cref="IOException">Writing, renaming or an fsync failed.</exception>
    public static void Write(DirectorySync directory, string fileName, IEnumerable<string> lines, bool durable = true)
    {
        var text = new StringBuilder();
        text.Append("0\n");
        foreach (string line in lines)
        {
            text.Append(line).Append('\n');
        }

        string path = Path.Combine(directory.Path, fileName);
        string tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: durable);
        }

        File.Move(tmp, path, overwrite: true);
        if (durable)
        {
            // The rename is durable only once the directory is: without this a power loss could bring back the
            // old file after the caller was told the new content is on disk. A write that need not be durable
            // leaves its rename to whichever directory fsync comes next, so it never costs one of its own.
            directory.MarkChanged();
            directory.SyncIfChanged();
        }
    }

    /// <summary>Reads the value lines after the version line; null when the file does not exist.</summary>
    /// <exception cref="InvalidDataException">The file is not a version-0 checkpoint.</exception>
    public static string[]? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        string[] lines = File.ReadAllText(path, Encoding.ASCII).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].Trim() != "0")
        {
            throw new InvalidDataException($"Checkpoint file '{path}' does not start with version 0; delete it to let the log rebuild it.");
        }

        return lines[1..];
    }

    public static long ReadSingleLong(string path, long fallback)
    {
        string[]? lines = Read(path);
        if (lines is null)
        {
            return fallback;
        }

        if (lines.Length != 1 || !long.TryParse(lines[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            throw new InvalidDataException($"Checkpoint file '{path}' must hold exactly one offset after its version line; delete it to let the log rebuild it.");
        }

        return value;
    }
}
