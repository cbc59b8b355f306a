using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Actors.Bench;

/// <summary>Runs bench/Actors.Bench.KafkaClient (built next to the benchmark) as its own process and reads its
/// <c>result key=value ...</c> line.</summary>
internal static class KafkaClientProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private const string ClientGen0Variable = "DOTNET_GCgen0size";

    private const string ClientGen0Budget = "0x4000000";

    /// <param name="siloCpu">The silos' CPU seconds so far (<see cref="BenchCluster.SiloCpuSeconds"/>): when given, the
    /// result line also says what the silos spent while the client ran, in all and per record delivered or read
    /// (the client's warm-up included, so a little more than the timed part).</param>
    public static async Task<Result> RunAsync(string[] args, Func<string> silos, CancellationToken ct, Func<double>? siloCpu = null)
    {
        var siloCpuBefore = siloCpu?.Invoke() ?? 0;
        var client = Path.Combine(AppContext.BaseDirectory, "Actors.Bench.KafkaClient.dll");
        if (!File.Exists(client))
        {
            throw new FileNotFoundException($"The Kafka client {client} was not built next to the benchmark.");
        }

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(client);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // ACTORS_BENCH_CLIENT_ARGS: more options for every client run (space-separated), e.g. "--stats true" for the
        // producer's round-trip and queueing figures, or "--config socket.nagle.disable=true".
        foreach (var arg in (Environment.GetEnvironmentVariable("ACTORS_BENCH_CLIENT_ARGS") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            info.ArgumentList.Add(arg);
        }

        // The client's gen0 budget: 64 MiB unless the benchmark's own environment sets one. With the default budget
        // (a few MiB on this machine) the client collects every few milliseconds at these rates, and each collection
        // stops its consumer thread: at 330,000 records/s on one silo the e2e p99 was 8.7-66 ms with the default and
        // 3.9-5.2 ms with 64 MiB, the silo unchanged. That is the client's pause, not the broker's latency.
        if (Environment.GetEnvironmentVariable(ClientGen0Variable) is null)
        {
            info.Environment[ClientGen0Variable] = ClientGen0Budget;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {client}.");
        var errors = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (sender, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
                while (errors.Count > 30)
                {
                    errors.TryDequeue(out _);
                }
            }
        };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The Kafka client ({string.Join(' ', args)}) did not finish within {Timeout.TotalMinutes:F0} min:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}{Environment.NewLine}{silos()}");
        }

        var line = (await stdout).Split('\n').LastOrDefault(l => l.StartsWith("result ", StringComparison.Ordinal))?.Trim();
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"The Kafka client ({string.Join(' ', args)}) exited with {process.ExitCode}: {line}{Environment.NewLine}{string.Join(Environment.NewLine, errors)}{Environment.NewLine}{silos()}");
        }

        var result = line["result ".Length..];
        if (siloCpu is not null)
        {
            var spent = siloCpu() - siloCpuBefore;
            var counted = new Result(result);
            var records = counted.NumberOr("delivered", counted.NumberOr("read", counted.NumberOr("received", 0)));
            result += string.Create(CultureInfo.InvariantCulture, $" silo_cpu_s={spent:F2}");
            if (records > 0)
            {
                result += string.Create(CultureInfo.InvariantCulture, $" silo_cpu_us_per_record={spent * 1e6 / records:F2}");
            }
        }

        return new Result(result);
    }

    public sealed class Result(string line)
    {
        private readonly Dictionary<string, string> values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);

        public string Line { get; } = line;

        public double Number(string key) =>
            NumberOr(key, double.NaN) is var d && !double.IsNaN(d)
                ? d
                : throw new InvalidOperationException($"The Kafka client printed no number {key}: {Line}");

        public double NumberOr(string key, double fallback) =>
            values.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : fallback;
    }
}
