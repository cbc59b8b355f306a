namespace Actors.Persistence;

/// <summary>Turns grain state into bytes for storage providers and back, with the generated codecs.</summary>
internal static class GrainStateSerializer
{
    public static byte[] Serialize<TState>(TState state) =>
        throw new NotSupportedException($"No serializer for {typeof(TState)} yet.");

    public static TState Deserialize<TState>(ReadOnlySpan<byte> data) =>
        throw new NotSupportedException($"No serializer for {typeof(TState)} yet.");
}
