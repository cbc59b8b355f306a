using System.Globalization;
using System.Text;

namespace Actors.Log.Storage;

/// <summary>Small text checkpoint files in Kafka's style: a version line "0", then lines of values. Written to a
/// temporary file, fsynced and renamed over the old one, so a crash leaves either the old or the new content.</summary>
internal static class CheckpointFile
{
    public static void Write(string path, IEnumerable<string> lines, bool durable = true)
    {
        var text = new StringBuilder();
        text.Append("0\n");
        foreach (string line in lines)
        {
            text.Append(line).Append('\n');
        }

        string tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: durable);
        }

        File.Move(tmp, path, overwrite: true);
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
