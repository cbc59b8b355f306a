using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Kafka.Protocol;
using Actors.Kafka.Protocol.Messages;
using Actors.Testing;
using Xunit.Abstractions;

namespace Actors.Chaos.Tests;

/// <summary>
/// An idempotent producer pipelines its produce requests on one connection (librdkafka: up to five in flight per
/// partition), and the partition must see its batches in the order they were sent. The chaos workload's producers died
/// of OUT_OF_ORDER_SEQUENCE_NUMBER with no fault injected ("base seq 0"): the listener served a connection's requests
/// concurrently, and a request whose routing snapshot had to be fetched from the controller issued its partition call
/// after a later request that found the snapshot cached, so the later batch (an unknown producer's sequence 1, accepted
/// as Kafka accepts any first sequence) was appended first and sequence 0 was refused. Raw Kafka protocol against a real
/// silo process, so the two requests are read from one socket in a known order.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class PipelinedProduceTests(ITestOutputHelper output)
{
    private const short ProduceVersion = 7;
    private const string Topic = "pipelined";

    /// <summary>A topic no silo knows: a request naming it makes the listener ask the controller for a fresh snapshot
    /// (at most every 100 ms), so the request waits while one read after it may not.</summary>
    private const string AbsentTopic = "pipelined-absent";

    [Fact]
    public async Task Pipelined_produce_requests_of_an_idempotent_producer_reach_the_partition_in_the_order_they_were_sent()
    {
        await using var cluster = await ProcessCluster.StartAsync(1, output.WriteLine);
        await cluster.Controller.CreateTopicAsync(new CreateTopicRequest { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, cluster.Silos[0].KafkaPort));
        var correlation = 0;

        // The silo serves the topic once its partition leader is up.
        string? warmup = null;
        await Wait.UntilAsync(async () =>
        {
            var answer = (await SendAsync(socket, [Request(++correlation, [(Topic, TextRecords.Batch(["warm-up"]))])]))[0];
            warmup = $"{(ErrorCode)answer.ErrorCode} {answer.ErrorMessage}";
            return answer.ErrorCode == 0;
        }, TimeSpan.FromSeconds(60), $"a plain produce to {Topic} to succeed", () => warmup ?? "no answer");

        // Each round: a new producer id, its sequence 0 in a request that also names the absent topic, its sequence 1 in
        // the next request, both written at once. The listener refreshes its snapshot for the absent topic at most every
        // 100 ms, so over the rounds many first requests wait for the controller while the second one is ready at once.
        const int rounds = 50;
        for (var round = 0; round < rounds; round++)
        {
            var producerId = 5_000_000L + round;
            var first = Request(++correlation, [(Topic, Idempotent(producerId, 0, $"r{round}-s0")), (AbsentTopic, TextRecords.Batch(["absent"]))]);
            var second = Request(++correlation, [(Topic, Idempotent(producerId, 1, $"r{round}-s1"))]);
            var answers = await SendAsync(socket, [first, second]);
            var zero = answers[0];
            var one = answers[1];
            Assert.True(zero.ErrorCode == 0 && one.ErrorCode == 0,
                $"round {round}, producer {producerId}: sequence 0 answered {(ErrorCode)zero.ErrorCode} ({zero.ErrorMessage}) at offset {zero.BaseOffset}, " +
                $"sequence 1 answered {(ErrorCode)one.ErrorCode} ({one.ErrorMessage}) at offset {one.BaseOffset}{Environment.NewLine}{cluster.Tails()}");
            Assert.True(one.BaseOffset == zero.BaseOffset + 1,
                $"round {round}: sequence 0 at offset {zero.BaseOffset}, sequence 1 at offset {one.BaseOffset}; the batches were appended out of order");
        }

        output.WriteLine($"{rounds} rounds of two pipelined requests, every pair appended in order");
    }

    private static byte[] Idempotent(long producerId, int sequence, string value) =>
        TextRecords.Batch([value], producerId, producerEpoch: 0, baseSequence: sequence);

    /// <summary>A framed Produce request (acks=1) with one batch for partition 0 of each topic.</summary>
    private static byte[] Request(int correlationId, IEnumerable<(string Topic, byte[] Batch)> batches)
    {
        var request = new ProduceRequestData { Acks = 1, TimeoutMs = 30_000 };
        foreach (var (topic, batch) in batches)
        {
            request.TopicData.Add(new ProduceRequestData.TopicProduceData
            {
                Name = topic,
                PartitionData = [new ProduceRequestData.PartitionProduceData { Index = 0, Records = batch }],
            });
        }

        var payload = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(payload);
        new RequestHeader(ProduceRequestData.ApiKey, ProduceVersion, correlationId, "pipelined-test").Write(ref writer, 1);
        request.Write(ref writer, ProduceVersion);
        var frame = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteFrame(frame, payload.WrittenSpan);
        return frame.WrittenSpan.ToArray();
    }

    /// <summary>Writes every frame in one send (so the silo reads them back to back), then reads one answer per frame,
    /// returning the answer for partition 0 of the first topic of each request.</summary>
    private static async Task<ProduceResponseData.PartitionProduceResponse[]> SendAsync(Socket socket, byte[][] frames)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await socket.SendAsync(frames.SelectMany(f => f).ToArray(), SocketFlags.None, timeout.Token);
        var answers = new ProduceResponseData.PartitionProduceResponse[frames.Length];
        for (var i = 0; i < frames.Length; i++)
        {
            var size = new byte[4];
            await ReceiveExactlyAsync(socket, size, timeout.Token);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            await ReceiveExactlyAsync(socket, body, timeout.Token);
            answers[i] = Parse(body);
        }

        return answers;
    }

    private static ProduceResponseData.PartitionProduceResponse Parse(byte[] body)
    {
        var reader = new KafkaReader(body);
        ResponseHeader.Read(ref reader, 0);
        var response = ProduceResponseData.Read(ref reader, ProduceVersion);
        return response.Responses.First(r => r.Name == Topic).PartitionResponses[0];
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new IOException($"The silo closed the connection after {filled} of {buffer.Length} bytes of an answer.");
            }

            filled += n;
        }
    }
}
