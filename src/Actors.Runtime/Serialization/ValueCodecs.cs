using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>Codec of <see cref="string"/>: UTF-8, <see cref="WireType.LengthPrefixed"/>.</summary>
public sealed class StringCodec : IFieldCodec<string>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly StringCodec Instance = new();

    WireType IFieldCodec<string>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, string? value)
    {
        if (value is null)
        {
            writer.WriteFieldHeader(fieldId, WireType.Null);
            return;
        }

        writer.WriteFieldHeader(fieldId, Wire);
        writer.WriteString(value);
    }

    public static string? ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? null : Read(ref reader, wireType);

    public static string Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "string");
        return reader.ReadString();
    }

    void IFieldCodec<string>.Write(ref ActorWriter writer, string value) => writer.WriteString(value);

    string IFieldCodec<string>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="byte"/> arrays: <see cref="WireType.LengthPrefixed"/>. Reading copies
/// the bytes once out of the frame; writing copies them once into the frame.</summary>
public sealed class ByteArrayCodec : IFieldCodec<byte[]>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly ByteArrayCodec Instance = new();

    WireType IFieldCodec<byte[]>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, byte[]? value)
    {
        if (value is null)
        {
            writer.WriteFieldHeader(fieldId, WireType.Null);
            return;
        }

        writer.WriteFieldHeader(fieldId, Wire);
        writer.WriteLengthPrefixed(value);
    }

    public static byte[]? ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? null : Read(ref reader, wireType);

    public static byte[] Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "byte[]");
        return reader.ReadLengthPrefixedArray();
    }

    void IFieldCodec<byte[]>.Write(ref ActorWriter writer, byte[] value) => writer.WriteLengthPrefixed(value);

    byte[] IFieldCodec<byte[]>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="ReadOnlyMemory{T}"/> of bytes: <see cref="WireType.LengthPrefixed"/>.
/// Reading copies the bytes once out of the frame into a new array, or none at all when the reader was
/// made over a frame that payloads may alias (<see cref="ActorReader(ReadOnlyMemory{byte}, bool)"/>).</summary>
/// <remarks>A payload handed to a call is not copied inside one silo: callers must not mutate it
/// after the call (the runtime treats ReadOnlyMemory&lt;byte&gt; as immutable).</remarks>
public sealed class ReadOnlyMemoryOfByteCodec : IFieldCodec<ReadOnlyMemory<byte>>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly ReadOnlyMemoryOfByteCodec Instance = new();

    WireType IFieldCodec<ReadOnlyMemory<byte>>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, ReadOnlyMemory<byte> value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        writer.WriteLengthPrefixed(value.Span);
    }

    public static ReadOnlyMemory<byte> ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static ReadOnlyMemory<byte> Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "ReadOnlyMemory<byte>");
        return reader.ReadLengthPrefixedMemory();
    }

    void IFieldCodec<ReadOnlyMemory<byte>>.Write(ref ActorWriter writer, ReadOnlyMemory<byte> value) =>
        writer.WriteLengthPrefixed(value.Span);

    ReadOnlyMemory<byte> IFieldCodec<ReadOnlyMemory<byte>>.Read(ref ActorReader reader, WireType wireType) =>
        Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="Memory{T}"/> of bytes: <see cref="WireType.LengthPrefixed"/>, one copy on read.</summary>
public sealed class MemoryOfByteCodec : IFieldCodec<Memory<byte>>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly MemoryOfByteCodec Instance = new();

    WireType IFieldCodec<Memory<byte>>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, Memory<byte> value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        writer.WriteLengthPrefixed(value.Span);
    }

    public static Memory<byte> ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static Memory<byte> Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "Memory<byte>");
        var array = reader.ReadLengthPrefixedArray();
        return array.Length == 0 ? Memory<byte>.Empty : array;
    }

    void IFieldCodec<Memory<byte>>.Write(ref ActorWriter writer, Memory<byte> value) => writer.WriteLengthPrefixed(value.Span);

    Memory<byte> IFieldCodec<Memory<byte>>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="Guid"/>: 16 bytes, <see cref="WireType.LengthPrefixed"/>.</summary>
public sealed class GuidCodec : IFieldCodec<Guid>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly GuidCodec Instance = new();

    WireType IFieldCodec<Guid>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, Guid value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    public static Guid ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static void Write(ref ActorWriter writer, Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        writer.WriteLengthPrefixed(bytes);
    }

    public static Guid Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "Guid");
        var bytes = reader.ReadLengthPrefixed();
        if (bytes.Length != 16)
        {
            throw new SerializationException($"A Guid takes 16 bytes; the field holds {bytes.Length}.");
        }

        return new Guid(bytes);
    }

    void IFieldCodec<Guid>.Write(ref ActorWriter writer, Guid value) => Write(ref writer, value);

    Guid IFieldCodec<Guid>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="decimal"/>: its four 32-bit parts, <see cref="WireType.LengthPrefixed"/>.</summary>
