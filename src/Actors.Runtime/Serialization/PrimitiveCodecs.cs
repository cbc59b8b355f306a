// Codecs of the primitive value types. Each has static WriteField/ReadValue methods that generated
// code calls directly (no interface dispatch), and implements IFieldCodec<T> for composite codecs.
using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>Codec of <see cref="bool"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class BooleanCodec : IFieldCodec<bool>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly BooleanCodec Instance = new();

    WireType IFieldCodec<bool>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, bool value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, bool value) => writer.WriteVarUInt64(value ? 1UL : 0UL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "bool");
        return reader.ReadVarUInt64() != 0;
    }

    void IFieldCodec<bool>.Write(ref ActorWriter writer, bool value) => Write(ref writer, value);

    bool IFieldCodec<bool>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="byte"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class ByteCodec : IFieldCodec<byte>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly ByteCodec Instance = new();

    WireType IFieldCodec<byte>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, byte value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, byte value) => writer.WriteVarUInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "byte");
        return checked((byte)reader.ReadVarUInt64());
    }

    void IFieldCodec<byte>.Write(ref ActorWriter writer, byte value) => Write(ref writer, value);

    byte IFieldCodec<byte>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="sbyte"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class SByteCodec : IFieldCodec<sbyte>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly SByteCodec Instance = new();

    WireType IFieldCodec<sbyte>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, sbyte value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, sbyte value) => writer.WriteVarInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "sbyte");
        return checked((sbyte)reader.ReadVarInt64());
    }

    void IFieldCodec<sbyte>.Write(ref ActorWriter writer, sbyte value) => Write(ref writer, value);

    sbyte IFieldCodec<sbyte>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="short"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class Int16Codec : IFieldCodec<short>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly Int16Codec Instance = new();

    WireType IFieldCodec<short>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, short value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, short value) => writer.WriteVarInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "short");
        return checked((short)reader.ReadVarInt64());
    }

    void IFieldCodec<short>.Write(ref ActorWriter writer, short value) => Write(ref writer, value);

    short IFieldCodec<short>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="ushort"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class UInt16Codec : IFieldCodec<ushort>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly UInt16Codec Instance = new();

    WireType IFieldCodec<ushort>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, ushort value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, ushort value) => writer.WriteVarUInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "ushort");
        return checked((ushort)reader.ReadVarUInt64());
    }

    void IFieldCodec<ushort>.Write(ref ActorWriter writer, ushort value) => Write(ref writer, value);

    ushort IFieldCodec<ushort>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="int"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class Int32Codec : IFieldCodec<int>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly Int32Codec Instance = new();

    WireType IFieldCodec<int>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, int value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, int value) => writer.WriteVarInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "int");
        return checked((int)reader.ReadVarInt64());
    }

    void IFieldCodec<int>.Write(ref ActorWriter writer, int value) => Write(ref writer, value);

    int IFieldCodec<int>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="uint"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class UInt32Codec : IFieldCodec<uint>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly UInt32Codec Instance = new();

    WireType IFieldCodec<uint>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, uint value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, uint value) => writer.WriteVarUInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "uint");
        return checked((uint)reader.ReadVarUInt64());
    }

    void IFieldCodec<uint>.Write(ref ActorWriter writer, uint value) => Write(ref writer, value);

    uint IFieldCodec<uint>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="long"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class Int64Codec : IFieldCodec<long>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly Int64Codec Instance = new();

    WireType IFieldCodec<long>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, long value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, long value) => writer.WriteVarInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "long");
        return reader.ReadVarInt64();
    }

    void IFieldCodec<long>.Write(ref ActorWriter writer, long value) => Write(ref writer, value);

    long IFieldCodec<long>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="ulong"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class UInt64Codec : IFieldCodec<ulong>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly UInt64Codec Instance = new();

    WireType IFieldCodec<ulong>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, ulong value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, ulong value) => writer.WriteVarUInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "ulong");
        return reader.ReadVarUInt64();
    }

    void IFieldCodec<ulong>.Write(ref ActorWriter writer, ulong value) => Write(ref writer, value);

    ulong IFieldCodec<ulong>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="char"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class CharCodec : IFieldCodec<char>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly CharCodec Instance = new();

    WireType IFieldCodec<char>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, char value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static char ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, char value) => writer.WriteVarUInt64(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static char Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "char");
        return checked((char)reader.ReadVarUInt64());
    }

    void IFieldCodec<char>.Write(ref ActorWriter writer, char value) => Write(ref writer, value);

    char IFieldCodec<char>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="float"/>: <see cref="WireType.Fixed32"/>.</summary>
public sealed class SingleCodec : IFieldCodec<float>
{
    public const WireType Wire = WireType.Fixed32;

    public static readonly SingleCodec Instance = new();

    WireType IFieldCodec<float>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, float value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, float value) => writer.WriteFixed32(BitConverter.SingleToUInt32Bits(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "float");
        return BitConverter.UInt32BitsToSingle(reader.ReadFixed32());
    }

    void IFieldCodec<float>.Write(ref ActorWriter writer, float value) => Write(ref writer, value);

    float IFieldCodec<float>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="double"/>: <see cref="WireType.Fixed64"/>.</summary>
public sealed class DoubleCodec : IFieldCodec<double>
{
    public const WireType Wire = WireType.Fixed64;

    public static readonly DoubleCodec Instance = new();

    WireType IFieldCodec<double>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, double value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, double value) => writer.WriteFixed64(BitConverter.DoubleToUInt64Bits(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "double");
        return BitConverter.UInt64BitsToDouble(reader.ReadFixed64());
    }

    void IFieldCodec<double>.Write(ref ActorWriter writer, double value) => Write(ref writer, value);

    double IFieldCodec<double>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="TimeSpan"/>: <see cref="WireType.VarInt"/>.</summary>
public sealed class TimeSpanCodec : IFieldCodec<TimeSpan>
{
    public const WireType Wire = WireType.VarInt;

    public static readonly TimeSpanCodec Instance = new();

    WireType IFieldCodec<TimeSpan>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, TimeSpan value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TimeSpan ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, TimeSpan value) => writer.WriteVarInt64(value.Ticks);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TimeSpan Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "TimeSpan");
        return new TimeSpan(reader.ReadVarInt64());
    }

    void IFieldCodec<TimeSpan>.Write(ref ActorWriter writer, TimeSpan value) => Write(ref writer, value);

    TimeSpan IFieldCodec<TimeSpan>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}

/// <summary>Codec of <see cref="DateTime"/>: <see cref="WireType.Fixed64"/>.</summary>
public sealed class DateTimeCodec : IFieldCodec<DateTime>
{
    public const WireType Wire = WireType.Fixed64;

    public static readonly DateTimeCodec Instance = new();

    WireType IFieldCodec<DateTime>.WireType => Wire;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField(ref ActorWriter writer, uint fieldId, DateTime value)
    {
        writer.WriteFieldHeader(fieldId, Wire);
        Write(ref writer, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DateTime ReadValue(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? default : Read(ref reader, wireType);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref ActorWriter writer, DateTime value) => writer.WriteFixed64(unchecked((ulong)value.ToBinary()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DateTime Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, Wire, "DateTime");
        return DateTime.FromBinary(unchecked((long)reader.ReadFixed64()));
    }

    void IFieldCodec<DateTime>.Write(ref ActorWriter writer, DateTime value) => Write(ref writer, value);

    DateTime IFieldCodec<DateTime>.Read(ref ActorReader reader, WireType wireType) => Read(ref reader, wireType);
}
