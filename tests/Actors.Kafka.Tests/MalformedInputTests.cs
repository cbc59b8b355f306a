using Xunit.Abstractions;

namespace Actors.Kafka.Tests;

/// <summary>
/// Valid requests with random bytes overwritten: each either decodes or fails with
/// <see cref="KafkaProtocolException"/>, never with another exception (an index out of range, an
/// overflow, an out-of-memory from a trusted count).
/// </summary>
public sealed class MalformedInputTests
{
    private const int MutationsPerPayload = 1500;

    private readonly ITestOutputHelper _output;

    public MalformedInputTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Corrupted_requests_fail_only_with_the_protocol_exception()
    {
        var seed = Random.Shared.Next();
        _output.WriteLine($"Random seed {seed}");
        var random = new Random(seed);
        foreach (var payload in ValidRequests())
        {
            for (var i = 0; i < MutationsPerPayload; i++)
            {
                var bytes = (byte[])payload.Clone();
                var flips = random.Next(1, 4);
                for (var f = 0; f < flips; f++)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                try
                {
                    Decode(bytes);
                }
                catch (KafkaProtocolException)
                {
                }
                catch (Exception e)
                {
                    Assert.Fail($"seed {seed}: {Convert.ToHexString(bytes)} raised {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    [Fact]
    public void Corrupted_responses_fail_only_with_the_protocol_exception()
    {
        var seed = Random.Shared.Next();
        _output.WriteLine($"Random seed {seed}");
        var random = new Random(seed);
        var metadata = new MetadataResponse
        {
            Brokers = [new MetadataBroker(1, "b1", 9092, "r1")],
            ClusterId = "c1",
            Topics = [new MetadataTopic { Name = "t", Partitions = [new MetadataPartition { ReplicaNodes = [1, 2], IsrNodes = [1], OfflineReplicas = [2] }] }],
        };
        var apiVersions = ApiVersionsResponse.Supported() with
        {
            SupportedFeatures = [new SupportedFeature("f", 0, 1)],
            FinalizedFeaturesEpoch = 3,
            FinalizedFeatures = [new FinalizedFeature("f", 1, 0)],
        };
        for (short version = 0; version <= 12; version++)
        {
            var v = version;
            var bytes = Bytes.Write((ref KafkaWriter w) => MetadataCodec.WriteResponse(ref w, metadata, v));
            Mutate(bytes, random, seed, b =>
            {
                var reader = new KafkaReader(b);
                MetadataCodec.ReadResponse(ref reader, v);
            });
        }

        for (short version = 0; version <= 3; version++)
        {
            var v = version;
            var bytes = Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteResponse(ref w, apiVersions, v));
            Mutate(bytes, random, seed, b =>
            {
                var reader = new KafkaReader(b);
                ApiVersionsCodec.ReadResponse(ref reader, v);
            });
        }
    }

    private static void Mutate(byte[] payload, Random random, int seed, Action<byte[]> decode)
    {
        for (var i = 0; i < MutationsPerPayload; i++)
        {
            var bytes = (byte[])payload.Clone();
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            try
            {
                decode(bytes);
            }
            catch (KafkaProtocolException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}: {Convert.ToHexString(bytes)} raised {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private static void Decode(byte[] bytes)
    {
        var reader = new KafkaReader(bytes);
        var header = RequestHeader.Read(ref reader);
        switch ((ApiKey)header.ApiKey)
        {
            case ApiKey.ApiVersions:
                ApiVersionsCodec.ReadRequest(ref reader, header.ApiVersion);
                break;
            case ApiKey.Metadata:
                MetadataCodec.ReadRequest(ref reader, header.ApiVersion);
                break;
            default:
                ApiKeys.Get(header.ApiKey).EnsureSupported(header.ApiVersion);
                _ = Protocol.Messages.KafkaRequests.Read(header.ApiKey, ref reader, header.ApiVersion)
                    ?? throw new InvalidOperationException($"The table served API key {header.ApiKey}, which has no codec");
                break;
        }
    }

    private static IEnumerable<byte[]> ValidRequests()
    {
        for (short version = 0; version <= 12; version++)
        {
            var v = version;
            var request = new MetadataRequest
            {
                Topics = [new MetadataRequestTopic(v >= 10 ? Guid.NewGuid() : Guid.Empty, "orders"), new MetadataRequestTopic(Guid.Empty, "é")],
                AllowAutoTopicCreation = v < 4,
            };
            yield return Bytes.Write((ref KafkaWriter w) =>
            {
                new RequestHeader((short)ApiKey.Metadata, v, 1, "client").Write(ref w, ApiKeys.Metadata.RequestHeaderVersion(v));
                MetadataCodec.WriteRequest(ref w, request, v);
            });
        }

        for (short version = 0; version <= 3; version++)
        {
            var v = version;
            var request = new ApiVersionsRequest { ClientSoftwareName = "kcat", ClientSoftwareVersion = "1.7" };
            yield return Bytes.Write((ref KafkaWriter w) =>
            {
                new RequestHeader((short)ApiKey.ApiVersions, v, 1, "client").Write(ref w, ApiKeys.ApiVersions.RequestHeaderVersion(v));
                ApiVersionsCodec.WriteRequest(ref w, request, v);
            });
        }
    }
}
