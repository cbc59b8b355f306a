using System.Globalization;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>A process's memory as Linux reports it in /proc/&lt;pid&gt;/status.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident memory now.</summary>
    public static long Rss(int pid) => Read(pid, "VmRSS");

    /// <summary>The highest resident memory since the process started.</summary>
    public static long HighWaterMark(int pid) => Read(pid, "VmHWM");

    /// <summary>A size field of /proc/&lt;pid&gt;/status in bytes; 0 once the process is gone.</summary>
    public static long Read(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kib = line[(field.Length + 1)..].Trim().Split(' ')[0];
                    return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process exited.
        }

        return 0;
    }
}
