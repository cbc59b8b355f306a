using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Actors.Testing;

/// <summary>
/// One real Actors.Silo process (the executable built next to the tests) on loopback, with its own data folder and
/// free ports. <see cref="Kill"/> is SIGKILL: no shutdown code runs. <see cref="Freeze"/>/<see cref="Thaw"/> are
/// SIGSTOP/SIGCONT. Output is kept (the last 200 lines) for failure messages. Given a network namespace, the silo
/// runs inside it (<c>ip netns exec</c>, which execs the silo: the process id is the silo's) at <paramref name="host"/>.
/// </summary>
internal sealed class BrokerProcess(string name, string folder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> extraArgs, Action<string> log,
    string host = "127.0.0.1", string? networkNamespace = null)
    : IDisposable
{
    private readonly ConcurrentQueue<string> lines = new();
    private readonly ConcurrentQueue<string> everything = new();
    private Process? process;

    public string Name { get; } = name;

    /// <summary>The address the silo binds and advertises, and clients reach its ports at.</summary>
    public string Host { get; } = host;

    /// <summary>The silo's Kafka listener as a bootstrap server.</summary>
    public string Bootstrap => $"{Host}:{KafkaPort}";

    public int SiloPort { get; private set; }

    public int GatewayPort { get; private set; }

    /// <summary>The port of the silo's Kafka listener (a free one per start, so silos on one machine do not collide on 9092).</summary>
    public int KafkaPort { get; private set; }

    /// <summary>A second free port for a second Kafka listener: "{kafka-port-2}" in an environment value stands for it.</summary>
    public int KafkaPort2 { get; private set; }

    /// <summary>The port of the silo's HTTP host (/health, /metrics and the web console): a free one per start; the default 8080 would collide.</summary>
    public int HttpPort { get; private set; }

    public int Pid => process?.Id ?? -1;

    public bool Running => process is { HasExited: false };

    /// <summary>Starts the silo on new free ports (a restart is a new incarnation on new ports, same name and folder).</summary>
    public void Start()
    {
        var ports = Ports.GetFreeTcpPorts(5);
        SiloPort = ports[0];
        GatewayPort = ports[1];
        KafkaPort = ports[2];
        HttpPort = ports[3];
        KafkaPort2 = ports[4];
        Launch();
    }

    /// <summary>Starts the silo again on the ports of its last start, as a service restarted on its host keeps its
    /// address: Kafka clients that know the cluster only by its bootstrap list and the addresses in metadata find it
    /// again after every silo has restarted. The ports were closed when the last process died (SIGKILL closes them at
    /// once); a process of another test could take one meanwhile, and the silo then fails to start, which the
    /// caller's wait for "Active" reports.</summary>
    public void Restart()
    {
        if (SiloPort == 0)
        {
            throw new InvalidOperationException($"{Name} was never started; call Start first.");
        }

        Launch();
    }

    private void Launch()
    {
        var silo = Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll");
        if (!File.Exists(silo))
        {
            throw new FileNotFoundException($"The silo executable {silo} was not built next to the tests.");
        }

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnetHost ? dotnetHost : "dotnet";
        var info = new ProcessStartInfo(networkNamespace is null ? dotnet : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (networkNamespace is not null)
        {
            foreach (var arg in new[] { "netns", "exec", networkNamespace, dotnet })
            {
                info.ArgumentList.Add(arg);
            }
        }

        info.ArgumentList.Add(silo);
        foreach (var arg in new[]
        {
            "--name", Name, "--host", Host,
            "--port", SiloPort.ToString(CultureInfo.InvariantCulture), "--gateway-port", GatewayPort.ToString(CultureInfo.InvariantCulture),
            "--kafka-port", KafkaPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", HttpPort.ToString(CultureInfo.InvariantCulture),
            "--data", Path.Combine(folder, Name),
        }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Actors.Silo"] = "Information";
        foreach (var (key, value) in environment)
        {
            // "{kafka-port}" stands for the Kafka port this start picked (e.g. in a listeners string).
            info.Environment[key] = value
                .Replace("{kafka-port}", KafkaPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{kafka-port-2}", KafkaPort2.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {silo}.");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log($"started {Name} pid {process.Id} silo port {SiloPort} gateway port {GatewayPort} kafka port {KafkaPort} http port {HttpPort}");
    }

    /// <summary>True once the silo logged that it is Active.</summary>
    public bool Started => lines.Any(l => l.Contains($"Silo {Name} started at", StringComparison.Ordinal));

    /// <summary>SIGKILL (no goodbye); returns once the process is reaped.</summary>
    public void Kill()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    /// <summary>SIGTERM, as systemd stops a service (the silo shuts down in order: leadership moves first); returns
    /// once the process has exited, or throws naming the silo if it has not within <paramref name="timeout"/>.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (process is not { HasExited: false } running)
        {
            return;
        }

        Signal("TERM");
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await running.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} (pid {running.Id}) did not exit within {timeout.TotalSeconds:0} s of SIGTERM.{Environment.NewLine}{Tail()}");
        }
    }

    /// <summary>SIGSTOP: the process stays, its sockets stay open, and it answers nothing.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT.</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>The lines of output (all of them, from every start) that contain <paramref name="text"/>.</summary>
    public string[] Logged(string text) => everything.Where(l => l.Contains(text, StringComparison.Ordinal)).ToArray();

    /// <summary>How many lines of output there are so far.</summary>
    public int LineCount => everything.Count;

    /// <summary>The last 20 lines of output without stack frames ("at ..."), so a long trace does not hide the log
    /// lines and exception messages before it.</summary>
    public string Tail() =>
        $"--- {Name} (pid {Pid}) ---{Environment.NewLine}{string.Join(Environment.NewLine, lines.Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).TakeLast(20))}";

    public void Dispose()
    {
        if (process is { HasExited: false })
        {
            Signal("CONT");
        }

        Kill();
        process?.Dispose();
    }

    private void Signal(string signal)
    {
        if (process is not { HasExited: false })
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("Could not run kill.");
        kill.WaitForExit();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lines.Enqueue(line);
        everything.Enqueue(line);
        while (lines.Count > 200)
        {
            lines.TryDequeue(out _);
        }
    }
}
