using System.Text;

namespace Actors.Log;

/// <summary>Record content of the crash test, derived from the offset so the checker can verify every byte.</summary>
internal static class CrashContent
{
    public static LogConfig Config { get; } = new()
    {
        SegmentBytes = 1024 * 1024,
        AllowTinySegments = true,
        IndexIntervalBytes = 1024,
    };

    public static byte[] Key(long offset) => Encoding.ASCII.GetBytes("k" + offset);

    public static byte[] Value(long offset)
    {
        var value = new byte[(int)(offset % 300)];
        for (int i = 0; i < value.Length; i++)
        {
            value[i] = (byte)((offset * 31) + i);
        }

        return value;
    }
}
