using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Testing;

namespace Actors.Bench;

public interface IBenchEchoGrain : IGrainWithStringKey
{
    Task<int> Ping(int value);

    Task<int> Push(byte[] payload);

    /// <summary>Calls <paramref name="targetKey"/> <paramref name="count"/> times in a row from this grain;
    /// returns each round trip in microseconds.</summary>
    Task<double[]> MeasureCalls(string targetKey, int count);
}

public sealed class BenchEchoGrain : Grain, IBenchEchoGrain
{
    public Task<int> Ping(int value) => Task.FromResult(value + 1);

    public Task<int> Push(byte[] payload) => Task.FromResult(payload.Length);

    public async Task<double[]> MeasureCalls(string targetKey, int count)
    {
        var target = GrainFactory.GetGrain<IBenchEchoGrain>(targetKey);
        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await target.Ping(i);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        return latencies;
    }
}

/// <summary>
/// Two silos on loopback: the round trip of a cross-silo call with a small argument (p50, p99; made by a
/// grain on one silo to a grain on the other, and also from non-grain code on the silo), calls/s
/// with many calls in flight, and MB/s moving 16 KiB byte[] payloads, beside a plain socket pair on the
/// same loopback measured in the same run (round trip of a small message and streaming throughput).
/// </summary>
public sealed class RuntimeBenchmark : IBenchmarkSuite
{
    private const int PayloadBytes = 16 * 1024;

    public string Name => "runtime";

    public string Description => "cross-silo call latency, calls/s in flight, 16 KiB payload MB/s vs loopback TCP";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        await using var cluster = new TestClusterBuilder(2) { Options = { StartClient = false } }.Build();
        await cluster.DeployAsync(cancellationToken);
        await cluster.WaitForLivenessToStabilizeAsync();
        var caller = cluster.Silos[0];
        var target = cluster.Silos[1];
        var grains = await GrainsOnAsync(cluster, caller, target, 64);

        // Latency: one call at a time.
        var one = grains[0];
        for (var i = 0; i < 5000; i++)
        {
            await one.Ping(i);
        }

        var latencies = new List<double>(50_000);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed.TotalSeconds < seconds && !cancellationToken.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            await one.Ping(1);
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        // The same call made by a grain on the caller silo (grain-to-grain, the common case).
        var driver = (await GrainsOnAsync(cluster, caller, caller, 1))[0];
        await driver.MeasureCalls(one.GetPrimaryKeyString(), 5000);
        var fromGrain = new List<double>();
        stopwatch.Restart();
        while (stopwatch.Elapsed.TotalSeconds < seconds && !cancellationToken.IsCancellationRequested)
        {
            fromGrain.AddRange(await driver.MeasureCalls(one.GetPrimaryKeyString(), 2000));
        }

        var (socketP50, socketP99) = await SocketRoundTripAsync(seconds, cancellationToken);
        latencies.Sort();
        fromGrain.Sort();
        Print("call-p50", Percentile(fromGrain, 0.50), "us");
        Print("call-p99", Percentile(fromGrain, 0.99), "us");
        Print("call-from-outside-grain-p50", Percentile(latencies, 0.50), "us");
        Print("call-from-outside-grain-p99", Percentile(latencies, 0.99), "us");
        Print("socket-rtt-p50", socketP50, "us");
        Print("socket-rtt-p99", socketP99, "us");

        // Throughput: many calls in flight over 64 activations.
        var calls = await InFlightAsync(seconds, 512, i => grains[i % grains.Length].Ping(i), cancellationToken);
        Print("calls-per-s", calls, "calls/s");

        // 16 KiB payloads, many in flight, each run beside a plain-socket run; this machine is noisy, so three
        // pairs are measured and the pair with the median ratio is reported.
        var payload = new byte[PayloadBytes];
        new Random(7).NextBytes(payload);
        var pairs = new List<(double Value, double Limit)>();
        for (var run = 0; run < 3; run++)
        {
            var pushes = await InFlightAsync(seconds, 64, i => grains[i % grains.Length].Push(payload), cancellationToken);
            var limit = await SocketThroughputAsync(seconds, cancellationToken);
            pairs.Add((pushes * PayloadBytes / 1e6, limit));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# payload-16k run {run}: actors {pairs[^1].Value:F1} MB/s, socket {limit:F1} MB/s"));
        }

