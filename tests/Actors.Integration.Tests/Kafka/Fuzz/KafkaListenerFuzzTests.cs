using System.Globalization;
using Actors.Integration.Tests.Processes;
using Actors.Testing;
using Actors.Kafka.Protocol;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>
/// Malformed and truncated requests of every family (<see cref="FuzzFamily"/>) and every API key in
/// <see cref="ApiKeys.All"/> (plus unknown ones) sent to one real silo's Kafka listener over many connections: no
/// crash, no hang, memory under a bound, every bad connection closed or answered, and a canary connection answered
/// correctly throughout. The seed is printed (and in every failure); <c>ACTORS_FUZZ_SEED</c> replays a run and
/// <c>ACTORS_FUZZ_REQUESTS</c> changes its size.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class KafkaListenerFuzzTests(SingleSiloKafkaFixture fixture, ITestOutputHelper output) : IClassFixture<SingleSiloKafkaFixture>
{
    /// <summary>Malformed requests in the default suite.</summary>
    public const int DefaultRequests = 100_000;

    [Fact]
    public async Task Malformed_requests_close_or_are_answered_without_harming_the_listener_or_other_connections() =>
        await KafkaFuzzRun.RunAsync(fixture.Silo, DefaultRequests, output);
}

/// <summary>The generator alone, without a silo.</summary>
public sealed class KafkaRequestFuzzerTests
{
    [Fact]
    public void A_seed_and_index_give_the_same_bytes_whatever_the_order()
    {
        var first = new KafkaRequestFuzzer(1234);
        var second = new KafkaRequestFuzzer(1234);

        var forward = Enumerable.Range(0, 2000).Select(first.Create).ToArray();
        var backward = Enumerable.Range(0, 2000).Reverse().Select(second.Create).Reverse().ToArray();

        Assert.All(forward.Zip(backward), p => Assert.Equal(p.First.Bytes, p.Second.Bytes));
        Assert.NotEqual(forward[0].Bytes, new KafkaRequestFuzzer(1235).Create(0).Bytes);
    }

    [Fact]
    public void Every_family_every_served_key_and_unknown_keys_and_versions_are_made()
    {
        var fuzzer = new KafkaRequestFuzzer(42);

        var cases = Enumerable.Range(0, 20_000).Select(fuzzer.Create).ToArray();

        Assert.Equal(Enum.GetValues<FuzzFamily>().Order(), cases.Select(c => c.Family).Distinct().Order());
        foreach (var api in ApiKeys.All)
        {
            Assert.Contains(cases, c => c.ApiKey == (short)api.Key && api.IsSupported(c.ApiVersion));
            Assert.Contains(cases, c => c.ApiKey == (short)api.Key && !api.IsSupported(c.ApiVersion) && c.ApiVersion < 0);
            Assert.Contains(cases, c => c.ApiKey == (short)api.Key && c.ApiVersion > api.MaxVersion);
        }

        Assert.Contains(cases, c => c.Family == FuzzFamily.UnknownKeyOrVersion && c.ApiKey < 0);
        Assert.Contains(cases, c => c.Walk(fuzzer.MaxFrameBytes).Ending == FrameEnding.Partial);
        Assert.Contains(cases, c => c.Walk(fuzzer.MaxFrameBytes).Ending == FrameEnding.RefusedSize);
    }
}

/// <summary>One fuzz run against a silo, with its assertions and printed figures.</summary>
internal static class KafkaFuzzRun
{
    /// <summary>Connections sending malformed requests at once.</summary>
    public const int Concurrency = 32;

    /// <summary>The listener process's peak resident memory may exceed its resident memory before the run by this
    /// much (the frames in flight are bounded: 32 connections, each at most a 1 MiB case plus two small requests).</summary>
    public const long MemoryHeadroomBytes = 256L * 1024 * 1024;

    public static async Task RunAsync(BrokerProcess silo, int defaultRequests, ITestOutputHelper output)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ACTORS_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        var requests = int.TryParse(Environment.GetEnvironmentVariable("ACTORS_FUZZ_REQUESTS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r)
            ? r
            : defaultRequests;
        output.WriteLine($"fuzzing the Kafka listener of {silo.Name} (pid {silo.Pid}, port {silo.KafkaPort}) with seed {seed}: {requests} malformed requests over {Concurrency} connections at a time; APIs [{string.Join(", ", ApiKeys.All.Select(a => $"{a.Key}={(short)a.Key} v{a.MinVersion}-{a.MaxVersion}"))}]");
        var closingsBefore = silo.Logged("Closing Kafka connection").Length;
        var driver = new KafkaFuzzDriver(new KafkaRequestFuzzer(seed), silo.KafkaPort, silo.Pid, output.WriteLine);

        var report = await driver.RunAsync(requests, Concurrency);

        foreach (var line in report.Lines())
        {
            output.WriteLine(line);
        }

        var bound = report.BaselineRssBytes + MemoryHeadroomBytes;
        output.WriteLine($"memory bound: baseline + {MemoryHeadroomBytes / 1048576} MiB = {bound / 1048576.0:0.0} MiB");
        output.WriteLine($"the silo logged {silo.Logged("Closing Kafka connection").Length - closingsBefore} closed connections; lines with 'Unhandled': {silo.Logged("Unhandled").Length}");
        foreach (var failure in report.CanaryFailures.Take(20))
        {
            output.WriteLine("canary failure: " + failure);
        }

        Assert.True(silo.Running, $"the silo process (pid {silo.Pid}) died during the fuzz (seed {seed}){Environment.NewLine}{silo.Tail()}");
        using (var after = await RawKafkaConnection.OpenAsync(silo.KafkaPort))
        {
            Assert.Equal(ErrorCode.None, (await after.ApiVersionsAsync(3)).ErrorCode);
            Assert.Contains((await after.MetadataAsync(new Actors.Kafka.Protocol.MetadataRequest { Topics = [] }, 12)).Brokers, b => b.Port == silo.KafkaPort);
        }

        Assert.True(report.FailureCount == 0, $"{report.FailureCount} cases failed (seed {seed}); the first:{Environment.NewLine}{string.Join(Environment.NewLine, report.Failures.Take(10))}");
        Assert.True(report.CanaryFailures.Count == 0, $"the canary connection failed {report.CanaryFailures.Count} times (seed {seed}): {string.Join("; ", report.CanaryFailures.Take(5))}");
        Assert.True(report.CanarySuccesses > 0, "the canary was never answered");
        Assert.Equal(requests, report.MalformedSent);
        Assert.Equal(report.MalformedSent, report.Outcomes);
        Assert.True(report.PeakHwmBytes <= bound && report.PeakRssBytes <= bound,
            $"the silo's peak resident memory {Math.Max(report.PeakHwmBytes, report.PeakRssBytes) / 1048576.0:0.0} MiB exceeded baseline + {MemoryHeadroomBytes / 1048576} MiB = {bound / 1048576.0:0.0} MiB (seed {seed})");
        Assert.All(ApiKeys.All, api => Assert.True(report.ServedKeys.GetValueOrDefault((short)api.Key) > 0, $"{api.Key} was never fuzzed"));
    }
}
