using System.Globalization;
using System.Text;

namespace Actors.Integration.Tests.Silo;

/// <summary>One sample of Prometheus' text exposition format: <c>name{label="value",...} value [timestamp]</c>.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A small parser of Prometheus' text format (version 0.0.4): comment and blank lines are skipped; label values
/// may hold escaped backslashes, quotes and newlines; values may be NaN or +Inf/-Inf.</summary>
internal static class PrometheusText
{
    public static List<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var i = 0;
            while (i < line.Length && line[i] is not ('{' or ' '))
            {
                i++;
            }

            var name = line[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var equals = line.IndexOf('=', i);
                    var key = line[i..equals].Trim();
                    i = equals + 1;
                    if (line[i] != '"')
                    {
                        throw new FormatException($"line {number}: label {key} has no quoted value: {line}");
                    }

                    var value = new StringBuilder();
                    for (i++; line[i] != '"'; i++)
                    {
                        if (line[i] == '\\')
                        {
                            i++;
                            value.Append(line[i] switch { 'n' => '\n', _ => line[i] });
                        }
                        else
                        {
                            value.Append(line[i]);
                        }
                    }

                    labels[key] = value.ToString();
                    i++;
                    if (line[i] == ',')
                    {
                        i++;
                    }
                }

                i++;
            }

            var fields = line[i..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length is 0 or > 2)
            {
                throw new FormatException($"line {number}: expected a value and an optional timestamp: {line}");
            }

            var sampleValue = fields[0] switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(name, labels, sampleValue));
        }

        return samples;
    }
}
