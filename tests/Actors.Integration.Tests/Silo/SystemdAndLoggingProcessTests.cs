using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Actors.Integration.Tests.Processes;
using Actors.Testing;

namespace Actors.Integration.Tests.Silo;

/// <summary>The silo as systemd runs it: with <c>Type=notify</c> it sends READY=1 on the notify socket once it serves,
/// and on SIGTERM STOPPING=1, then shuts down gracefully and exits 0. With <c>--log-format json</c> every console
/// line is a JSON object with a UTC timestamp.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SystemdAndLoggingProcessTests
{
    [Fact]
    public async Task Under_systemd_the_silo_notifies_ready_and_stopping_and_logs_json_lines()
    {
        using var folder = new TempDirectory("systemd-notify");
        var socketPath = folder.File("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        var ports = Ports.GetFreeTcpPorts(4);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var silo = Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll");
        var args = string.Join(' ', new[]
        {
            "--name", "notified", "--port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--kafka-port", Text(ports[2]),
            "--http-port", Text(ports[3]), "--data", folder.File("data"), "--log-format", "json",
        });

        // .NET's systemd integration treats the process as a systemd service when its parent process is named
        // "systemd" (the name of the executable the parent runs); NOTIFY_SOCKET is where Type=notify listens. The parent
        // here is /bin/sh started through a link named systemd, and it waits for the silo as systemd does.
        var systemd = folder.File("systemd");
        File.CreateSymbolicLink(systemd, "/bin/sh");
        var pidFile = folder.File("silo.pid");
        var info = new ProcessStartInfo(systemd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"\"{dotnet}\" \"{silo}\" {args} & echo $! > \"{pidFile}\"; wait $!; exit $?");
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        var lines = new List<string>();
        var siloPid = -1;
        using var process = Process.Start(info)!;
        try
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lines) { lines.Add(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (lines) { lines.Add("stderr: " + e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            string Output() { lock (lines) { return string.Join(Environment.NewLine, lines.TakeLast(30)); } }

            var ready = await ReceiveAsync(notify, "READY=1", TimeSpan.FromSeconds(120), Output);
            Assert.Contains("READY=1", ready, StringComparison.Ordinal);
            Assert.True(await Ports.AcceptsConnectionsAsync(ports[2]), $"the Kafka port should accept connections once systemd is told READY=1{Environment.NewLine}{Output()}");

            await Wait.UntilAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), TimeSpan.FromSeconds(10), "the silo's pid file");
            siloPid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Text(siloPid)]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync();
            }

            var stopping = await ReceiveAsync(notify, "STOPPING=1", TimeSpan.FromSeconds(60), Output);
            Assert.Contains("STOPPING=1", stopping, StringComparison.Ordinal);
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(exited.Token);
            Assert.True(process.ExitCode == 0, $"a SIGTERMed silo should exit 0; it exited {process.ExitCode}{Environment.NewLine}{Output()}");

            string[] logged;
            lock (lines)
            {
                logged = [.. lines];
            }

            Assert.NotEmpty(logged);
            foreach (var line in logged)
            {
                using var json = JsonDocument.Parse(line); // every line is one JSON object
                var timestamp = json.RootElement.GetProperty("Timestamp").GetString()!;
                Assert.True(DateTimeOffset.TryParseExact(timestamp, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
                    $"timestamp '{timestamp}' should be UTC ISO 8601: {line}");
                Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
                Assert.True(json.RootElement.TryGetProperty("Category", out _), line);
            }

            Assert.True(logged.Any(l => l.Contains("Silo notified started at", StringComparison.Ordinal)), $"the silo should log that it started:{Environment.NewLine}{string.Join(Environment.NewLine, logged)}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            if (siloPid > 0)
            {
                try
                {
                    using var orphan = Process.GetProcessById(siloPid);
                    orphan.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Datagrams on the notify socket until one contains <paramref name="expected"/>.</summary>
    private static async Task<string> ReceiveAsync(Socket socket, string expected, TimeSpan timeout, Func<string> output)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                var message = Encoding.UTF8.GetString(buffer, 0, received);
                seen.Append(message).Append(" | ");
                if (message.Contains(expected, StringComparison.Ordinal))
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No {expected} on the notify socket within {timeout.TotalSeconds:0} s; received: {seen}{Environment.NewLine}{output()}");
        }
    }
}
