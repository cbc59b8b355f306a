using System.Buffers;

namespace Actors.Kafka.Tests;

/// <summary>ApiVersions request and response, versions 0 to 3, byte for byte.</summary>
public sealed class ApiVersionsCodecTests
{
    private static readonly ApiVersionsResponse Small = new()
    {
        ApiKeys = [new ApiVersionRange(18, 0, 3)],
        ThrottleTimeMs = 7,
    };

    [Theory]
    [InlineData(0, "0000 00000001 0012 0000 0003")]
    [InlineData(1, "0000 00000001 0012 0000 0003 00000007")]
    [InlineData(2, "0000 00000001 0012 0000 0003 00000007")]
    [InlineData(3, "0000 02 0012 0000 0003 00 00000007 00")]
    public void Small_response_bytes(short version, string hex)
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteResponse(ref w, Small, version));
        Assert.Equal(Bytes.Hex(hex), bytes);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => ApiVersionsCodec.ReadResponse(ref r, version));
        Assert.Equal(Small.ApiKeys, back.ApiKeys);
        Assert.Equal(version == 0 ? 0 : 7, back.ThrottleTimeMs);
        Assert.Equal(ErrorCode.None, back.ErrorCode);
    }

    [Fact]
    public void V3_response_carries_its_tagged_fields()
    {
        var response = Small with
        {
            SupportedFeatures = [new SupportedFeature("kraft.version", 0, 1)],
            FinalizedFeaturesEpoch = 5,
            FinalizedFeatures = [new FinalizedFeature("metadata.version", 20, 1)],
            ZkMigrationReady = true,
        };
        var bytes = Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteResponse(ref w, response, 3));
        var expected = Bytes.Hex(
            "0000 02 0012 0000 0003 00 00000007"
            + " 04"
            + " 00 14 02 0E 6B7261 66742E 766572 73696F 6E 0000 0001 00"
            + " 01 08 0000000000000005"
            + " 02 17 02 11 6D6574 616461 74612E 766572 73696F 6E 0014 0001 00"
            + " 03 01 01");
        Assert.Equal(expected, bytes);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => ApiVersionsCodec.ReadResponse(ref r, 3));
        Assert.Equal(response.SupportedFeatures, back.SupportedFeatures);
        Assert.Equal(5, back.FinalizedFeaturesEpoch);
        Assert.Equal(response.FinalizedFeatures, back.FinalizedFeatures);
        Assert.True(back.ZkMigrationReady);
    }

    [Fact]
    public void V3_response_skips_unknown_tags()
    {
        var bytes = Bytes.Hex("0000 01 00000000 02 01 08 0000000000000009 09 02 ABCD");
        var back = Bytes.Read(bytes, (ref KafkaReader r) => ApiVersionsCodec.ReadResponse(ref r, 3));
        Assert.Equal(9, back.FinalizedFeaturesEpoch);
        Assert.Empty(back.ApiKeys);
    }

    [Fact]
    public void Request_bytes_empty_before_v3_and_naming_the_client_in_v3()
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "kcat", ClientSoftwareVersion = "1.7" };
        for (short version = 0; version < 3; version++)
        {
            var v = version;
            Assert.Empty(Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteRequest(ref w, request, v)));
            Assert.Equal(new ApiVersionsRequest(), Bytes.Read([], (ref KafkaReader r) => ApiVersionsCodec.ReadRequest(ref r, v)));
        }

        var bytes = Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteRequest(ref w, request, 3));
        Assert.Equal(Bytes.Hex("05 6B636174 04 312E37 00"), bytes);
        Assert.Equal(request, Bytes.Read(bytes, (ref KafkaReader r) => ApiVersionsCodec.ReadRequest(ref r, 3)));
    }

    [Fact]
    public void Every_prefix_of_a_v3_request_fails_cleanly()
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "kcat", ClientSoftwareVersion = "1.7" };
        var bytes = Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteRequest(ref w, request, 3));
        for (var length = 0; length < bytes.Length; length++)
        {
            Bytes.ReadFails(bytes[..length], (ref KafkaReader r) => ApiVersionsCodec.ReadRequest(ref r, 3));
        }
    }

    [Fact]
    public void Bytes_after_a_v0_request_body_are_refused()
    {
        Bytes.ReadFails([0], (ref KafkaReader r) => ApiVersionsCodec.ReadRequest(ref r, 0));
    }

    [Fact]
    public void Unsupported_request_version_is_answered_in_v0_with_our_ranges()
    {
        // A newer client's ApiVersions v4 request, with a v2 request header, in a frame.
        var frameBytes = Bytes.Hex("00000018 0012 0004 0000002A 0004 6B636174 00 05 6B636174 04 312E37 00");
        var buffer = new ReadOnlySequence<byte>(frameBytes);
        Assert.True(new KafkaFrameReader().TryReadFrame(ref buffer, out var frame));
        var reader = new KafkaReader(KafkaFrames.Contiguous(frame).Span);
        var header = RequestHeader.Read(ref reader);
        Assert.Equal(new RequestHeader(18, 4, 42, "kcat"), header);
        Assert.False(ApiKeys.ApiVersions.IsSupported(header.ApiVersion));

        var responseVersion = ApiVersionsCodec.ResponseVersion(header.ApiVersion);
        Assert.Equal(0, responseVersion);
        var payload = Bytes.Write((ref KafkaWriter w) =>
        {
            new ResponseHeader(header.CorrelationId).Write(ref w, ApiKeys.ApiVersions.ResponseHeaderVersion(responseVersion));
            ApiVersionsCodec.WriteResponse(ref w, ApiVersionsResponse.UnsupportedVersion(), responseVersion);
        });
        // Correlation id, UNSUPPORTED_VERSION (35), then the table: its count and each (key, min, max).
        var expected = new List<byte>(Bytes.Hex("0000002A 0023"));
        expected.AddRange(Bytes.Hex($"{ApiKeys.All.Count:X8}"));
        foreach (var api in ApiKeys.All)
        {
            expected.AddRange(Bytes.Hex($"{(short)api.Key:X4} {api.MinVersion:X4} {api.MaxVersion:X4}"));
        }

        Assert.Equal(expected.ToArray(), payload);
    }

    [Fact]
    public void Supported_response_lists_every_api_of_the_table()
    {
        var response = ApiVersionsResponse.Supported();
        Assert.Equal(ErrorCode.None, response.ErrorCode);
        Assert.Equal(ApiKeys.All.Select(a => new ApiVersionRange((short)a.Key, a.MinVersion, a.MaxVersion)), response.ApiKeys);
        Assert.Contains(new ApiVersionRange(3, 0, 12), response.ApiKeys);
        Assert.Contains(new ApiVersionRange(18, 0, 3), response.ApiKeys);
        Assert.Contains(new ApiVersionRange(0, 3, 9), response.ApiKeys);
        Assert.Contains(new ApiVersionRange(1, 4, 12), response.ApiKeys);
        Assert.Equal(3, ApiVersionsCodec.ResponseVersion(3));
    }

    [Fact]
    public void Reading_an_unsupported_version_is_refused_as_unsupported()
    {
        var error = Bytes.ReadFails([], (ref KafkaReader r) => ApiVersionsCodec.ReadRequest(ref r, 4));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.ErrorCode);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Bytes.Write((ref KafkaWriter w) => ApiVersionsCodec.WriteResponse(ref w, Small, 4)));
    }

    [Fact]
    public void Huge_api_key_count_fails_without_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Bytes.ReadFails(Bytes.Hex("0000 7FFFFFFF 0012"), (ref KafkaReader r) => ApiVersionsCodec.ReadResponse(ref r, 0));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Contains("api_keys", error.Message, StringComparison.Ordinal);
    }
}
