using System.CommandLine;

namespace Actors.Cli;

/// <summary>The <c>actors</c> tool: Kafka's command-line scripts for any Kafka-compatible cluster.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C stops the command cleanly (a consumer commits and leaves); a second one kills.
            if (!interrupted.IsCancellationRequested)
            {
                e.Cancel = true;
                interrupted.Cancel();
            }
        };
        return Run(args, Console.In, Console.Out, Console.Error, interrupted.Token);
    }

    /// <summary>Runs one command line with the given streams and returns its exit code: 0 done, 1 the command
    /// failed (one line on <paramref name="stderr"/> says what to do), 2 the command line itself is wrong.</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        RunAsync(args, stdin, stdout, stderr, cancellation).GetAwaiter().GetResult();

    /// <inheritdoc cref="Run"/>
    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var io = new CliIo(stdin, stdout, stderr, cancellation);
        var root = Commands.Build(io);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            var name = command is RootCommand ? "actors" : $"actors {command.Name}";
            await stderr.WriteLineAsync($"Error: {parsed.Errors[0].Message.TrimEnd('.')}. See the flags with: {name} --help");
            return ExitCodes.Usage;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellation);
        }
        catch (CliException e)
        {
            await stderr.WriteLineAsync($"Error: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is Confluent.Kafka.KafkaException or TimeoutException)
        {
            await stderr.WriteLineAsync($"Error: {Errors.Describe(e)}");
            return ExitCodes.Failed;
        }
        catch (ArgumentException e)
        {
            // A client setting the Kafka client rejects (from --producer-property, --consumer-property, a config file).
            await stderr.WriteLineAsync($"Error: {e.Message.Split('\n')[0]} Check the client settings passed with --*-property or a config file.");
            return ExitCodes.Usage;
        }
    }
}

/// <summary>The exit codes of every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}

/// <summary>The streams a command reads and writes, and the token that interrupts it.</summary>
internal sealed record CliIo(TextReader In, TextWriter Out, TextWriter Error, CancellationToken Cancellation);

/// <summary>A failure the user can act on: its message is one line that says what to do.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
