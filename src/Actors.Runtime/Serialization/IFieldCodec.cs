namespace Actors.Serialization;

/// <summary>
/// Writes and reads values of one type. The generator emits a codec per [GenerateSerializer] type;
/// built-in codecs cover primitives, strings, byte payloads, Guid, DateTime(Offset), TimeSpan,
/// enums, nullable values, arrays, lists, dictionaries and exceptions.
/// </summary>
public interface IFieldCodec<T>
{
    /// <summary>How this codec frames a non-null value (used in the field header).</summary>
    WireType WireType { get; }

    /// <summary>Writes the payload of a non-null value (the field header is already written).</summary>
    void Write(ref ActorWriter writer, T value);

    /// <summary>Reads a payload framed as <paramref name="wireType"/> (the header is already read).</summary>
    T Read(ref ActorReader reader, WireType wireType);
}
