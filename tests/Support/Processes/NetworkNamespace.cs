using System.Diagnostics;

namespace Actors.Testing;

/// <summary>
/// A Linux network namespace the test creates (<c>ip netns add</c>) with only its loopback up, so a process run in
/// it can bind the well-known ports a document names (9092) without meeting anything else on the machine. Needs
/// root and iproute2; <see cref="Unavailable"/> says why not when they are missing. Disposing deletes it.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Null when namespaces can be made here; otherwise the reason.</summary>
    public static string? Unavailable { get; } = FindReason();

    public static async Task<NetworkNamespace> CreateAsync(string prefix)
    {
        var name = $"{prefix}-{Environment.ProcessId}-{Random.Shared.Next(1000, 9999)}";
        await RunAsync("ip", "netns", "add", name);
        var created = new NetworkNamespace(name);
        try
        {
            await RunAsync("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
        }
        catch
        {
            await created.DisposeAsync();
            throw;
        }

        return created;
    }

    /// <summary>A start description that runs <paramref name="bashCommand"/> with bash inside the namespace.</summary>
    public ProcessStartInfo Bash(string bashCommand, string workingDirectory)
    {
        var start = new ProcessStartInfo("ip")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "netns", "exec", Name, "bash", "-c", bashCommand })
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("ip", "netns", "delete", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    internal static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {(await error).Trim()}");
        }
    }

    private static string? FindReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root")
        {
            return "creating a network namespace needs root (ip netns add)";
        }

        var ip = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/sbin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(d => Path.Combine(d, "ip"))
            .FirstOrDefault(File.Exists);
        return ip is null ? "iproute2's ip command is not installed (apt-get install iproute2)" : null;
    }
}
