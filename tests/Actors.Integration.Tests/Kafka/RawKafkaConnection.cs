using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Kafka.Protocol;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;
using KafkaMetadataResponse = Actors.Kafka.Protocol.MetadataResponse;

namespace Actors.Integration.Tests.Kafka;

/// <summary>A Kafka connection on a plain socket: requests written and responses parsed with the protocol layer,
/// every read bounded by a deadline.</summary>
internal sealed class RawKafkaConnection : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TcpClient client = new() { NoDelay = true };
    private int correlationId;

    private RawKafkaConnection()
    {
    }

    public static async Task<RawKafkaConnection> OpenAsync(int port)
    {
        var connection = new RawKafkaConnection();
        await connection.client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Deadline);
        return connection;
    }

    public async Task<ApiVersionsResponse> ApiVersionsAsync(short version) =>
        await ReceiveApiVersionsAsync(await SendApiVersionsAsync(version), version);

    public async Task<KafkaMetadataResponse> MetadataAsync(KafkaMetadataRequest request, short version) =>
        await ReceiveMetadataAsync(await SendMetadataAsync(request, version), version);

    /// <summary>Sends an ApiVersions request without waiting for its answer; returns its correlation id.</summary>
    public Task<int> SendApiVersionsAsync(short version) =>
        SendAsync(ApiKeys.ApiVersions, version, (ref KafkaWriter w) =>
            ApiVersionsCodec.WriteRequest(ref w, new ApiVersionsRequest { ClientSoftwareName = "raw-test", ClientSoftwareVersion = "1" }, version));

    /// <summary>Sends a Metadata request without waiting for its answer; returns its correlation id.</summary>
    public Task<int> SendMetadataAsync(KafkaMetadataRequest request, short version) =>
        SendAsync(ApiKeys.Metadata, version, (ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, request, version));

    public Task<ApiVersionsResponse> ReceiveApiVersionsAsync(int correlationId, short version) =>
        ReceiveAsync(correlationId, ApiKeys.ApiVersions, ApiVersionsCodec.ResponseVersion(version), (ref KafkaReader r, short v) => ApiVersionsCodec.ReadResponse(ref r, v));

    public Task<KafkaMetadataResponse> ReceiveMetadataAsync(int correlationId, short version) =>
        ReceiveAsync(correlationId, ApiKeys.Metadata, version, (ref KafkaReader r, short v) => MetadataCodec.ReadResponse(ref r, v));

    /// <summary>Sends a request header of <paramref name="version"/> with <paramref name="body"/> as its body, not encoded by any codec.</summary>
    public async Task<int> SendRawBodyAsync(KafkaApi api, short version, byte[] body)
    {
        return await SendAsync(api, version, (ref KafkaWriter w) =>
        {
            foreach (var b in body)
            {
                w.WriteInt8((sbyte)b);
            }
        });
    }

    /// <summary>Writes <paramref name="frame"/> as it is (size prefix included).</summary>
    public async Task SendBytesAsync(byte[] frame) => await client.GetStream().WriteAsync(frame).AsTask().WaitAsync(Deadline);

    public async Task<T> ReceiveAsync<T>(int expectedCorrelationId, KafkaApi api, short version, BodyReader<T> read)
    {
        var payload = await ReadFrameAsync() ?? throw new InvalidOperationException($"The broker closed the connection instead of answering {api.Key} v{version}.");
        var reader = new KafkaReader(payload);
        var header = ResponseHeader.Read(ref reader, api.ResponseHeaderVersion(version));
        Assert.Equal(expectedCorrelationId, header.CorrelationId);
        return read(ref reader, version);
    }

    /// <summary>True once the broker closed the connection (a read returns end of stream, or the socket is reset).</summary>
    public async Task<bool> ClosedByBrokerAsync()
    {
        try
        {
            return await ReadFrameAsync() is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public delegate T BodyReader<T>(ref KafkaReader reader, short version);

    public delegate void BodyWriter(ref KafkaWriter writer);

    private async Task<int> SendAsync(KafkaApi api, short version, BodyWriter body)
    {
        var id = ++correlationId;
        var payload = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(payload);
        new RequestHeader((short)api.Key, version, id, "raw-test").Write(ref writer, api.RequestHeaderVersion(version));
        body(ref writer);
        var frame = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteFrame(frame, payload.WrittenSpan);
        await SendBytesAsync(frame.WrittenSpan.ToArray());
        return id;
    }

    /// <summary>One response frame's payload, or null when the stream ended first.</summary>
    private async Task<byte[]?> ReadFrameAsync()
    {
        var stream = client.GetStream();
        var prefix = new byte[4];
        if (!await ReadExactlyOrEndAsync(stream, prefix))
        {
            return null;
        }

        var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        return await ReadExactlyOrEndAsync(stream, payload) ? payload : null;
    }

    private static async Task<bool> ReadExactlyOrEndAsync(NetworkStream stream, byte[] buffer)
    {
        var read = 0;
        using var timeout = new CancellationTokenSource(Deadline);
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public void Dispose() => client.Dispose();
}
