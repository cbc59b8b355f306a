using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Kafka.Listener;
using Microsoft.Extensions.Logging.Abstractions;
using BrokerMetadataRequest = Actors.Broker.MetadataRequest;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;

namespace Actors.Kafka.Tests.Listener;

/// <summary>One <see cref="KafkaConnection"/> on a loopback socket pair, with a Metadata source the test holds.</summary>
public sealed class KafkaConnectionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task No_more_than_the_in_flight_bound_is_started_and_answers_come_in_request_order()
    {
        var release = new TaskCompletionSource<BrokerMetadataResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var handler = Handler(_ =>
        {
            Interlocked.Increment(ref started);
            return release.Task;
        });
        var (client, run) = await ConnectAsync(handler, maxInFlight: 2);
        using (client)
        {
            // Three Metadata requests (correlation ids 1 to 3), then an ApiVersions (4) that needs no controller.
            for (var id = 1; id <= 3; id++)
            {
                await client.GetStream().WriteAsync(Frame(ApiKeys.Metadata, 12, id, (ref KafkaWriter w) =>
                    MetadataCodec.WriteRequest(ref w, new MetadataRequest { Topics = [] }, 12)));
            }

            await client.GetStream().WriteAsync(Frame(ApiKeys.ApiVersions, 3, 4, (ref KafkaWriter w) =>
                ApiVersionsCodec.WriteRequest(ref w, new ApiVersionsRequest(), 3)));
            await WaitUntilAsync(() => Volatile.Read(ref started) == 2, "two Metadata requests started");

            Assert.False(client.GetStream().DataAvailable, "an answer was written before the first request was answered");
            Assert.Equal(2, Volatile.Read(ref started));
            release.SetResult(new BrokerMetadataResponse());

            var ids = new List<int>();
            for (var i = 0; i < 4; i++)
            {
                ids.Add(await ReadCorrelationIdAsync(client));
            }

            Assert.Equal(new[] { 1, 2, 3, 4 }, ids);
        }

        await run.WaitAsync(Deadline);
    }

    internal delegate void BodyWriter(ref KafkaWriter writer);

    /// <summary>A handler whose Metadata answers come from <paramref name="metadata"/>; no grain is called.</summary>
    internal static KafkaRequestHandler Handler(Func<BrokerMetadataRequest, Task<BrokerMetadataResponse>> metadata) =>
        new(new KafkaBroker(null!, "silo-1", 1, "127.0.0.1", 9092, "c", new ClusterView(metadata, TimeProvider.System),
            new KafkaListenerOptions(), TimeProvider.System, NullLogger.Instance));

    internal static async Task<(TcpClient Client, Task Run)> ConnectAsync(KafkaRequestHandler handler, int maxInFlight, Actors.Kafka.Security.ConnectionSession? session = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(Deadline);
        var server = await listener.AcceptSocketAsync().WaitAsync(Deadline);
        var connection = new KafkaConnection(server, handler, new KafkaFrameReader(), maxInFlight, NullLogger.Instance, session: session);
        return (client, Task.Run(() => connection.RunAsync(CancellationToken.None)));
    }

    internal static byte[] Frame(KafkaApi api, short version, int correlationId, BodyWriter body)
    {
        var payload = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(payload);
        new RequestHeader((short)api.Key, version, correlationId, "test").Write(ref writer, api.RequestHeaderVersion(version));
        body(ref writer);
        var frame = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteFrame(frame, payload.WrittenSpan);
        return frame.WrittenSpan.ToArray();
    }

    internal static async Task<int> ReadCorrelationIdAsync(TcpClient client)
    {
        var prefix = new byte[4];
        await client.GetStream().ReadExactlyAsync(prefix).AsTask().WaitAsync(Deadline);
        var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        await client.GetStream().ReadExactlyAsync(payload).AsTask().WaitAsync(Deadline);
        return BinaryPrimitives.ReadInt32BigEndian(payload);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
