using System.Collections;

namespace Actors.Silo;

/// <summary>
/// The silo executable's settings from the command line and the environment, as configuration keys
/// under "Actors:". Flags: <c>--name --host --port --gateway-port --data --cluster-id</c>, and for the Kafka listener
/// <c>--kafka-port</c> and Kafka's <c>--listeners</c> / <c>--advertised.listeners</c>.
/// Environment: <c>ACTORS_SILO__NAME=a</c> becomes "Actors:Silo:Name" (double underscore separates sections).
/// </summary>
internal static class SiloCommandLine
{
    public const string Usage =
        "usage: Actors.Silo [--name <name>] [--host <advertised host>] [--port <silo port>] [--gateway-port <port>] " +
        "[--data <folder>] [--cluster-id <id>] [--kafka-port <port, default 9092>] " +
        "[--listeners PLAINTEXT://<bind ip>:<port>] [--advertised.listeners PLAINTEXT://<host>:<port>] " +
        "[--http-port <port, default 8080; 0 = off>] [--console.allow.changes true|false, default false]\n" +
        "Settings also come from appsettings.json (section \"Actors\") and ACTORS_* environment variables, e.g. ACTORS_SILO__SILOPORT=11112.";

    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--name"] = "Actors:Silo:Name",
        ["--host"] = "Actors:Silo:AdvertisedHost",
        ["--port"] = "Actors:Silo:SiloPort",
        ["--gateway-port"] = "Actors:Silo:GatewayPort",
        ["--data"] = "Actors:Silo:DataDirectory",
        ["--cluster-id"] = "Actors:Silo:ClusterId",
        ["--kafka-port"] = "Actors:Kafka:Port",
        ["--listeners"] = "Actors:Kafka:Listeners",
        ["--advertised.listeners"] = "Actors:Kafka:AdvertisedListeners",
        ["--http-port"] = "Actors:Http:Port",
        ["--console.allow.changes"] = "Actors:Console:AllowChanges",
    };

    /// <summary>Parses flags into configuration keys.</summary>
    /// <exception cref="ArgumentException">An unknown flag or a flag without its value; the message includes the usage.</exception>
    public static Dictionary<string, string?> Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            var equals = flag.IndexOf('=', StringComparison.Ordinal);
            string? value = null;
            if (equals > 0)
            {
                value = flag[(equals + 1)..];
                flag = flag[..equals];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }

            if (value is null)
            {
                throw new ArgumentException($"The flag {flag} needs a value.\n{Usage}");
            }

            if (Flags.TryGetValue(flag, out var key))
            {
                values[key] = value;
            }
            else
            {
                throw new ArgumentException($"Unknown flag '{flag}'.\n{Usage}");
            }
        }

        return values;
    }

    /// <summary>ACTORS_* environment variables as configuration keys under "Actors:".</summary>
    public static Dictionary<string, string?> FromEnvironment(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith("ACTORS_", StringComparison.OrdinalIgnoreCase) && name.Length > 7)
            {
                values["Actors:" + name[7..].Replace("__", ":", StringComparison.Ordinal)] = entry.Value as string;
            }
        }

        return values;
    }
}
