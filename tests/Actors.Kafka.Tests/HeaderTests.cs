namespace Actors.Kafka.Tests;

/// <summary>Request headers v0 to v2 and response headers v0 and v1, byte for byte.</summary>
public sealed class HeaderTests
{
    private static readonly RequestHeader Sample = new((short)ApiKey.Metadata, 9, 0x01020304, "cli");

    [Theory]
    [InlineData(0, "0003 0009 01020304")]
    [InlineData(1, "0003 0009 01020304 0003 636C69")]
    [InlineData(2, "0003 0009 01020304 0003 636C69 00")]
    public void Request_header_bytes_for_each_version(short headerVersion, string hex)
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => Sample.Write(ref w, headerVersion));
        Assert.Equal(Bytes.Hex(hex), bytes);
        var back = Bytes.Read(bytes, (ref KafkaReader r) => RequestHeader.Read(ref r, headerVersion));
        Assert.Equal(headerVersion == 0 ? Sample with { ClientId = null } : Sample, back);
    }

    [Fact]
    public void Request_header_v2_keeps_the_client_id_an_int16_string_and_skips_unknown_tags()
    {
        // Client id null (FFFF, not a compact 00), then one unknown tag 7 of two bytes.
        var bytes = Bytes.Hex("0012 0003 00000007 FFFF 01 07 02 ABCD");
        var header = Bytes.Read(bytes, (ref KafkaReader r) => RequestHeader.Read(ref r, 2));
        Assert.Equal(new RequestHeader(18, 3, 7, null), header);
    }

    [Theory]
    [InlineData(18, 2, "0012 0002 00000001 0001 61", 1)]
    [InlineData(18, 3, "0012 0003 00000001 0001 61 00", 2)]
    [InlineData(18, 4, "0012 0004 00000001 0001 61 00", 2)]
    [InlineData(3, 8, "0003 0008 00000001 0001 61", 1)]
    [InlineData(3, 9, "0003 0009 00000001 0001 61 00", 2)]
    public void Request_header_version_follows_the_apis_flexible_versions(short apiKey, short apiVersion, string hex, short headerVersion)
    {
        Assert.Equal(headerVersion, ApiKeys.Get(apiKey).RequestHeaderVersion(apiVersion));
        var header = Bytes.Read(Bytes.Hex(hex), (ref KafkaReader r) => RequestHeader.Read(ref r));
        Assert.Equal(new RequestHeader(apiKey, apiVersion, 1, "a"), header);
    }

    [Fact]
    public void Request_for_an_api_not_served_is_refused()
    {
        var error = Bytes.ReadFails(Bytes.Hex("0063 0000 00000001 FFFF"), (ref KafkaReader r) => RequestHeader.Read(ref r));
        Assert.Contains("API key 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Response_header_bytes_for_each_version()
    {
        var header = new ResponseHeader(0x0A0B0C0D);
        Assert.Equal(Bytes.Hex("0A0B0C0D"), Bytes.Write((ref KafkaWriter w) => header.Write(ref w, 0)));
        Assert.Equal(Bytes.Hex("0A0B0C0D 00"), Bytes.Write((ref KafkaWriter w) => header.Write(ref w, 1)));
        Assert.Equal(header, Bytes.Read(Bytes.Hex("0A0B0C0D 01 00 01 FF"), (ref KafkaReader r) => ResponseHeader.Read(ref r, 1)));
    }

    [Fact]
    public void Response_header_is_v0_for_api_versions_even_when_flexible()
    {
        Assert.Equal(0, ApiKeys.ApiVersions.ResponseHeaderVersion(3));
        Assert.Equal(0, ApiKeys.Metadata.ResponseHeaderVersion(8));
        Assert.Equal(1, ApiKeys.Metadata.ResponseHeaderVersion(9));
    }

    [Fact]
    public void Every_prefix_of_a_request_header_fails_cleanly()
    {
        var bytes = Bytes.Write((ref KafkaWriter w) => Sample.Write(ref w, 2));
        for (var length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes[..length];
            Bytes.ReadFails(prefix, (ref KafkaReader r) => RequestHeader.Read(ref r));
        }
    }

    [Fact]
    public void Api_table_lists_what_we_serve()
    {
        var handler = Listener.KafkaConnectionTests.Handler(_ => Task.FromResult(new Broker.MetadataResponse()));
        Assert.Equal(ApiKeys.All.Select(a => a.Key).Order(), handler.Served.Order());
        Assert.Equal(ApiKeys.All.Select(a => a.Key), ApiKeys.All.Select(a => a.Key).Order());
        Assert.True(ApiKeys.Metadata.IsSupported(12));
        Assert.False(ApiKeys.Metadata.IsSupported(13));
        Assert.False(ApiKeys.ApiVersions.IsSupported(4));
        Assert.True(ApiKeys.ApiVersions.IsFlexible(3));
        var error = Assert.Throws<KafkaProtocolException>(() => ApiKeys.ApiVersions.EnsureSupported(4));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.ErrorCode);
    }
}