        var (megabytesPerSecond, socketLimit) = pairs.OrderBy(p => p.Value / p.Limit).ElementAt(1);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"runtime payload-16k value={megabytesPerSecond:F1} unit=MB/s limit={socketLimit:F1} ratio={megabytesPerSecond / socketLimit:F3}"));
    }

    private static void Print(string figure, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"runtime {figure} value={value:F1} unit={unit}"));

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, p * sorted.Count)];

    private static async Task<IBenchEchoGrain[]> GrainsOnAsync(TestCluster cluster, SiloHandle caller, SiloHandle target, int count)
    {
        var result = new List<IBenchEchoGrain>();
        for (var i = 0; result.Count < count; i++)
        {
            var grain = caller.GrainFactory.GetGrain<IBenchEchoGrain>($"bench-{i}");
            await grain.Ping(0);
            if (target.Silo.HostsActivation(grain.GetGrainId()))
            {
                result.Add(grain);
            }
        }

        return result.ToArray();
    }

    /// <summary>Completed calls per second with <paramref name="concurrency"/> calls always in flight.</summary>
    private static async Task<double> InFlightAsync(double seconds, int concurrency, Func<int, Task<int>> call, CancellationToken cancellationToken)
    {
        long completed = 0;
        var stop = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, concurrency).Select(async w =>
        {
            var i = w;
            while (stop.Elapsed < deadline && !cancellationToken.IsCancellationRequested)
            {
                await call(i).ConfigureAwait(false);
                i += concurrency;
                Interlocked.Increment(ref completed);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return completed / stop.Elapsed.TotalSeconds;
    }

    /// <summary>Round trip of a 64-byte message over a plain loopback socket pair.</summary>
    private static async Task<(double P50, double P99)> SocketRoundTripAsync(double seconds, CancellationToken cancellationToken)
    {
        var (client, server) = await SocketPairAsync();
        using (client)
        using (server)
        {
            var echo = Task.Run(async () =>
            {
                var buffer = new byte[64];
                while (true)
                {
                    var read = await ReceiveExactlyAsync(server, buffer);
                    if (!read)
                    {
                        return;
                    }

                    await server.SendAsync(buffer, SocketFlags.None);
                }
            });
            var message = new byte[64];
            var reply = new byte[64];
            var latencies = new List<double>();
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed.TotalSeconds < seconds && !cancellationToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                await client.SendAsync(message, SocketFlags.None);
                await ReceiveExactlyAsync(client, reply);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }

            client.Shutdown(SocketShutdown.Both);
            await echo;
            latencies.Sort();
            return (Percentile(latencies, 0.5), Percentile(latencies, 0.99));
        }
    }

    /// <summary>MB/s streaming 16 KiB writes one way over a plain loopback socket pair.</summary>
    private static async Task<double> SocketThroughputAsync(double seconds, CancellationToken cancellationToken)
    {
        var (client, server) = await SocketPairAsync();
        using (client)
        using (server)
        {
            long received = 0;
            var reader = Task.Run(async () =>
            {
                var buffer = new byte[256 * 1024];
                while (true)
                {
                    var n = await server.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0)
                    {
                        return;
                    }

                    received += n;
                }
            });
            var chunk = new byte[PayloadBytes];
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed.TotalSeconds < seconds && !cancellationToken.IsCancellationRequested)
            {
                await client.SendAsync(chunk, SocketFlags.None);
            }

            client.Shutdown(SocketShutdown.Send);
            await reader;
            return received / stopwatch.Elapsed.TotalSeconds / 1e6;
        }
    }

    private static async Task<bool> ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        var offset = 0;
        while (offset < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            offset += n;
        }

        return true;
    }

    private static async Task<(Socket Client, Socket Server)> SocketPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await accept;
        server.NoDelay = true;
        return (client, server);
    }
}
