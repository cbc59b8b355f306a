using System.Globalization;

namespace Actors.Client;

/// <summary>Reads Kafka-named settings from a Confluent config (any key/value pairs), with Kafka's defaults and
/// errors naming the setting.</summary>
internal sealed class ClientConfig
{
    private readonly Dictionary<string, string> values;

    public ClientConfig(IEnumerable<KeyValuePair<string, string>>? config)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in config ?? [])
        {
            if (v is not null)
            {
                values[k] = v;
            }
        }
    }

    public string? Get(string name) => values.TryGetValue(name, out var v) ? v : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public int Int(string name, int fallback, int min = 0, int max = int.MaxValue)
    {
        var text = Get(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new ArgumentException($"The setting {name} is '{text}'; it must be a whole number from {min} to {max}.", name);
        }

        return v;
    }

    public long Long(string name, long fallback, long min = 0)
    {
        var text = Get(name);
        if (text is null)
        {
            return fallback;
        }

        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min)
        {
            throw new ArgumentException($"The setting {name} is '{text}'; it must be a whole number of at least {min}.", name);
        }

        return v;
    }

    public bool Bool(string name, bool fallback)
    {
        var text = Get(name);
        if (text is null)
        {
            return fallback;
        }

        return text.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new ArgumentException($"The setting {name} is '{text}'; it must be true or false.", name),
        };
    }

    public string OneOf(string name, string fallback, params string[] allowed)
    {
        var text = Get(name)?.ToLowerInvariant() ?? fallback;
        if (!allowed.Contains(text, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The setting {name} is '{text}'; it must be one of {string.Join(", ", allowed)}.", name);
        }

        return text;
    }
}
