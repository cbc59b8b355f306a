using System.Diagnostics.Metrics;

namespace Actors.Diagnostics;

/// <summary>The runtime's instruments, on the meter "Actors.Runtime" (listen with dotnet-counters or a MeterListener).</summary>
/// <remarks>Process-wide: several silos in one process (tests) add to the same instruments.</remarks>
public static class RuntimeMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Actors.Runtime";

    private static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>Grain calls sent to another silo or a gateway.</summary>
    public static readonly Counter<long> CallsSent = Meter.CreateCounter<long>("actors.calls.sent", "{call}", "Grain calls sent over the network.");

    /// <summary>Grain calls received from the network.</summary>
    public static readonly Counter<long> CallsReceived = Meter.CreateCounter<long>("actors.calls.received", "{call}", "Grain calls received from the network.");

    /// <summary>Calls that ended in an exception (grain exceptions, timeouts, unavailable silos, cancellation),
    /// counted once, by the silo or client that made the call; one-way calls count when they could not be sent.</summary>
    public static readonly Counter<long> CallsFailed = Meter.CreateCounter<long>("actors.calls.failed", "{call}", "Grain calls that failed.");

    /// <summary>Calls made inside one silo (no network).</summary>
    public static readonly Counter<long> CallsLocal = Meter.CreateCounter<long>("actors.calls.local", "{call}", "Grain calls delivered inside the calling silo.");

    /// <summary>Round trip of remote calls, in microseconds.</summary>
    public static readonly Histogram<double> CallLatency = Meter.CreateHistogram<double>("actors.call.duration", "us", "Round trip of grain calls over the network.");

    /// <summary>Activations created.</summary>
    public static readonly Counter<long> Activations = Meter.CreateCounter<long>("actors.activations.created", "{activation}", "Activations created.");

    /// <summary>Activations deactivated.</summary>
    public static readonly Counter<long> Deactivations = Meter.CreateCounter<long>("actors.activations.deactivated", "{activation}", "Activations deactivated.");
}
