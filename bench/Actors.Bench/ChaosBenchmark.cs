using System.Globalization;
using Actors.Chaos.Tests;
using Actors.Testing;

namespace Actors.Bench;

/// <summary>
/// <c>chaos &lt;faults&gt; [--seed S] [--kill W] [--pause W] [--freeze W]</c>: the chaos run of the default tests
/// (<see cref="ChaosRun"/>: three real silo processes, idempotent acks=all producers on an RF 3, min.insync.replicas 2
/// topic of 6 partitions, a committing consumer group, a history checked at the end) with as many faults as asked, of
/// every kind by default: SIGKILL and restart, SIGSTOP of a leader shorter than failure detection, SIGSTOP past failure
/// detection (weights 4, 4, 2). Prints the seed and each fault as it goes, then one line
/// <c>chaos faults=… seed=… acknowledged=… lost=… duplicates=… …</c>; on damage, the first findings and the history
/// file, and exits non-zero.
/// </summary>
public sealed class ChaosBenchmark : IBenchmarkSuite
{
    public string Name => "chaos";

    public string Description => "chaos <faults> [--seed S]: faults on 3 silo processes under idempotent producers and a consumer group; prints acknowledged, lost, duplicates";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || !int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var faults) || faults < 1)
        {
            throw new ArgumentException($"chaos needs a fault count first, e.g. 'chaos 100'; got '{string.Join(' ', args)}'.");
        }

        var seed = BenchArgs.Int(args, "--seed", Random.Shared.Next());
        var weights = new Dictionary<FaultKind, int>
        {
            [FaultKind.Kill] = BenchArgs.Int(args, "--kill", 4),
            [FaultKind.Pause] = BenchArgs.Int(args, "--pause", 4),
            [FaultKind.Freeze] = BenchArgs.Int(args, "--freeze", 2),
            [FaultKind.Partition] = BenchArgs.Int(args, "--partition", SiloNetwork.Unavailable is null ? 2 : 0),
        };
        if (weights.Values.Any(w => w < 0) || weights.Values.Sum() == 0)
        {
            throw new ArgumentException("--kill, --pause, --freeze and --partition are weights: none negative, at least one above 0.");
        }

        if (weights[FaultKind.Partition] > 0 && SiloNetwork.Unavailable is { } reason)
        {
            throw new ArgumentException($"--partition needs each silo in a network namespace of its own, which cannot be made here: {reason}. Run with --partition 0.");
        }

        if (weights[FaultKind.Partition] == 0)
        {
            Console.WriteLine($"chaos: no network partitions ({SiloNetwork.Unavailable ?? "--partition 0"})");
        }

        var report = await ChaosRun.RunAsync(new ChaosOptions { Seed = seed, Faults = faults, Weights = weights }, Console.WriteLine);
        Console.WriteLine(report.Line);
        if (!report.Clean)
        {
            Console.WriteLine($"damage with seed {seed} (replay: chaos {faults} --seed {seed}), history {report.HistoryPath}: {report.Result}");
            foreach (var fatal in report.FatalErrors)
            {
                Console.WriteLine($"fatal producer error: {fatal}");
            }

            Environment.ExitCode = 1;
            return;
        }

        File.Delete(report.HistoryPath);
    }
}
