using System.Buffers;
using System.Reflection;

namespace Actors.Serialization;

/// <summary>
/// Serializes whole values with the registered codecs (<see cref="Codec{T}"/>): grain state,
/// log payloads, tests. A value is written as one field (id 0), so null round-trips.
/// </summary>
/// <remarks>Thread-safe. Reading grain references needs <see cref="SerializationContext.Enter"/>
/// (except in <see cref="DeepCopy{T}"/>, which keeps the reference objects).</remarks>
public static class ActorSerializer
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/>.</summary>
    public static void Serialize<T>(T value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new ActorWriter(output);
        FieldCodec.WriteField(ref writer, 0, value);
    }

    /// <summary>Writes <paramref name="value"/> to a new array.</summary>
    public static byte[] SerializeToArray<T>(T value)
    {
        var buffer = RentScratch();
        try
        {
            Serialize(value, buffer);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            ReturnScratch(buffer);
        }
    }

    /// <summary>Reads a value written by <see cref="Serialize{T}"/>; the input must hold exactly one value.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> input)
    {
        var reader = new ActorReader(input);
        var value = FieldCodec.ReadField<T>(ref reader);
        if (!reader.IsEnd)
        {
            throw new SerializationException(
                $"{reader.Remaining} bytes follow the serialized {typeof(T).Name}; the input holds something else.");
        }

        return value;
    }

    /// <summary>A copy of <paramref name="value"/> that shares no mutable state with it. Values of
    /// immutable types (primitives, strings, [Immutable] types, grain references) are returned as is.</summary>
    public static T DeepCopy<T>(T value)
    {
        if (value is null || ImmutableType<T>.Value)
        {
            return value;
        }

        var buffer = RentScratch();
        var outer = DeepCopyContext.References;
        DeepCopyContext.References = [];
        try
        {
            Serialize(value, buffer);
            return Deserialize<T>(buffer.WrittenSpan);
        }
        finally
        {
            DeepCopyContext.References = outer;
            ReturnScratch(buffer);
        }
    }

    private static ArrayBufferWriter<byte> RentScratch()
    {
        var buffer = scratch;
        scratch = null;
        return buffer ?? new ArrayBufferWriter<byte>(256);
    }

    private static void ReturnScratch(ArrayBufferWriter<byte> buffer)
    {
        // Keep modest buffers only, so one huge value does not pin memory for the thread's lifetime.
        if (buffer.Capacity <= 1024 * 1024)
        {
            buffer.ResetWrittenCount();
            scratch = buffer;
        }
    }

    private static class ImmutableType<T>
    {
        public static readonly bool Value = Compute(typeof(T));

        private static bool Compute(Type type) =>
            type.IsPrimitive
            || type.IsEnum
            || type == typeof(string)
            || type == typeof(decimal)
            || type == typeof(Guid)
            || type == typeof(DateTime)
            || type == typeof(DateTimeOffset)
            || type == typeof(TimeSpan)
            || (type.IsInterface && typeof(IGrain).IsAssignableFrom(type))
            || type.GetCustomAttribute<ImmutableAttribute>() is not null
            || (Nullable.GetUnderlyingType(type) is { } underlying && Compute(underlying));
    }
}
