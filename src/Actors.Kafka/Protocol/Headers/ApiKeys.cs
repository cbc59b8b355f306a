using System.Collections.Frozen;

namespace Actors.Kafka.Protocol;

/// <summary>
/// The APIs this layer serves and their version ranges: what an ApiVersions response advertises and what
/// the request header reader uses to frame each request. Adding an API is adding an entry here, beside its
/// codec (see docs/formats/kafka-protocol.md).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public static class ApiKeys
{
    /// <summary>ApiVersions (18): versions 0 to 3, flexible from 3.</summary>
    public static KafkaApi ApiVersions { get; } = new(ApiKey.ApiVersions, 0, 3, 3);

    /// <summary>Metadata (3): versions 0 to 12, flexible from 9.</summary>
    public static KafkaApi Metadata { get; } = new(ApiKey.Metadata, 0, 12, 9);

    /// <summary>Every API served, by key.</summary>
    public static IReadOnlyList<KafkaApi> All { get; } = new[] { Metadata, ApiVersions }.OrderBy(a => (short)a.Key).ToArray();

    private static readonly FrozenDictionary<short, KafkaApi> ByKey = All.ToFrozenDictionary(a => (short)a.Key);

    /// <summary>The API with key <paramref name="key"/>, if we serve it.</summary>
    public static bool TryGet(short key, out KafkaApi api) => ByKey.TryGetValue(key, out api!);

    /// <summary>The API with key <paramref name="key"/>; an unknown key is a protocol error.</summary>
    public static KafkaApi Get(short key) =>
        TryGet(key, out var api) ? api : throw new KafkaProtocolException($"API key {key} is not served", 0);
}
