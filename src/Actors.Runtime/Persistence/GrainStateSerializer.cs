using Actors.Serialization;

namespace Actors.Persistence;

/// <summary>Turns grain state into bytes for storage providers and back, with the generated codecs.</summary>
internal static class GrainStateSerializer
{
    public static byte[] Serialize<TState>(TState state) => ActorSerializer.SerializeToArray(state);

    public static TState Deserialize<TState>(ReadOnlySpan<byte> data) => ActorSerializer.Deserialize<TState>(data);
}
