using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Hosting;
using Actors.Testing;
using Actors.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Actors.Integration.Tests.Membership.MembershipTestSupport;

namespace Actors.Integration.Tests.Membership;

/// <summary>Three real Actors.Silo processes sharing one SQLite membership file, with default membership options.</summary>
public sealed class SiloProcessMembershipTests(ITestOutputHelper output) : IDisposable
{
    private const int Keys = 30;
    private readonly TempFolder folder = new("silo-processes");
    private readonly List<SiloProcess> silos = [];

    public void Dispose()
    {
        foreach (var silo in silos)
        {
            silo.Kill();
        }

        folder.Dispose();
    }

    [Fact]
    public async Task Survivors_declare_a_SIGKILLed_silo_Dead_within_ten_seconds_keep_serving_every_grain_and_the_restarted_silo_rejoins()
    {
        var database = folder.File("cluster.db");
        for (var i = 1; i <= 3; i++)
        {
            silos.Add(new SiloProcess($"silo{i}", TestCluster.GetFreePort(), TestCluster.GetFreePort(), folder, output));
        }

        foreach (var silo in silos)
        {
            silo.Start();
        }

        using var clientHost = await StartClientAsync(database);
        var client = clientHost.Services.GetRequiredService<IClusterClient>();
        await WaitForViewsAsync(client, silos, silos, "Active", TimeSpan.FromSeconds(60));
        var before = await PingAllAsync(client);
        output.WriteLine($"grains per silo before the kill: {string.Join(", ", before.GroupBy(p => p).Select(g => $"{g.Key}={g.Count()}"))}");

        var victim = silos[1];
        var survivors = silos.Where(s => s != victim).ToList();
        var victimAddress = await client.GetGrain<IMembershipViewGrain>($"view@{victim.Name}").GetSilo();
        var watch = Stopwatch.StartNew();
        victim.Kill();
        await WaitForViewsAsync(client, survivors, [victim], "Dead", TimeSpan.FromSeconds(10));
        output.WriteLine($"SIGKILL of {victim.Name} ({victimAddress}) -> Dead in both survivors' views after {watch.ElapsedMilliseconds} ms");

        var after = await PingAllAsync(client);
        Assert.DoesNotContain(victimAddress, after);

        victim.Start();
        await WaitForViewsAsync(client, silos, silos, "Active", TimeSpan.FromSeconds(60));
        var rejoined = await client.GetGrain<IMembershipViewGrain>($"view@{victim.Name}").GetSilo();
        var oldAddress = SiloAddress.Parse(victimAddress);
        var newAddress = SiloAddress.Parse(rejoined);
        output.WriteLine($"{victim.Name} rejoined as {newAddress}");
        Assert.True(newAddress.IsSameEndpoint(oldAddress));
        Assert.True(newAddress.Generation > oldAddress.Generation, $"{newAddress} is not a newer incarnation than {oldAddress}");
        var table = new SqliteMembershipTable(new SqliteClusteringOptions { DatabasePath = database });
        await table.InitializeMembershipTable(false);
        var data = await table.ReadAll();
        Assert.Equal(SiloStatus.Dead, data.Find(oldAddress)!.Entry.Status);
        Assert.Equal(SiloStatus.Active, data.Find(newAddress)!.Entry.Status);
        Assert.Equal(Keys, (await PingAllAsync(client)).Count);
    }

    private static async Task<IHost> StartClientAsync(string database)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseActorsClient(c => c.UseSqliteClustering(database));
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }

    /// <summary>Every key answers; returns the hosting silo of each.</summary>
    private static async Task<List<string>> PingAllAsync(IClusterClient client)
    {
        var hosts = new List<string>();
        for (var i = 0; i < Keys; i++)
        {
            hosts.Add(await client.GetGrain<IClusterPingGrain>($"key-{i}").Ping());
        }

        return hosts;
    }

    /// <summary>Polls each observer's view (through a grain pinned to it) until every target has the status.</summary>
    private static async Task WaitForViewsAsync(IClusterClient client, IReadOnlyList<SiloProcess> observers, IReadOnlyList<SiloProcess> targets, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = "nothing yet";
        while (true)
        {
            var done = true;
            foreach (var observer in observers)
            {
                foreach (var target in targets)
                {
                    string got;
                    try
                    {
                        got = await client.GetGrain<IMembershipViewGrain>($"view@{observer.Name}").GetStatus(target.Name);
                    }
                    catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
                    {
                        got = $"{ex.GetType().Name}: {ex.Message}";
                    }

                    if (got != status)
                    {
                        done = false;
                        seen = $"{observer.Name} sees {target.Name} as {got}";
                        break;
                    }
                }

                if (!done)
                {
                    break;
                }
            }

            if (done)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting for [{string.Join(", ", observers.Select(o => o.Name))}] to see [{string.Join(", ", targets.Select(t => t.Name))}] {status}; last: {seen}; logs:{Environment.NewLine}{string.Join(Environment.NewLine, observers.Select(o => o.Tail()))}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>One Actors.Silo process; restartable with the same name, ports and folders.</summary>
    private sealed class SiloProcess(string name, int siloPort, int gatewayPort, TempFolder folder, ITestOutputHelper output)
    {
        private readonly ConcurrentQueue<string> lines = new();
        private Process? process;

        public string Name { get; } = name;

        public void Start()
        {
            var silo = Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll");
            Assert.True(File.Exists(silo), $"The silo executable {silo} was not built next to the tests.");
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(silo);
            info.Environment["Actors__Silo__Name"] = Name;
            info.Environment["Actors__Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture);
            info.Environment["Actors__Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture);
            info.Environment["Actors__Silo__DataDirectory"] = folder.File(Name);
            info.Environment["Actors__Clustering__Sqlite__DatabasePath"] = folder.File("cluster.db");
            info.Environment["Actors__Storage__Default__DatabasePath"] = folder.File("grains.db");
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {silo}.");
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            output.WriteLine($"started {Name} pid {process.Id} silo port {siloPort} gateway port {gatewayPort}");
        }

        /// <summary>SIGKILL (no goodbye).</summary>
        public void Kill()
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }

        public string Tail() => $"--- {Name} ---{Environment.NewLine}{string.Join(Environment.NewLine, lines.TakeLast(20))}";

        private void Keep(string? line)
        {
            if (line is not null)
            {
                lines.Enqueue(line);
                while (lines.Count > 200)
                {
                    lines.TryDequeue(out _);
                }
            }
        }
    }
}
