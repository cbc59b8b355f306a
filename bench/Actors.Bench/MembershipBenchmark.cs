using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Hosting;
using Actors.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Actors.Testing;

namespace Actors.Bench;

/// <summary>
/// Failure detection of the membership protocol with real processes: three silo processes share
/// one SQLite membership file; the suite SIGKILLs one, measures the time until every surviving
/// silo's view shows it Dead, restarts it, and repeats. Prints
/// <c>membership detect value=&lt;median ms&gt; unit=ms max=&lt;ms&gt; limit=&lt;ms&gt; ratio=&lt;x&gt;</c>,
/// where the limit is the median time until the killed silo's port refuses connections (the
/// earliest moment anyone could know), measured in the same run.
/// </summary>
/// <remarks>Options: <c>--kills N</c> (default 10). The child mode <c>--silo name siloPort gatewayPort db</c>
/// runs one silo with default membership options and prints its views to stdout.</remarks>
public sealed class MembershipBenchmark : IBenchmarkSuite
{
    public string Name => "membership";

    public string Description => "SIGKILL one of three silo processes on one SQLite file; time until every survivor sees it Dead (10 kills).";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length > 0 && args[0] == "--silo")
        {
            await RunSiloAsync(args[1..], cancellationToken);
            return;
        }

        var kills = 10;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--kills")
            {
                kills = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        var folder = Path.Combine(Path.GetTempPath(), $"actors-bench-membership-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var database = Path.Combine(folder, "cluster.db");
        var silos = Enumerable.Range(0, 3).Select(i => new SiloProcess($"silo{i}", TestCluster.GetFreePort(), TestCluster.GetFreePort(), database)).ToList();
        try
        {
            foreach (var silo in silos)
            {
                silo.Start();
            }

            await WaitForAllActiveAsync(silos, cancellationToken);
            var detections = new List<double>();
            var refusals = new List<double>();
            for (var kill = 0; kill < kills; kill++)
            {
                var victim = silos[kill % silos.Count];
                var survivors = silos.Where(s => s != victim).ToList();
                var victimAddress = victim.Address!;
                var killedAt = NowMs();
                victim.Kill();
                var refusedAt = await WaitForRefusalAsync(victim.SiloPort, cancellationToken);
                var seenDead = new List<long>();
                foreach (var survivor in survivors)
                {
                    seenDead.Add(await survivor.WaitForStatusAsync(victimAddress, SiloStatus.Dead, killedAt, TimeSpan.FromSeconds(60), cancellationToken));
                }

                var detection = seenDead.Max() - killedAt;
                detections.Add(detection);
                refusals.Add(refusedAt - killedAt);
                Console.WriteLine($"kill {kill + 1}: {victim.Name} {victimAddress} Dead in every view after {detection} ms (per survivor: {string.Join(", ", seenDead.Select(t => $"{t - killedAt} ms"))}; port refused after {refusedAt - killedAt} ms)");

                victim.Start();
                await WaitForAllActiveAsync(silos, cancellationToken);
            }

            var median = Median(detections);
            var limit = Math.Max(1, Median(refusals));
            Console.WriteLine(FormattableString.Invariant(
                $"membership detect value={median:F0} unit=ms max={detections.Max():F0} limit={limit:F0} ratio={median / limit:F1}"));
            var options = new ClusterMembershipOptions();
            Console.WriteLine(FormattableString.Invariant(
                $"membership options probe={options.ProbePeriod.TotalMilliseconds:F0}ms timeout={options.ProbeTimeout.TotalMilliseconds:F0}ms misses={options.NumMissedProbesLimit} refresh={options.TableRefreshPeriod.TotalMilliseconds:F0}ms protocol-floor={(options.NumMissedProbesLimit - 1) * options.ProbePeriod.TotalMilliseconds:F0}ms"));
        }
        finally
        {
            foreach (var silo in silos)
            {
                silo.Kill();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left under the temp folder.
            }
        }
    }

    private static async Task WaitForAllActiveAsync(List<SiloProcess> silos, CancellationToken cancellationToken)
    {
        foreach (var silo in silos)
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        var addresses = silos.Select(s => s.Address!).ToList();
        foreach (var observer in silos)
        {
            foreach (var address in addresses)
            {
                await observer.WaitForStatusAsync(address, SiloStatus.Active, 0, TimeSpan.FromSeconds(60), cancellationToken);
            }
        }
    }

    /// <summary>Connects to the port until the connection is refused; returns when (Unix ms).</summary>
    private static async Task<long> WaitForRefusalAsync(int port, CancellationToken cancellationToken)
    {
        var deadline = NowMs() + 30_000;
        while (NowMs() < deadline)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            }
            catch (SocketException)
            {
                return NowMs();
            }
        }

        throw new TimeoutException($"Port {port} still accepted connections 30 s after the kill.");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The child: one silo with SQLite clustering and default membership options; prints
    /// "ready &lt;address&gt;" once Active and "view &lt;unix ms&gt; &lt;address&gt;=&lt;status&gt;..." on every view.</summary>
    private static async Task RunSiloAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length != 4)
        {
            throw new ArgumentException("usage: membership --silo <name> <siloPort> <gatewayPort> <database file>");
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Actors:Silo:Name"] = args[0];
        builder.Configuration["Actors:Silo:SiloPort"] = args[1];
        builder.Configuration["Actors:Silo:GatewayPort"] = args[2];
        builder.Services.AddLogging();
        builder.UseActors(silo => silo.UseSqliteClustering(args[3]));
        using var host = builder.Build();
        var membership = host.Services.GetRequiredService<IClusterMembershipService>();
        membership.SnapshotChanged += view => Console.Out.WriteLine(FormatView(view));
        await host.StartAsync(cancellationToken);
        Console.Out.WriteLine($"ready {host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress}");
        Console.Out.WriteLine(FormatView(membership.CurrentSnapshot));
        await host.WaitForShutdownAsync(cancellationToken);
    }

    private static string FormatView(ClusterMembershipSnapshot view) =>
        $"view {NowMs()} " + string.Join(' ', view.Members.Values.Select(m => $"{m.Address}={m.Status}"));

    /// <summary>A silo child process and the views it printed.</summary>
    private sealed class SiloProcess(string name, int siloPort, int gatewayPort, string database)
    {
        private readonly Lock gate = new();
        private readonly List<(long Time, Dictionary<string, SiloStatus> View)> views = [];
        private Process? process;
        private TaskCompletionSource<string> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name { get; } = name;

        public int SiloPort { get; } = siloPort;

        public string? Address { get; private set; }

        public void Start()
        {
            lock (gate)
            {
                views.Clear();
            }

            ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var self = Environment.ProcessPath ?? "dotnet";
            var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                info.ArgumentList.Add(typeof(MembershipBenchmark).Assembly.Location);
            }

            foreach (var arg in new[] { "membership", "--silo", Name, SiloPort.ToString(CultureInfo.InvariantCulture), gatewayPort.ToString(CultureInfo.InvariantCulture), database })
            {
                info.ArgumentList.Add(arg);
            }

            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start silo {Name}.");
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 })
                {
                    Console.Error.WriteLine($"[{Name}] {e.Data}");
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public void Kill()
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }

        public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Address = await ready.Task.WaitAsync(timeout, cancellationToken);
        }

        /// <summary>Waits until a view printed at or after <paramref name="after"/> shows the silo with the status; returns that view's time.</summary>
        public async Task<long> WaitForStatusAsync(string silo, SiloStatus status, long after, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = NowMs() + (long)timeout.TotalMilliseconds;
            while (true)
            {
                lock (gate)
                {
                    foreach (var (time, view) in views)
                    {
                        if (time >= after && view.TryGetValue(silo, out var seen) && seen == status)
                        {
                            return time;
                        }
                    }
                }

                if (NowMs() > deadline)
                {
                    string last;
                    lock (gate)
                    {
                        last = views.Count == 0 ? "no view" : string.Join(' ', views[^1].View.Select(kv => $"{kv.Key}={kv.Value}"));
                    }

                    throw new TimeoutException($"Silo {Name} did not see {silo} {status} within {timeout}; its last view: {last}");
                }

                await Task.Delay(5, cancellationToken);
            }
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line.StartsWith("ready ", StringComparison.Ordinal))
            {
                ready.TrySetResult(line[6..].Trim());
            }
            else if (line.StartsWith("view ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var view = new Dictionary<string, SiloStatus>(StringComparer.Ordinal);
                foreach (var member in parts.Skip(2))
                {
                    var eq = member.LastIndexOf('=');
                    view[member[..eq]] = Enum.Parse<SiloStatus>(member[(eq + 1)..]);
                }

                lock (gate)
                {
                    views.Add((long.Parse(parts[1], CultureInfo.InvariantCulture), view));
                }
            }
        }
    }
}
