using System.Globalization;
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
        var value = new byte[ValueLength(offset)];
        for (int i = 0; i < value.Length; i++)
        {
            value[i] = ValueByte(offset, i);
        }

        return value;
    }

    /// <summary>True when <paramref name="key"/> is the key of <paramref name="offset"/>; allocates nothing.</summary>
    public static bool IsKey(long offset, ReadOnlySpan<byte> key) =>
        key.Length > 1 && key[0] == (byte)'k' && long.TryParse(key.Slice(1), NumberStyles.None, CultureInfo.InvariantCulture, out long parsed)
        && parsed == offset && key.Length == 1 + Digits(offset);

    /// <summary>True when <paramref name="value"/> is the value of <paramref name="offset"/>; allocates nothing.</summary>
    public static bool IsValue(long offset, ReadOnlySpan<byte> value)
    {
        if (value.Length != ValueLength(offset))
        {
            return false;
        }

        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != ValueByte(offset, i))
            {
                return false;
            }
        }

        return true;
    }

    private static int ValueLength(long offset) => (int)(offset % 300);

    private static byte ValueByte(long offset, int index) => (byte)((offset * 31) + index);

    private static int Digits(long offset)
    {
        int digits = 1;
        while (offset >= 10)
        {
            offset /= 10;
            digits++;
        }

        return digits;
    }
}
