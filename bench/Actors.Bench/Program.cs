using System.Reflection;

namespace Actors.Bench;

/// <summary>One benchmark suite, run as <c>dotnet run -c Release --project bench/Actors.Bench -- &lt;name&gt;</c>.
/// Each prints lines <c>&lt;suite&gt; &lt;figure&gt; value=&lt;v&gt; unit=&lt;u&gt; [limit=&lt;v&gt; ratio=&lt;v&gt;]</c>, the limit
/// being the peer or physical figure measured in the same run.</summary>
public interface IBenchmarkSuite
{
    string Name { get; }

    string Description { get; }

    Task RunAsync(string[] args, CancellationToken cancellationToken);
}

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var suites = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        if (args.Length == 0 || suites.All(s => s.Name != args[0]))
        {
            Console.Error.WriteLine("usage: Actors.Bench <suite> [options]; suites:");
            foreach (var s in suites)
            {
                Console.Error.WriteLine($"  {s.Name,-12} {s.Description}");
            }

            return 2;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        await suites.First(s => s.Name == args[0]).RunAsync(args[1..], cts.Token);

        // A suite that found damage (chaos) sets the exit code.
        return Environment.ExitCode;
    }
}
