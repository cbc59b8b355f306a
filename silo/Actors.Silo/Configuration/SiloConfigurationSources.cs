using System.Collections;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Actors.Silo.Configuration;

/// <summary>
/// The silo's settings above appsettings.json, in rising precedence: the server.properties file named by
/// <c>--config</c>, <c>ACTORS_*</c> (and <c>Actors__*</c>) environment variables, and the command line. Each value is
/// checked against <see cref="SettingsCatalog"/> where it is read, so an error names where it came from.
/// </summary>
internal sealed class SiloConfigurationSources
{
    private readonly Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Configuration keys and values, the winner of every source applied.</summary>
    public IReadOnlyDictionary<string, string?> Values => values;

    /// <summary>Unknown keys and variables, each a line naming the key; logged as warnings.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Kafka keys Actors does not need, each with why; logged as information.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The server.properties file, if one was given.</summary>
    public string? ConfigFile { get; private set; }

    public static string Usage =>
        "usage: Actors.Silo [--config <server.properties>] [--<setting> <value> | --<setting>=<value>] ...\n" +
        "Short flags: " + string.Join(", ", SettingsCatalog.All.Where(s => s.Flag is not null).Select(s => $"{s.Flag} ({s.Name})")) + ".\n" +
        "Settings: " + string.Join(", ", SettingsCatalog.All.Select(s => s.Name)) + ".\n" +
        "Precedence (later wins): appsettings.json, --config file, ACTORS_<NAME> environment variables (e.g. ACTORS_NUM_PARTITIONS=3), flags. " +
        "docs/configuration.md lists every setting with its unit and default.";

    /// <summary>Reads the file (if <c>--config</c> names one), the environment and the flags.</summary>
    /// <exception cref="ArgumentException">A value is not accepted, a flag is unknown or lacks its value, or the file
    /// cannot be read; one line naming the setting, the value and what is accepted.</exception>
    public static SiloConfigurationSources Read(IReadOnlyList<string> args, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var sources = new SiloConfigurationSources();
        var flags = new Layer();
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string? value = null;
            var equals = flag.IndexOf('=', StringComparison.Ordinal);
            if (flag.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                value = flag[(equals + 1)..];
                flag = flag[..equals];
            }

            var isConfig = flag == "--config";
            var setting = isConfig ? null : SettingsCatalog.FindFlag(flag);
            if (!isConfig && setting is null)
            {
                throw new ArgumentException($"Unknown flag '{flag}'. Settings are --<name> <value> with a name from docs/configuration.md (see --help).");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"The flag {flag} needs a value{(setting is null ? " (the path of a server.properties file)" : $": {setting.Accepted}")}.");
                }

