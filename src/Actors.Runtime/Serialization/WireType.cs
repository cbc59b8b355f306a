namespace Actors.Serialization;

/// <summary>
/// How a field's payload is framed, so a reader can skip a field it does not know
/// (a newer writer's field) without knowing its type. The field header is a varint
/// <c>(fieldId &lt;&lt; 3) | wireType</c>.
/// </summary>
/// <remarks>Persisted in grain state and carried on the wire: values never change.</remarks>
public enum WireType : byte
{
    /// <summary>A varint (zig-zag for signed integers).</summary>
    VarInt = 0,

    /// <summary>4 bytes, little-endian.</summary>
    Fixed32 = 1,

    /// <summary>8 bytes, little-endian.</summary>
    Fixed64 = 2,

    /// <summary>A varint length then that many bytes (strings, byte arrays, packed data).</summary>
    LengthPrefixed = 3,

    /// <summary>A nested object: fields follow until an <see cref="EndTagDelimited"/> header.</summary>
    TagDelimited = 4,

    /// <summary>Ends the innermost <see cref="TagDelimited"/> object. Its field id is 0.</summary>
    EndTagDelimited = 5,

    /// <summary>The field is present and null; no payload.</summary>
    Null = 6,
}
