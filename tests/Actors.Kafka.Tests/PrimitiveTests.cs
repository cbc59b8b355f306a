namespace Actors.Kafka.Tests;

/// <summary>Each primitive against bytes built by hand from Kafka's protocol description.</summary>
public sealed class PrimitiveTests
{
    [Theory]
    [InlineData(0, "00")]
    [InlineData(-1, "01")]
    [InlineData(1, "02")]
    [InlineData(-64, "7F")]
    [InlineData(64, "8001")]
    [InlineData(300, "D804")]
    [InlineData(int.MaxValue, "FEFFFFFF0F")]
    [InlineData(int.MinValue, "FFFFFFFF0F")]
    public void Varint_is_zig_zag_then_seven_bits_a_byte(int value, string hex)
    {
        Assert.Equal(Bytes.Hex(hex), Bytes.Write((ref KafkaWriter w) => w.WriteVarint(value)));
        Assert.Equal(value, Bytes.Read(Bytes.Hex(hex), (ref KafkaReader r) => r.ReadVarint()));
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(-1L, "01")]
    [InlineData(long.MaxValue, "FEFFFFFFFFFFFFFFFF01")]
    [InlineData(long.MinValue, "FFFFFFFFFFFFFFFFFF01")]
    public void Varlong_is_zig_zag_up_to_ten_bytes(long value, string hex)
    {
        Assert.Equal(Bytes.Hex(hex), Bytes.Write((ref KafkaWriter w) => w.WriteVarlong(value)));
        Assert.Equal(value, Bytes.Read(Bytes.Hex(hex), (ref KafkaReader r) => r.ReadVarlong()));
    }

    [Theory]
    [InlineData(0u, "00")]
    [InlineData(127u, "7F")]
    [InlineData(128u, "8001")]
    [InlineData(16384u, "808001")]
    [InlineData(uint.MaxValue, "FFFFFFFF0F")]
    public void Unsigned_varint_is_seven_bits_a_byte_least_significant_first(uint value, string hex)
    {
        Assert.Equal(Bytes.Hex(hex), Bytes.Write((ref KafkaWriter w) => w.WriteUnsignedVarint(value)));
        Assert.Equal(value, Bytes.Read(Bytes.Hex(hex), (ref KafkaReader r) => r.ReadUnsignedVarint()));
        Assert.Equal(hex.Length / 2, KafkaWriter.UnsignedVarintSize(value));
    }

    [Theory]
    [InlineData("FFFFFFFF1F")]
    [InlineData("FFFFFFFF8F01")]
    [InlineData("8080808080")]
    public void Varint_longer_than_32_bits_is_refused(string hex)
    {
        var error = Bytes.ReadFails(Bytes.Hex(hex), (ref KafkaReader r) => r.ReadUnsignedVarint());
        Assert.Equal(0, error.Position);
    }

    [Fact]
    public void Varlong_longer_than_64_bits_is_refused()
    {
        Bytes.ReadFails(Bytes.Hex("FFFFFFFFFFFFFFFFFF02"), (ref KafkaReader r) => r.ReadUnsignedVarlong());
        Bytes.ReadFails(Bytes.Hex("FFFFFFFFFFFFFFFFFF8100"), (ref KafkaReader r) => r.ReadUnsignedVarlong());
    }

    [Fact]
    public void Fixed_width_integers_are_big_endian()
    {
        var bytes = Bytes.Write((ref KafkaWriter w) =>
        {
            w.WriteInt8(-2);
            w.WriteInt16(0x0102);
            w.WriteUInt16(0xFFFE);
            w.WriteInt32(0x01020304);
            w.WriteUInt32(0xFFFFFFFE);
            w.WriteInt64(0x0102030405060708);
            w.WriteBoolean(true);
        });
        Assert.Equal(Bytes.Hex("FE 0102 FFFE 01020304 FFFFFFFE 0102030405060708 01"), bytes);
        var reader = new KafkaReader(bytes);
        Assert.Equal(-2, reader.ReadInt8());
        Assert.Equal(0x0102, reader.ReadInt16());
        Assert.Equal(0xFFFE, reader.ReadUInt16());
        Assert.Equal(0x01020304, reader.ReadInt32());
        Assert.Equal(0xFFFFFFFE, reader.ReadUInt32());
        Assert.Equal(0x0102030405060708, reader.ReadInt64());
        Assert.True(reader.ReadBoolean());
        Assert.True(reader.End);
    }

    [Fact]
    public void Float64_is_ieee_754_big_endian()
    {
        Assert.Equal(Bytes.Hex("3FF0000000000000"), Bytes.Write((ref KafkaWriter w) => w.WriteFloat64(1.0)));
        Assert.Equal(-2.5, Bytes.Read(Bytes.Hex("C004000000000000"), (ref KafkaReader r) => r.ReadFloat64()));
    }

