using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Cli.Tests;

/// <summary>
/// The README's quick start, run exactly as written: the silo command of its set-up and every line of its
/// walkthrough block, from the repository root as the README says, in a network namespace of their own (so port
/// 9092, which the README uses, is free) whose mount namespace has a scratch folder bound over <c>./data</c> (so
/// the silo's files are the test's, and a developer's own <c>./data</c> is left alone). Each command's output is
/// checked against what the README says it shows, so the README cannot rot.
/// </summary>
public sealed class ReadmeWalkthroughTests(ITestOutputHelper output)
{
    private const string SiloMarker = "<!-- walkthrough: silo -->";
    private const string WalkthroughMarker = "<!-- walkthrough: the test ReadmeWalkthroughTests";

    [NetworkNamespaceFact]
    public async Task The_readme_quick_start_works_as_written()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md"));
        var siloCommand = Assert.Single(Block(readme, SiloMarker));
        var lines = Block(readme, WalkthroughMarker);
        Assert.Equal("export PATH=\"$PWD/bin:$PATH\"", lines[0]);

        using var scratch = new TempDirectory("readme");
        var root = RepositoryRoot.Path;
        await using var network = await NetworkNamespace.CreateAsync("actors-readme");
        var log = new StringBuilder();
        // ip netns exec gives the command a mount namespace of its own: the bind mount is seen by the silo only.
        using var silo = Process.Start(network.Bash($"mkdir -p data && mount --bind '{scratch.Path}' data && {siloCommand}", root))!;
        void Append(string? line)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }

        silo.OutputDataReceived += (_, e) => Append(e.Data);
        silo.ErrorDataReceived += (_, e) => Append(e.Data);
        silo.BeginOutputReadLine();
        silo.BeginErrorReadLine();
        try
        {
            // The README's silo command builds (if needed) and starts the silo; wait for its Kafka port to answer.
            var path = $"{Path.Combine(root, "bin")}:{Environment.GetEnvironmentVariable("PATH")}";
            await Wait.UntilAsync(async () => (await RunAsync(network, "actors topics --list", root, path)).Exit == 0,
                TimeSpan.FromSeconds(240), "the README's silo to answer on 127.0.0.1:9092", () => Tail(log));

            var runs = new List<Run>();
            foreach (var line in lines.Skip(1))
            {
                var run = await RunAsync(network, line, root, path);
                output.WriteLine($"$ {line}\n{run.Out}{run.Error}(exit {run.Exit})");
                Assert.True(run.Exit == 0, $"{line}\n{run}\nsilo:\n{Tail(log)}");
                runs.Add(run);
            }

            Check(lines.Skip(1).ToArray(), runs);

            // The README's address of the web console: the silo's HTTP port, 8080 by default.
            var console = await RunAsync(network, "curl -sS --fail http://127.0.0.1:8080/console/api/topics", root, path);
            Assert.True(console.Exit == 0 && console.Out.Contains("\"name\":\"test\"", StringComparison.Ordinal),
                $"the README's console address should list topic test\n{console}\nsilo:\n{Tail(log)}");
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
    }

    /// <summary>What each walkthrough line shows, as the README describes it.</summary>
    private static void Check(string[] lines, List<Run> runs)
    {
        int At(string command, int occurrence = 0) =>
            lines.Select((l, i) => (l, i)).Where(x => x.l.Contains(command, StringComparison.Ordinal)).Select(x => x.i).ElementAt(occurrence);

        Assert.Equal("Created topic test.\n", runs[At("topics --create")].Out);
        Assert.Matches(@"^Topic: test\tTopicId: \S+\tPartitionCount: 3\tReplicationFactor: 1\t", runs[At("topics --describe")].Out);

        var firstWords = new[] { "one", "two", "three", "four", "five", "six" };
        Assert.Equal(firstWords.Order(), runs[At("--from-beginning --max-messages 6")].OutLines.Order());
        Assert.Equal(firstWords.Order(), runs[At("-group testgroup")].OutLines.Order());
        Assert.Contains("testgroup", runs[At("consumer-groups --list")].OutLines);

        // The README's keys put two lines in each partition, so the group has committed an offset for each.
        var consumed = Rows(runs[At("--describe --group testgroup", 0)]);
        Assert.Equal([0, 1, 2], consumed.Select(r => r.Partition));
        Assert.All(consumed, r => Assert.Equal(2, r.End));
        Assert.Equal(6, consumed.Sum(r => r.End));
        Assert.All(consumed, r => Assert.Equal((r.End, 0L), (r.Current, r.Lag)));

        var behind = Rows(runs[At("--describe --group testgroup", 1)]);
        Assert.Equal(2, behind.Sum(r => r.Lag));
        Assert.Equal(8, behind.Sum(r => r.End));

        var earliest = NewOffsets(runs[At("--to-earliest --execute")]);
        Assert.Equal([(0, 0L), (1, 0L), (2, 0L)], earliest);
        Assert.Equal((1, 2L), Assert.Single(NewOffsets(runs[At("test:1 --reset-offsets --to-offset 2")])));

        var reset = Rows(runs[At("--describe --group testgroup", 2)]);
        Assert.Equal([0, 1, 2], reset.Select(r => r.Partition));
        Assert.All(reset, r => Assert.Equal(r.Partition == 1 ? 2 : 0, r.Current));
        Assert.All(reset, r => Assert.Equal(r.End - r.Current, r.Lag));
    }

    private sealed record Row(int Partition, long Current, long End, long Lag);

    /// <summary>consumer-groups --describe: Kafka's columns, and the line saying the group has no active members.</summary>
    private static List<Row> Rows(Run run)
    {
        Assert.Contains("Consumer group 'testgroup' has no active members.", run.Error, StringComparison.Ordinal);
        var lines = run.OutLines;
        Assert.Equal(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"], Regex.Split(lines[0].Trim(), " +"));
        return lines.Skip(1).Select(l => Regex.Split(l.Trim(), " +")).Select(c => new Row(
            int.Parse(c[2], CultureInfo.InvariantCulture), Number(c[3]), Number(c[4]), Number(c[5]))).OrderBy(r => r.Partition).ToList();
    }

    /// <summary>--reset-offsets: GROUP, TOPIC, PARTITION, NEW-OFFSET.</summary>
    private static List<(int Partition, long Offset)> NewOffsets(Run run)
    {
        var lines = run.OutLines;
        Assert.Equal(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], Regex.Split(lines[0].Trim(), " +"));
        return lines.Skip(1).Select(l => Regex.Split(l.Trim(), " +"))
            .Select(c => (int.Parse(c[2], CultureInfo.InvariantCulture), Number(c[3]))).OrderBy(r => r.Item1).ToList();
    }

    private static long Number(string cell) => cell == "-" ? -1 : long.Parse(cell, CultureInfo.InvariantCulture);

    /// <summary>The lines of the first sh block after <paramref name="marker"/>.</summary>
    private static string[] Block(string readme, string marker)
    {
        var at = readme.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no '{marker}' block");
        var start = readme.IndexOf("```sh\n", at, StringComparison.Ordinal) + "```sh\n".Length;
        var end = readme.IndexOf("```", start, StringComparison.Ordinal);
        return readme[start..end].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static async Task<Run> RunAsync(NetworkNamespace network, string line, string folder, string path)
    {
        var start = network.Bash(line, folder);
        start.Environment["PATH"] = path;
        start.Environment["PWD"] = folder;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{line}' did not finish within 3 minutes:\n{await stdout}{await stderr}");
        }

        return new Run(process.ExitCode, (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal), await stderr);
    }

    private static string Tail(StringBuilder log)
    {
        lock (log)
        {
            var text = log.ToString();
            return text.Length > 4000 ? text[^4000..] : text;
        }
    }

    private sealed record Run(int Exit, string Out, string Error)
    {
        public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"exit {Exit}\nstdout:\n{Out}stderr:\n{Error}";
    }
}

/// <summary>A test that needs a network namespace of its own: skipped, with the reason, where none can be made.</summary>
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (NetworkNamespace.Unavailable is { } why)
        {
            Skip = why;
        }
    }
}
