using System.Globalization;

namespace Actors.Bench;

/// <summary>Option parsing and invariant formatting shared by the suites.</summary>
internal static class BenchArgs
{
    public static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public static int Int(string[] args, string name, int fallback) =>
        int.TryParse(Text(args, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    public static long Long(string[] args, string name, long fallback) =>
        long.TryParse(Text(args, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    public static double Double(string[] args, string name, double fallback) =>
        double.TryParse(Text(args, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
