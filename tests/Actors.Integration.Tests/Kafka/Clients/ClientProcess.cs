using System.Diagnostics;

namespace Actors.Integration.Tests.Kafka.Clients;

/// <summary>Runs a client program of another language (node, python, kcat) to its end, with a deadline; the process
/// and its children are killed by id when the deadline passes.</summary>
internal static class ClientProcess
{
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
        string file, IEnumerable<string> args, TimeSpan deadline, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} (pid {process.Id}) did not finish within {deadline.TotalSeconds:0} s; its errors so far: {await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
