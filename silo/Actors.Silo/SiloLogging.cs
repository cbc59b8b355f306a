using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Actors.Silo;

/// <summary>The silo's console log lines (<c>log.format</c>, <c>--log-format</c>): <c>simple</c> is one line per event
/// with a UTC timestamp, level and category; <c>json</c> is one JSON object per line (timestamp, level, category,
/// message and its named values) for log shippers. Under systemd, <c>simple</c> uses the journal's format (syslog
/// priority prefixes; journald adds the timestamps).</summary>
internal static class SiloLogging
{
    /// <summary>UTC, to the millisecond, ISO 8601.</summary>
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static void Configure(ILoggingBuilder logging, string? format)
    {
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat.TrimEnd();
                o.IncludeScopes = false;
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else if (!SystemdHelpers.IsSystemdService())
        {
            logging.AddSimpleConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat;
                o.SingleLine = true;
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }
}