    [Fact]
    public void Boolean_other_than_zero_or_one_is_refused()
    {
        Bytes.ReadFails([2], (ref KafkaReader r) => r.ReadBoolean());
    }

    [Fact]
    public void Uuid_is_most_significant_half_first()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Assert.Equal(Bytes.Hex("00112233445566778899AABBCCDDEEFF"), Bytes.Write((ref KafkaWriter w) => w.WriteUuid(id)));
        Assert.Equal(id, Bytes.Read(Bytes.Hex("00112233445566778899AABBCCDDEEFF"), (ref KafkaReader r) => r.ReadUuid()));
    }

    [Fact]
    public void String_is_int16_length_then_utf8_and_null_is_minus_one()
    {
        Assert.Equal(Bytes.Hex("0003 616263"), Bytes.Write((ref KafkaWriter w) => w.WriteString("abc", "s")));
        Assert.Equal(Bytes.Hex("0000"), Bytes.Write((ref KafkaWriter w) => w.WriteString("", "s")));
        Assert.Equal(Bytes.Hex("FFFF"), Bytes.Write((ref KafkaWriter w) => w.WriteNullableString(null, "s")));
        Assert.Equal(Bytes.Hex("0002 C3A9"), Bytes.Write((ref KafkaWriter w) => w.WriteString("é", "s")));
        Assert.Null(Bytes.Read(Bytes.Hex("FFFF"), (ref KafkaReader r) => r.ReadNullableString("s")));
        Assert.Equal("é", Bytes.Read(Bytes.Hex("0002 C3A9"), (ref KafkaReader r) => r.ReadString("s")));
    }

    [Fact]
    public void Compact_string_is_length_plus_one_and_null_is_zero()
    {
        Assert.Equal(Bytes.Hex("04 616263"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactString("abc", "s")));
        Assert.Equal(Bytes.Hex("01"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactString("", "s")));
        Assert.Equal(Bytes.Hex("00"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactNullableString(null, "s")));
        var long127 = new string('x', 127);
        Assert.Equal(Bytes.Hex("8001"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactString(long127, "s"))[..2]);
        Assert.Equal("", Bytes.Read(Bytes.Hex("01"), (ref KafkaReader r) => r.ReadCompactString("s")));
        Assert.Null(Bytes.Read(Bytes.Hex("00"), (ref KafkaReader r) => r.ReadCompactNullableString("s")));
    }

    [Fact]
    public void Null_where_a_string_may_not_be_null_is_refused()
    {
        var error = Bytes.ReadFails(Bytes.Hex("FFFF"), (ref KafkaReader r) => r.ReadString("topic"));
        Assert.Contains("topic", error.Message, StringComparison.Ordinal);
        Bytes.ReadFails(Bytes.Hex("00"), (ref KafkaReader r) => r.ReadCompactString("topic"));
        Bytes.ReadFails(Bytes.Hex("FFFE"), (ref KafkaReader r) => r.ReadNullableString("topic"));
    }

    [Fact]
    public void String_longer_than_the_buffer_is_refused_with_its_position()
    {
        var error = Bytes.ReadFails(Bytes.Hex("00 0005 6162"), (ref KafkaReader r) =>
        {
            r.ReadInt8();
            return r.ReadString("client_id");
        });
        Assert.Equal(1, error.Position);
        Assert.Contains("client_id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        Bytes.ReadFails(Bytes.Hex("0002 C328"), (ref KafkaReader r) => r.ReadString("s"));
    }

    [Fact]
    public void String_over_32767_bytes_cannot_be_written()
    {
        var text = new string('x', short.MaxValue + 1);
        Assert.Throws<ArgumentException>(() => Bytes.Write((ref KafkaWriter w) => w.WriteString(text, "s")));
    }

    [Fact]
    public void Bytes_are_int32_length_and_compact_bytes_length_plus_one()
    {
        Assert.Equal(Bytes.Hex("00000002 0A0B"), Bytes.Write((ref KafkaWriter w) => w.WriteBytes([10, 11])));
        Assert.Equal(Bytes.Hex("FFFFFFFF"), Bytes.Write((ref KafkaWriter w) => w.WriteNullableBytes(null)));
        Assert.Equal(Bytes.Hex("03 0A0B"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactBytes([10, 11])));
        Assert.Equal(Bytes.Hex("00"), Bytes.Write((ref KafkaWriter w) => w.WriteCompactNullableBytes(null)));
        Assert.Equal(new byte[] { 10, 11 }, Bytes.Read(Bytes.Hex("00000002 0A0B"), (ref KafkaReader r) => r.ReadBytes("b").ToArray()));
        Assert.Null(Bytes.Read(Bytes.Hex("FFFFFFFF"), (ref KafkaReader r) => r.ReadNullableBytes("b")));
        Assert.Equal(new byte[] { 10, 11 }, Bytes.Read(Bytes.Hex("03 0A0B"), (ref KafkaReader r) => r.ReadCompactBytes("b").ToArray()));
        Assert.Null(Bytes.Read(Bytes.Hex("00"), (ref KafkaReader r) => r.ReadCompactNullableBytes("b")));
        Bytes.ReadFails(Bytes.Hex("7FFFFFFF 00"), (ref KafkaReader r) => r.ReadBytes("b").Length);
    }

    [Fact]
    public void Array_counts_null_and_compact()
    {
        Assert.Equal(Bytes.Hex("FFFFFFFF"), Bytes.Write((ref KafkaWriter w) => w.WriteNullableArrayCount(false, null)));
        Assert.Equal(Bytes.Hex("00"), Bytes.Write((ref KafkaWriter w) => w.WriteNullableArrayCount(true, null)));
        Assert.Equal(Bytes.Hex("03"), Bytes.Write((ref KafkaWriter w) => w.WriteArrayCount(true, 2)));
        Assert.Equal(-1, Bytes.Read(Bytes.Hex("00"), (ref KafkaReader r) => r.ReadCompactNullableArrayCount("a", 10)));
        Assert.Equal(new[] { 1, 2 }, Bytes.Read(Bytes.Hex("03 00000001 00000002"), (ref KafkaReader r) => r.ReadInt32Array(true, "a", 10)));
    }

    [Fact]
    public void Huge_array_count_fails_before_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Bytes.ReadFails(Bytes.Hex("7FFFFFFF 00000001"), (ref KafkaReader r) => r.ReadInt32Array(false, "replicas", int.MaxValue));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("replicas", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64 * 1024, $"refusing the count allocated {allocated} bytes");
        Bytes.ReadFails(Bytes.Hex("FFFFFFFF0F"), (ref KafkaReader r) => r.ReadCompactArrayCount("a", int.MaxValue));
    }

    [Fact]
    public void Array_count_above_the_callers_maximum_is_refused()
    {
        var error = Bytes.ReadFails(Bytes.Hex("00000003 010203"), (ref KafkaReader r) => r.ReadArrayCount("topics", 2));
        Assert.Contains("2 allowed", error.Message, StringComparison.Ordinal);
        Bytes.ReadFails(Bytes.Hex("FFFFFFFE"), (ref KafkaReader r) => r.ReadNullableArrayCount("topics", 2));
        Bytes.ReadFails(Bytes.Hex("FFFFFFFF"), (ref KafkaReader r) => r.ReadArrayCount("topics", 2));
    }

    [Fact]
    public void Unknown_tagged_fields_are_skipped_and_known_ones_read()
    {
        // Two fields: tag 0 with 2 bytes, tag 5 with 1 byte; then a trailing int8.
        var bytes = Bytes.Hex("02 00 02 0102 05 01 FF 07");
        var reader = new KafkaReader(bytes);
        var count = reader.ReadTaggedFieldCount();
        Assert.Equal(2, count);
        var first = reader.ReadTaggedField(-1);
        Assert.Equal(0, first.Tag);
        var firstReader = first.Reader();
        Assert.Equal(0x0102, firstReader.ReadInt16());
        Assert.Equal(3, first.Position);
        var second = reader.ReadTaggedField(first.Tag);
        Assert.Equal(5, second.Tag);
        Assert.Equal(7, reader.ReadInt8());
        Assert.True(reader.End);

        Assert.Equal(7, Bytes.Read(bytes, (ref KafkaReader r) =>
        {
            r.SkipTaggedFields();
            return r.ReadInt8();
        }));
    }

    [Fact]
    public void Tagged_fields_out_of_order_or_oversized_are_refused()
    {
        Bytes.ReadFails(Bytes.Hex("02 05 00 05 00"), (ref KafkaReader r) =>
        {
            r.SkipTaggedFields();
            return 0;
        });
        Bytes.ReadFails(Bytes.Hex("01 00 7F 00"), (ref KafkaReader r) =>
        {
            r.SkipTaggedFields();
            return 0;
        });
        Bytes.ReadFails(Bytes.Hex("7F 00 00"), (ref KafkaReader r) =>
        {
            r.SkipTaggedFields();
            return 0;
        });
    }

    [Fact]
    public void Tagged_field_is_written_with_its_size()
    {
        var bytes = Bytes.Write((ref KafkaWriter w) =>
        {
            w.WriteUnsignedVarint(1);
            TaggedFields.Write(ref w, 3, 0x0102030405060708L, (ref KafkaWriter body, long value) => body.WriteInt64(value));
        });
        Assert.Equal(Bytes.Hex("01 03 08 0102030405060708"), bytes);
    }

    [Fact]
    public void Truncated_primitive_says_what_and_where()
    {
        var error = Bytes.ReadFails(Bytes.Hex("0001 0002"), (ref KafkaReader r) =>
        {
            r.ReadInt16();
            return r.ReadInt32();
        });
        Assert.Equal(2, error.Position);
        Assert.Contains("int32", error.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.InvalidRequest, error.ErrorCode);
    }
}