                value = args[++i];
            }

            if (isConfig)
            {
                sources.ConfigFile = value;
            }
            else
            {
                flags.Set(setting!, value, $"{flag} on the command line");
            }
        }

        if (sources.ConfigFile is not null)
        {
            sources.Apply(ReadPropertiesFile(sources.ConfigFile, sources));
        }

        sources.Apply(ReadEnvironment(environment, sources));
        sources.Apply(flags);
        return sources;
    }

    /// <summary>Checks the values of the catalog's keys as the final configuration has them, which covers
    /// appsettings.json and <c>Actors__</c> variables spelled as configuration keys.</summary>
    /// <exception cref="ArgumentException">A value is not accepted; the message names the key, the value and what is accepted.</exception>
    public static void CheckEffective(IConfiguration configuration)
    {
        foreach (var setting in SettingsCatalog.All.Where(s => s.OwnsKey))
        {
            if (configuration[setting.ConfigKey] is { } value && setting.Normalize(value) is null)
            {
                throw Invalid(setting, value, $"configuration key {setting.ConfigKey}, from appsettings.json or the environment");
            }
        }
    }

    private static ArgumentException Invalid(Setting setting, string value, string source) =>
        new($"Invalid value '{value}' for {setting.Name} ({source}): accepted values are {setting.Accepted}.");

    private void Apply(Layer layer)
    {
        foreach (var (key, value) in layer.Values)
        {
            values[key] = value.Value;
        }
    }

    private static Layer ReadEnvironment(IDictionary environment, SiloConfigurationSources sources)
    {
        var layer = new Layer();
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || entry.Value is not string value)
            {
                continue;
            }

            if (name.StartsWith("Actors__", StringComparison.OrdinalIgnoreCase))
            {
                // A configuration key spelled for the environment (Actors__Silo__Name): above the file, as every variable is.
                layer.SetKey(name.Replace("__", ":", StringComparison.Ordinal), value);
            }
            else if (name.StartsWith("ACTORS_", StringComparison.OrdinalIgnoreCase) && name.Length > 7)
            {
                var rest = name[7..];
                if (rest.Contains("__", StringComparison.Ordinal))
                {
                    layer.SetKey("Actors:" + rest.Replace("__", ":", StringComparison.Ordinal), value);
                }
                else if (SettingsCatalog.FindVariable(name) is { } setting)
                {
                    layer.Set(setting, value, $"environment variable {name}");
                }
                else
                {
                    sources.Warnings.Add($"Unknown environment variable {name} ignored: ACTORS_ variables are a setting name in upper case with dots as underscores (ACTORS_NUM_PARTITIONS) or a configuration key (ACTORS_BROKER__NUMPARTITIONS); see docs/configuration.md.");
                }
            }
        }

        return layer;
    }

    private static Layer ReadPropertiesFile(string path, SiloConfigurationSources sources)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"--config: cannot read the server.properties file '{path}' ({e.Message}); give the path of a readable file.", e);
        }

        var layer = new Layer();
        foreach (var (line, key, value) in ParseProperties(text))
        {
            var source = $"{path} line {line.ToString(CultureInfo.InvariantCulture)}";
            if (SettingsCatalog.Find(key) is { } setting)
            {
                layer.Set(setting, value, source);
            }
            else if (SettingsCatalog.Explained.TryGetValue(key, out var why))
            {
                sources.Notes.Add($"{key} ({source}) ignored: {why}.");
            }
            else
            {
                sources.Warnings.Add($"Unknown key '{key}' ({source}) ignored; docs/configuration.md lists the keys the silo reads.");
            }
        }

        return layer;
    }

    /// <summary>Java properties: <c>key=value</c>, <c>key: value</c> or <c>key value</c>; <c>#</c> and <c>!</c> start comments;
    /// a line ending in a backslash continues; <c>\t \n \\ \uXXXX</c> escapes.</summary>
    internal static IEnumerable<(int Line, string Key, string Value)> ParseProperties(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var logical = lines[i].TrimStart();
            if (logical.Length == 0 || logical[0] is '#' or '!')
            {
                continue;
            }

            while (EndsWithContinuation(logical) && i + 1 < lines.Length)
            {
                logical = logical[..^1] + lines[++i].TrimStart();
            }

            var split = 0;
            while (split < logical.Length && logical[split] is not ('=' or ':' or ' ' or '\t'))
            {
                split += logical[split] == '\\' ? 2 : 1;
            }

            split = Math.Min(split, logical.Length);
            var key = Unescape(logical[..split]);
            var rest = logical[split..].TrimStart(' ', '\t');
            if (rest.Length > 0 && rest[0] is '=' or ':')
            {
                rest = rest[1..].TrimStart(' ', '\t');
            }

            yield return (number, key, Unescape(rest).TrimEnd());
        }
    }

    private static bool EndsWithContinuation(string line)
    {
        var backslashes = 0;
        for (var i = line.Length - 1; i >= 0 && line[i] == '\\'; i--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '\\' || i + 1 >= value.Length)
            {
                text.Append(value[i]);
                continue;
            }

            var c = value[++i];
            if (c == 'u' && i + 4 < value.Length && int.TryParse(value.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            {
                text.Append((char)code);
                i += 4;
                continue;
            }

            text.Append(c switch { 't' => '\t', 'n' => '\n', 'r' => '\r', 'f' => '\f', _ => c });
        }

        return text.ToString();
    }

    /// <summary>One source's values; within it the more specific setting wins (log.retention.ms over .hours).</summary>
    private sealed class Layer
    {
        public Dictionary<string, (string? Value, int Specificity)> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Set(Setting setting, string value, string source)
        {
            var normalized = setting.Normalize(value) ?? throw Invalid(setting, value, source);
            if (!Values.TryGetValue(setting.ConfigKey, out var existing) || existing.Specificity <= setting.Specificity)
            {
                Values[setting.ConfigKey] = (normalized, setting.Specificity);
            }
        }

        public void SetKey(string key, string value) => Values[key] = (value, int.MaxValue);
    }
}
