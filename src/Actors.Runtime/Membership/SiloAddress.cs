using System.Globalization;

namespace Actors.Membership;

/// <summary>
/// A silo incarnation: the host and silo-to-silo port it listens on, plus a generation that is new
/// each time a silo process starts (milliseconds since the Unix epoch at start). A restarted silo on
/// the same endpoint is a different <see cref="SiloAddress"/>; its old row stays Dead.
/// </summary>
/// <remarks>Immutable. Text form: <c>host:port@generation</c>.</remarks>
[Immutable]
public sealed record SiloAddress(string Host, int Port, long Generation)
{
    /// <summary>The endpoint without the generation, "host:port".</summary>
    public string Endpoint => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{Endpoint}@{Generation.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>True when <paramref name="other"/> is the same endpoint (any generation).</summary>
    public bool IsSameEndpoint(SiloAddress other) =>
        other is not null && other.Port == Port && string.Equals(other.Host, Host, StringComparison.OrdinalIgnoreCase);

    public static SiloAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        var colon = text.LastIndexOf(':', at < 0 ? text.Length - 1 : at);
        if (at < 0 || colon <= 0)
        {
            throw new FormatException($"'{text}' is not a silo address; expected 'host:port@generation'.");
        }

        return new SiloAddress(
            text[..colon],
            int.Parse(text.AsSpan(colon + 1, at - colon - 1), CultureInfo.InvariantCulture),
            long.Parse(text.AsSpan(at + 1), CultureInfo.InvariantCulture));
    }
}
