using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>
/// The header at the start of every frame, after the 4-byte big-endian length prefix. Layout
/// (ActorWriter encodings): <c>kind(byte) flags(byte) correlationId(varint)</c>, then by kind:
/// Request/OneWay: <c>interfaceId(varint) methodId(varint) timeToLiveMs(varint) grainType(string) grainKey(string)</c>;
/// Response: <c>status(byte)</c>; SystemRequest: <c>operation(byte)</c>; other kinds: nothing.
/// The body follows. The sender is the connection's peer, established by the handshake.
/// </summary>
internal struct MessageHeader
{
    public MessageKind Kind;
    public MessageFlags Flags;
    public long CorrelationId;
    public uint InterfaceId;
    public ushort MethodId;
    public uint TimeToLiveMs;
    public GrainId Target;
    public ResponseStatus Status;
    public SystemOperation Operation;

    public static void WriteRequest(ref ActorWriter writer, MessageKind kind, MessageFlags flags, long correlationId,
        GrainId target, uint interfaceId, ushort methodId, uint timeToLiveMs)
    {
        writer.WriteByte((byte)kind);
        writer.WriteByte((byte)flags);
        writer.WriteVarInt64(correlationId);
        writer.WriteVarUInt32(interfaceId);
        writer.WriteVarUInt32(methodId);
        writer.WriteVarUInt32(timeToLiveMs);
        writer.WriteString(target.Type);
        writer.WriteString(target.Key);
    }

    public static void WriteResponse(ref ActorWriter writer, long correlationId, ResponseStatus status)
    {
        writer.WriteByte((byte)MessageKind.Response);
        writer.WriteByte(0);
        writer.WriteVarInt64(correlationId);
        writer.WriteByte((byte)status);
    }

    public static void WriteSystemRequest(ref ActorWriter writer, long correlationId, SystemOperation operation)
    {
        writer.WriteByte((byte)MessageKind.SystemRequest);
        writer.WriteByte(0);
        writer.WriteVarInt64(correlationId);
        writer.WriteByte((byte)operation);
    }

    public static void WriteSimple(ref ActorWriter writer, MessageKind kind, long correlationId)
    {
        writer.WriteByte((byte)kind);
        writer.WriteByte(0);
        writer.WriteVarInt64(correlationId);
    }

    /// <summary>Reads a header; throws <see cref="SerializationException"/> when malformed.</summary>
    public static MessageHeader Read(ref ActorReader reader)
    {
        var header = default(MessageHeader);
        header.Kind = (MessageKind)reader.ReadByte();
        header.Flags = (MessageFlags)reader.ReadByte();
        header.CorrelationId = reader.ReadVarInt64();
        switch (header.Kind)
        {
            case MessageKind.Request:
            case MessageKind.OneWay:
                header.InterfaceId = reader.ReadVarUInt32();
                header.MethodId = checked((ushort)reader.ReadVarUInt32());
                header.TimeToLiveMs = reader.ReadVarUInt32();
                var type = GrainTypeNames.Intern(reader.ReadLengthPrefixed());
                var key = reader.ReadString();
                header.Target = new GrainId(type, key);
                break;
            case MessageKind.Response:
                header.Status = (ResponseStatus)reader.ReadByte();
                break;
            case MessageKind.SystemRequest:
                header.Operation = (SystemOperation)reader.ReadByte();
                break;
            case MessageKind.Handshake:
            case MessageKind.HandshakeAccept:
            case MessageKind.HandshakeReject:
            case MessageKind.Cancel:
            case MessageKind.Ping:
            case MessageKind.Pong:
                break;
            default:
                throw new SerializationException($"Unknown message kind {(byte)header.Kind}.");
        }

        return header;
    }

    public static MessageFlags FlagsOf(Invocation.GrainInvokable call)
    {
        var flags = (MessageFlags)(byte)call.Flags & (MessageFlags.OneWay | MessageFlags.AlwaysInterleave | MessageFlags.ReadOnly);
        if (call.AcceptsCancellation && call.CancellationToken.CanBeCanceled)
        {
            flags |= MessageFlags.Cancellable;
        }

        return flags;
    }
}

/// <summary>Grain type names read off the wire, shared instead of allocated per message (there are few).</summary>
/// <remarks>Thread-safe; bounded: past <see cref="Capacity"/> names new ones are allocated, not cached.</remarks>
internal static class GrainTypeNames
{
    public const int Capacity = 4096;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);

    public static string Intern(ReadOnlySpan<byte> utf8)
    {
        var lookup = Names.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> chars = utf8.Length <= 256 ? stackalloc char[utf8.Length] : new char[utf8.Length];
        var count = System.Text.Encoding.UTF8.GetChars(utf8, chars);
        if (lookup.TryGetValue(chars[..count], out var known))
        {
            return known;
        }

        var name = new string(chars[..count]);
        if (Names.Count < Capacity)
        {
            Names.TryAdd(name, name);
        }

        return name;
    }
}
