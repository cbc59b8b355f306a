using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>
/// Helpers that generated code and composite codecs use to write one field (header and payload) and
/// read one value, with null written as <see cref="WireType.Null"/>.
/// </summary>
public static class FieldCodec
{
    /// <summary>Writes the header of field <paramref name="fieldId"/> and the value's payload, or a
    /// <see cref="WireType.Null"/> header for null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteField<T>(ref ActorWriter writer, uint fieldId, T value)
    {
        if (value is null)
        {
            writer.WriteFieldHeader(fieldId, WireType.Null);
            return;
        }

        var codec = Codec<T>.Instance;
        writer.WriteFieldHeader(fieldId, codec.WireType);
        codec.Write(ref writer, value);
    }

    /// <summary>Reads a value whose header (with <paramref name="wireType"/>) was just read.
    /// <see cref="WireType.Null"/> gives default (null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ReadValue<T>(ref ActorReader reader, WireType wireType)
    {
        if (wireType == WireType.Null)
        {
            return default!;
        }

        return Codec<T>.Instance.Read(ref reader, wireType);
    }

    /// <summary>Reads a field header and the value after it (the counterpart of <see cref="WriteField{T}"/>).</summary>
    public static T ReadField<T>(ref ActorReader reader)
    {
        var (_, wireType) = reader.ReadFieldHeader();
        return ReadValue<T>(ref reader, wireType);
    }

    /// <summary>Throws unless <paramref name="actual"/> is <paramref name="expected"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Expect(WireType actual, WireType expected, string typeName)
    {
        if (actual != expected)
        {
            ThrowWireTypeMismatch(actual, expected, typeName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowWireTypeMismatch(WireType actual, WireType expected, string typeName) =>
        throw new SerializationException(
            $"Cannot read a {typeName} from a field framed as {actual}; expected {expected}. " +
            "The field's type changed incompatibly between writer and reader.");

    /// <summary>A bounded initial capacity for a collection of <paramref name="count"/> elements:
    /// every element takes at least one byte, so a corrupt count cannot allocate more than the input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Capacity(ulong count, in ActorReader reader)
    {
        if (count > (ulong)reader.Remaining)
        {
            throw new SerializationException(
                $"Collection count {count} at position {reader.Position} exceeds the {reader.Remaining} bytes left.");
        }

        return (int)count;
    }
}
