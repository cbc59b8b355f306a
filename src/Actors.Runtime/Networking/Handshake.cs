using Actors.Membership;
using Actors.Serialization;

namespace Actors.Networking;

/// <summary>
/// The first frame on every connection, sent by the connecting side. Body layout:
/// <c>protocolVersion(varint) isClient(byte) sender(string: silo address or client id) expectedTarget(string, "" if unknown)</c>.
/// The accepting side refuses (and closes) when the expected target is another incarnation of itself.
/// </summary>
internal sealed record HandshakeRequest(bool IsClient, string Sender, SiloAddress? ExpectedTarget)
{
    public const uint ProtocolVersion = 1;

    public SiloAddress? SenderSilo => IsClient ? null : SiloAddress.Parse(Sender);

    public void Write(ref ActorWriter writer)
    {
        writer.WriteVarUInt32(ProtocolVersion);
        writer.WriteByte(IsClient ? (byte)1 : (byte)0);
        writer.WriteString(Sender);
        writer.WriteString(ExpectedTarget?.ToString() ?? string.Empty);
    }

    public static HandshakeRequest Read(ref ActorReader reader)
    {
        var version = reader.ReadVarUInt32();
        if (version != ProtocolVersion)
        {
            throw new SerializationException($"Protocol version {version} is not supported (this side speaks {ProtocolVersion}).");
        }

        var isClient = reader.ReadByte() != 0;
        var sender = reader.ReadString();
        var expected = reader.ReadString();
        return new HandshakeRequest(isClient, sender, expected.Length == 0 ? null : SiloAddress.Parse(expected));
    }
}

/// <summary>
/// The accepting silo's answer. Body layout: <c>silo(string) name(string) count(varint) (interfaceId(varint) grainType(string))*</c>;
/// the list maps grain interfaces to grain types, so clients without the grain classes can build grain ids.
/// </summary>
internal sealed record HandshakeAccept(SiloAddress Silo, string Name, IReadOnlyList<KeyValuePair<uint, string>> Manifest)
{
    public void Write(ref ActorWriter writer)
    {
        writer.WriteString(Silo.ToString());
        writer.WriteString(Name);
        writer.WriteVarUInt32((uint)Manifest.Count);
        foreach (var (interfaceId, grainType) in Manifest)
        {
            writer.WriteVarUInt32(interfaceId);
            writer.WriteString(grainType);
        }
    }

    public static HandshakeAccept Read(ref ActorReader reader)
    {
        var silo = SiloAddress.Parse(reader.ReadString());
        var name = reader.ReadString();
        var count = reader.ReadVarUInt32();
        if (count > 100_000)
        {
            throw new SerializationException($"Handshake manifest of {count} entries is too large.");
        }

        var manifest = new List<KeyValuePair<uint, string>>((int)count);
        for (var i = 0; i < count; i++)
        {
            manifest.Add(new(reader.ReadVarUInt32(), reader.ReadString()));
        }

        return new HandshakeAccept(silo, name, manifest);
    }
}

/// <summary>Generation rules shared by the handshake and the connection manager.</summary>
internal static class SiloIdentity
{
    /// <summary>Generation 0 means "unknown" (a statically configured peer) and matches any incarnation.</summary>
    public static bool Matches(SiloAddress expected, SiloAddress actual) =>
        expected.IsSameEndpoint(actual) && (expected.Generation == 0 || actual.Generation == 0 || expected.Generation == actual.Generation);
}
