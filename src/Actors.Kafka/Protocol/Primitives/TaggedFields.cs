using System.Buffers;

namespace Actors.Kafka.Protocol;

/// <summary>Writes one value of type <typeparamref name="T"/>: an element of an array, or a tagged field's body.</summary>
public delegate void KafkaValueWriter<in T>(ref KafkaWriter writer, T value);

/// <summary>
/// Tagged fields: the optional, self-sized fields of flexible versions. A section is an unsigned varint
/// count, then per field its tag (unsigned varint, strictly rising), its size (unsigned varint) and that
/// many bytes. A reader decodes the tags it knows and skips the others, so a newer peer may add tags.
/// </summary>
public static class TaggedFields
{
    /// <summary>The most fields one section may hold; also bounded by the bytes left (two a field at least).</summary>
    public const int CountMax = 4096;

    /// <summary>Writes one tagged field: <paramref name="body"/> is first written aside to learn its size.</summary>
    public static void Write<T>(ref KafkaWriter writer, int tag, T value, KafkaValueWriter<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var scratch = new ArrayBufferWriter<byte>();
        var bodyWriter = new KafkaWriter(scratch);
        body(ref bodyWriter, value);
        writer.WriteTaggedFieldHead(tag, scratch.WrittenCount);
        writer.WriteRaw(scratch.WrittenSpan);
    }
}
