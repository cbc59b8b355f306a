using System.Buffers.Binary;
using System.Net.Security;
using Actors.Kafka.Listener;
using Actors.Kafka.Security;
using Actors.Testing;
using BrokerMetadataResponse = Actors.Broker.MetadataResponse;
using TopicMetadata = Actors.Broker.TopicMetadata;

namespace Actors.Kafka.Tests.Listener;

/// <summary>An SSL <see cref="KafkaConnection"/> on a loopback socket pair, the client an <see cref="SslStream"/>:
/// answers of every size, pipelined, come back whole and in request order through the write loop that gathers the
/// answers already made into one write.</summary>
public sealed class TlsConnectionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Pipelined_answers_of_every_size_arrive_whole_and_in_order_over_tls()
    {
        using var certificate = SelfSignedCertificates.Create("actors-test-tls", validDays: 1);
        var security = new ListenerSecurity("SSL", "SSL", true, false, [], certificate);
        // Each Metadata answer names back the topics asked for (unknown ones), so its size follows the request's.
        var handler = KafkaConnectionTests.Handler(request => Task.FromResult(new BrokerMetadataResponse
        {
            Topics = [.. (request.Topics ?? []).Select(n => new TopicMetadata { Name = n, Error = Actors.Broker.ErrorCode.UnknownTopicOrPartition })],
        }));
        var (tcp, run) = await KafkaConnectionTests.ConnectAsync(handler, maxInFlight: 16,
            new ConnectionSession(security, (_, _) => Task.FromResult<Actors.Broker.ScramCredential?>(null)));
        using (tcp)
        {
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: true, (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString() == certificate.GetCertHashString());
            await tls.AuthenticateAsClientAsync("localhost").WaitAsync(Deadline);

            // Asked: 0 to ~150 KB of topic names (answers below, at and above the 64 KiB gathered per write), with an
            // ApiVersions (a few hundred bytes) after each, all written before any answer is read.
            var asked = Enumerable.Range(0, 40).Select(i => (i * 37 % 41) * 18).ToArray();
            var writing = Task.Run(async () =>
            {
                for (var i = 0; i < asked.Length; i++)
                {
                    var names = Names(i, asked[i]);
                    await tls.WriteAsync(KafkaConnectionTests.Frame(ApiKeys.Metadata, 12, 2 * i, (ref KafkaWriter w) =>
                        MetadataCodec.WriteRequest(ref w, new MetadataRequest { Topics = [.. names.Select(n => new MetadataRequestTopic(Guid.Empty, n))], AllowAutoTopicCreation = false }, 12)));
                    await tls.WriteAsync(KafkaConnectionTests.Frame(ApiKeys.ApiVersions, 3, (2 * i) + 1, (ref KafkaWriter w) =>
                        ApiVersionsCodec.WriteRequest(ref w, new ApiVersionsRequest(), 3)));
                }
            });

            var largest = 0;
            for (var i = 0; i < asked.Length; i++)
            {
                var metadata = await ReadFrameAsync(tls);
                largest = Math.Max(largest, metadata.Length);
                var reader = new KafkaReader(metadata);
                Assert.Equal(2 * i, ResponseHeader.Read(ref reader, ApiKeys.Metadata.ResponseHeaderVersion(12)).CorrelationId);
                var answer = MetadataCodec.ReadResponse(ref reader, 12);
                Assert.Equal(Names(i, asked[i]), answer.Topics.Select(t => t.Name));
                Assert.Equal(0, reader.Remaining);

                var versions = await ReadFrameAsync(tls);
                Assert.Equal((2 * i) + 1, BinaryPrimitives.ReadInt32BigEndian(versions));
            }

            await writing.WaitAsync(Deadline);
            Assert.True(largest > 2 * KafkaConnection.CoalesceBytes, $"the largest answer was {largest} bytes, not above twice the {KafkaConnection.CoalesceBytes} gathered per write");
        }

        await run.WaitAsync(Deadline);
    }

    /// <summary>Request <paramref name="request"/>'s <paramref name="count"/> topic names, 200 characters each.</summary>
    private static string[] Names(int request, int count) =>
        [.. Enumerable.Range(0, count).Select(j => $"r{request}-t{j}-".PadRight(200, 'x'))];

    private static async Task<byte[]> ReadFrameAsync(Stream stream)
    {
        var prefix = new byte[4];
        await stream.ReadExactlyAsync(prefix).AsTask().WaitAsync(Deadline);
        var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        await stream.ReadExactlyAsync(payload).AsTask().WaitAsync(Deadline);
        return payload;
    }
}
