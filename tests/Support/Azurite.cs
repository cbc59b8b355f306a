using System.Diagnostics;
using System.Text;
using Xunit;

namespace Actors.Testing;

/// <summary>
/// An Azurite (Azure Storage emulator) process for the tests that share this fixture: blob, queue
/// and table services on free loopback ports, data in a temporary folder (on disk, not in memory).
/// </summary>
/// <remarks>
/// Azurite comes from <c>&lt;repo&gt;/tools/azurite</c>, installed by <c>tests/install-tools.sh</c>
/// (run here when missing, so <c>dotnet test</c> alone works). The process is stopped by its id,
/// with its process tree, at dispose. Tests that share one instance keep apart by using their own
/// table and container names.
/// </remarks>
public sealed class Azurite : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account key (public, documented by Microsoft).</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory location = new("azurite");
    private readonly StringBuilder log = new();
    private Process? process;
    private string script = string.Empty;

    public int BlobPort { get; private set; }

    public int QueuePort { get; private set; }

    public int TablePort { get; private set; }

    /// <summary>A full connection string for the devstoreaccount1 account on this instance's ports.</summary>
    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    /// <summary>A name unique to this run, usable as a table name (letters and digits, starts with a
    /// letter) and, lower-cased, as a container name.</summary>
    public static string UniqueName(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 32, 63)];

    public async Task InitializeAsync()
    {
        script = await EnsureInstalledAsync();
        var ports = Ports.GetFreeTcpPorts(3);
        (BlobPort, QueuePort, TablePort) = (ports[0], ports[1], ports[2]);
        await LaunchAsync();
    }

    /// <summary>Whether the Azurite process is running (false between <see cref="StopAsync"/> and <see cref="StartAsync"/>).</summary>
    public bool Running => process is { HasExited: false };

    /// <summary>Stops Azurite, by its id: SIGTERM so it saves its data to the location, SIGKILL if it has not exited
    /// within 10 s. The ports and the location are kept for <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("Could not run kill."))
            {
                await term.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        Append($"--- stopped (exit code {process.ExitCode}) ---");
        process.Dispose();
        process = null;
    }

    /// <summary>Starts Azurite again after <see cref="StopAsync"/>, on the same ports and the same location, so what
    /// was stored before is there again.</summary>
    public Task StartAsync()
    {
        if (Running)
        {
            throw new InvalidOperationException($"Azurite is already running (pid {process!.Id}).");
        }

        return LaunchAsync();
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            script,
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", location.Path,
            "--disableTelemetry", "--silent", "--skipApiVersionCheck", "--loose",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var started = Process.Start(info) ?? throw new InvalidOperationException($"Could not start node {script}.");
        process = started;
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();

        await Wait.UntilAsync(
            async () =>
            {
                if (started.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {started.ExitCode} before listening: {Log()}");
                }

                return await Ports.AcceptsConnectionsAsync(BlobPort)
                    && await Ports.AcceptsConnectionsAsync(QueuePort)
                    && await Ports.AcceptsConnectionsAsync(TablePort);
            },
            StartTimeout,
            $"Azurite (pid {started.Id}) to accept connections on 127.0.0.1 ports blob {BlobPort}, queue {QueuePort}, table {TablePort}",
            Log);
    }

    public async Task DisposeAsync()
    {
        if (process is not null)
        {
            try
            {
                if (!process.HasExited)
                {
                    // By id, with its children; never by name.
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            finally
            {
                process.Dispose();
            }
        }

        location.Dispose();
    }

    /// <summary>The path of Azurite's entry script, installing the pinned version first if it is missing.</summary>
    private static async Task<string> EnsureInstalledAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (File.Exists(script))
        {
            return script;
        }

        var installer = Path.Combine(RepositoryRoot.Path, "tests", "install-tools.sh");
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(installer);
        using var install = Process.Start(info) ?? throw new InvalidOperationException($"Could not run {installer}.");
        var stdout = install.StandardOutput.ReadToEndAsync();
        var stderr = install.StandardError.ReadToEndAsync();
        using (var deadline = new CancellationTokenSource(InstallTimeout))
        {
            try
            {
                await install.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                install.Kill(entireProcessTree: true);
                throw new TimeoutException($"Timed out after {InstallTimeout.TotalMinutes} min waiting for {installer} to install Azurite.");
            }
        }

        if (install.ExitCode != 0 || !File.Exists(script))
        {
            throw new InvalidOperationException(
                $"{installer} exited with {install.ExitCode} and {script} is {(File.Exists(script) ? "present" : "missing")}: {await stdout} {await stderr}");
        }

        return script;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private string Log()
    {
        lock (log)
        {
            return log.Length == 0 ? "(no output)" : log.ToString();
        }
    }
}