public sealed class DecimalCodec : IFieldCodec<decimal>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly DecimalCodec Instance = new();

    WireType IFieldCodec<decimal>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, decimal value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    public static decimal ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static void Write(ref ActorWriter writer, decimal value)
    {
        Span<int> parts = stackalloc int[4];
        decimal.GetBits(value, parts);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes[(i * 4)..], parts[i]);
        }

        writer.WriteLengthPrefixed(bytes);
    }

    public static decimal Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "decimal");
        var bytes = reader.ReadLengthPrefixed();
        if (bytes.Length != 16)
        {
            throw new SerializationException($"A decimal takes 16 bytes; the field holds {bytes.Length}.");
        }

        Span<int> parts = stackalloc int[4];
        for (var i = 0; i < 4; i++)
        {
            parts[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
        }

        try
        {
            return new decimal(parts);
        }
        catch (ArgumentException e)
        {
            throw new SerializationException("The field does not hold a valid decimal.", e);
        }
    }

    void IFieldCodec<decimal>.Write(ref ActorWriter writer, decimal value) => Write(ref writer, value);

    decimal IFieldCodec<decimal>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="DateTimeOffset"/>: UTC ticks (8 bytes) and offset minutes (2 bytes),
/// <see cref="WireType.LengthPrefixed"/>.</summary>
public sealed class DateTimeOffsetCodec : IFieldCodec<DateTimeOffset>
{
    public const WireType Wire = WireType.LengthPrefixed;

    public static readonly DateTimeOffsetCodec Instance = new();

    WireType IFieldCodec<DateTimeOffset>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, DateTimeOffset value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    public static DateTimeOffset ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static void Write(ref ActorWriter writer, DateTimeOffset value)
    {
        Span<byte> bytes = stackalloc byte[10];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value.Ticks);
        BinaryPrimitives.WriteInt16LittleEndian(bytes[8..], checked((short)value.TotalOffsetMinutes));
        writer.WriteLengthPrefixed(bytes);
    }

    public static DateTimeOffset Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "DateTimeOffset");
        var bytes = reader.ReadLengthPrefixed();
        if (bytes.Length != 10)
        {
            throw new SerializationException($"A DateTimeOffset takes 10 bytes; the field holds {bytes.Length}.");
        }

        try
        {
            return new DateTimeOffset(
                BinaryPrimitives.ReadInt64LittleEndian(bytes),
                TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(bytes[8..])));
        }
        catch (ArgumentException e)
        {
            throw new SerializationException("The field does not hold a valid DateTimeOffset.", e);
        }
    }

    void IFieldCodec<DateTimeOffset>.Write(ref ActorWriter writer, DateTimeOffset value) => Write(ref writer, value);

    DateTimeOffset IFieldCodec<DateTimeOffset>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="GrainId"/>: an object with the type (1) and key (2).</summary>
public sealed class GrainIdCodec : IFieldCodec<GrainId>
{
    public const WireType Wire = WireType.TagDelimited;

    public static readonly GrainIdCodec Instance = new();

    WireType IFieldCodec<GrainId>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, GrainId value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    public static GrainId ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    public static void Write(ref ActorWriter writer, GrainId value)
    {
        StringCodec.WriteField(ref writer, 1, value.Type);
        StringCodec.WriteField(ref writer, 2, value.Key);
        writer.WriteEndObject();
    }

    public static GrainId Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "GrainId");
        string? type = null;
        string? key = null;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            switch (id)
            {
                case 1: type = StringCodec.ReadValue(ref reader, wt); break;
                case 2: key = StringCodec.ReadValue(ref reader, wt); break;
                default: reader.SkipField(wt); break;
            }
        }

        return new GrainId(type!, key!);
    }

    void IFieldCodec<GrainId>.Write(ref ActorWriter writer, GrainId value) => Write(ref writer, value);

    GrainId IFieldCodec<GrainId>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="Membership.SiloAddress"/>: an object with host (1), port (2), generation (3).</summary>
public sealed class SiloAddressCodec : IFieldCodec<Membership.SiloAddress>
{
    public const WireType Wire = WireType.TagDelimited;

    public static readonly SiloAddressCodec Instance = new();

    WireType IFieldCodec<Membership.SiloAddress>.WireType => Wire;

    public static void WriteField(ref ActorWriter writer, uint fieldId, Membership.SiloAddress? value)
    {
        if (value is null)
        {
            writer.WriteFieldHeader(fieldId, WireType.Null);
            return;
        }

        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    public static Membership.SiloAddress? ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? null : Read(ref reader, wireType);

    public static void Write(ref ActorWriter writer, Membership.SiloAddress value)
    {
        StringCodec.WriteField(ref writer, 1, value.Host);
        Int32Codec.WriteField(ref writer, 2, value.Port);
        Int64Codec.WriteField(ref writer, 3, value.Generation);
        writer.WriteEndObject();
    }

    public static Membership.SiloAddress Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "SiloAddress");
        string? host = null;
        var port = 0;
        var generation = 0L;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            switch (id)
            {
                case 1: host = StringCodec.ReadValue(ref reader, wt); break;
                case 2: port = Int32Codec.ReadValue(ref reader, wt); break;
                case 3: generation = Int64Codec.ReadValue(ref reader, wt); break;
                default: reader.SkipField(wt); break;
            }
        }

        return new Membership.SiloAddress(host ?? string.Empty, port, generation);
    }

    void IFieldCodec<Membership.SiloAddress>.Write(ref ActorWriter writer, Membership.SiloAddress value) => Write(ref writer, value);

    Membership.SiloAddress IFieldCodec<Membership.SiloAddress>.Read(ref ActorReader reader, WireType wireType) =>
        Read(ref reader, wireType);
}
