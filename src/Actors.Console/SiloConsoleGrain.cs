using System.Diagnostics;
using Actors.Broker;
using Actors.Broker.Logs;
using Actors.Broker.Placement;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.WebConsole;

/// <summary>One silo's own figures (key "console@silo", placed on the silo of that name): what only that process
/// knows, its heap, its start time and its logs on disk.</summary>
[Alias("console.ISiloConsoleGrain")]
public interface ISiloConsoleGrain : IGrainWithStringKey
{
    [global::Orleans.Concurrency.AlwaysInterleave]
    Task<SiloReport> GetReportAsync();
}

/// <summary>Keys of the per-silo grain.</summary>
public static class SiloConsoleKeys
{
    /// <summary>"console@silo": placed on <paramref name="siloName"/> by <see cref="SiloNamePlacementAttribute"/>.</summary>
    public static string For(string siloName) => $"console@{siloName}";
}

[GenerateSerializer]
[Immutable]
[Alias("console.SiloReport")]
public sealed class SiloReport
{
    [Id(0)] public string Silo { get; set; } = string.Empty;

    /// <summary>When the process started (UTC).</summary>
    [Id(1)] public DateTime ProcessStartUtc { get; set; }

    /// <summary>The managed heap's size after the last collection, in bytes.</summary>
    [Id(2)] public long HeapBytes { get; set; }

    /// <summary>The process's working set, in bytes.</summary>
    [Id(3)] public long WorkingSetBytes { get; set; }

    /// <summary>The total size of this silo's partition logs on disk, in bytes.</summary>
    [Id(4)] public long LogBytes { get; set; }

    /// <summary>Size on disk of each partition copy held here ("topic/partition" keys).</summary>
    [Id(5)] public Dictionary<string, long> PartitionBytes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The GC heap limit (DOTNET_GCHeapHardLimit or the container's), 0 when none is known.</summary>
    [Id(6)] public long HeapLimitBytes { get; set; }

    /// <summary>Records this silo's Kafka listener sent to clients in fetch responses since it started, per topic
    /// (<see cref="TopicTraffic"/>; empty when the silo does not count them).</summary>
    [Id(7)] public Dictionary<string, long> FetchedRecords { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Reads the local silo's process and logs; nothing is kept between calls.</summary>
[GrainType("console-silo")]
[SiloNamePlacement]
internal sealed class SiloConsoleGrain(LogManager logs, ILocalSiloDetails silo, IServiceProvider services) : Grain, ISiloConsoleGrain
{
    public Task<SiloReport> GetReportAsync()
    {
        using var process = Process.GetCurrentProcess();
        var gc = GC.GetGCMemoryInfo();
        var report = new SiloReport
        {
            Silo = silo.Name,
            ProcessStartUtc = process.StartTime.ToUniversalTime(),
            HeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            WorkingSetBytes = process.WorkingSet64,
            HeapLimitBytes = gc.TotalAvailableMemoryBytes,
            FetchedRecords = services.GetService<TopicTraffic>()?.Fetched() ?? new(StringComparer.Ordinal),
        };
        foreach (var tp in logs.Partitions)
        {
            if (logs.TryGet(tp) is not { } local)
            {
                continue;
            }

            long size;
            try
            {
                size = local.Log.SizeInBytes;
            }
            catch (ObjectDisposedException)
            {
                continue; // deleted while we looked
            }

            report.PartitionBytes[BrokerGrainKeys.Partition(tp)] = size;
            report.LogBytes += size;
        }

        return Task.FromResult(report);
    }
}
