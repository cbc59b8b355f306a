using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Integration.Tests.Processes;
using Xunit.Abstractions;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>
/// Frames near the size limit, whole, on several connections at once: what they cost the listener in resident memory.
/// Each frame is an ApiVersions v0 header with 64 MiB of random bytes after it, refused once read (v0 has no body).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class KafkaListenerLargeFrameTests(SingleSiloKafkaFixture fixture, ITestOutputHelper output) : IClassFixture<SingleSiloKafkaFixture>
{
    private const int Connections = 8;
    private const int FrameBytes = 64 * 1024 * 1024;

    /// <summary>The listener holds at most queued.max.request.bytes (128 MiB by default) of requests across connections:
    /// the others wait, unread, until those are handled (a whole frame is buffered before it is parsed).</summary>
    [Fact]
    public async Task Large_frames_on_several_connections_stay_under_the_memory_bound()
    {
        var pid = fixture.Silo.Pid;
        var baseline = ProcessMemory.Rss(pid);
        var peak = baseline;
        using var done = new CancellationTokenSource();
        var sampling = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            try
            {
                while (await timer.WaitForNextTickAsync(done.Token))
                {
                    peak = Math.Max(peak, ProcessMemory.Rss(pid));
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }
        });
        var clock = Stopwatch.StartNew();

        var closed = await Task.WhenAll(Enumerable.Range(0, Connections).Select(i => SendLargeFrameAsync(fixture.Silo.KafkaPort, i)));

        await done.CancelAsync();
        await sampling;
        peak = Math.Max(peak, ProcessMemory.HighWaterMark(pid));
        var bound = baseline + KafkaFuzzRun.MemoryHeadroomBytes;
        output.WriteLine($"{Connections} frames of {FrameBytes / 1048576} MiB in {clock.Elapsed.TotalSeconds:0.0} s: baseline RSS {baseline / 1048576.0:0.0} MiB, "
            + $"peak {peak / 1048576.0:0.0} MiB, bound {bound / 1048576.0:0.0} MiB; closed by the listener {closed.Count(c => c)} of {Connections}");
        Assert.All(closed, Assert.True);
        Assert.True(fixture.Silo.Running, "the silo died");
        Assert.True(peak <= bound, $"peak resident memory {peak / 1048576.0:0.0} MiB is above baseline + {KafkaFuzzRun.MemoryHeadroomBytes / 1048576} MiB = {bound / 1048576.0:0.0} MiB");
    }

    /// <summary>Sends one whole large frame; true once the listener closes the connection (within 60 s).</summary>
    private static async Task<bool> SendLargeFrameAsync(int port, int seed)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
        byte[] head = [0, 0, 0, 0, 0, 18, 0, 0, 0, 0, 0, 1, 0, 1, (byte)'x'];
        BinaryPrimitives.WriteInt32BigEndian(head, FrameBytes);
        var chunk = new byte[1024 * 1024];
        new Random(seed).NextBytes(chunk);
        await socket.SendAsync(head, SocketFlags.None, deadline.Token);
        for (var left = FrameBytes - (head.Length - 4); left > 0; left -= chunk.Length)
        {
            await socket.SendAsync(chunk.AsMemory(0, Math.Min(left, chunk.Length)), SocketFlags.None, deadline.Token);
        }

        try
        {
            return await socket.ReceiveAsync(new byte[64], SocketFlags.None, deadline.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
