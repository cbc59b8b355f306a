namespace Actors.Kafka.Protocol;

/// <summary>ApiVersions request (key 18). Versions 0 to 2 have an empty body; version 3 names the client software.</summary>
public sealed record ApiVersionsRequest
{
    /// <summary>The client software's name (v3+; empty when not sent).</summary>
    public string ClientSoftwareName { get; init; } = "";

    /// <summary>The client software's version (v3+; empty when not sent).</summary>
    public string ClientSoftwareVersion { get; init; } = "";
}

/// <summary>One API and the versions of it a broker supports, inclusive.</summary>
public sealed record ApiVersionRange(short ApiKey, short MinVersion, short MaxVersion);

/// <summary>A feature a broker supports and its version range (v3+, tagged field 0).</summary>
public sealed record SupportedFeature(string Name, short MinVersion, short MaxVersion);

/// <summary>A cluster-wide finalized feature level (v3+, tagged field 2). On the wire the max level comes first.</summary>
public sealed record FinalizedFeature(string Name, short MaxVersionLevel, short MinVersionLevel);

/// <summary>ApiVersions response: the APIs and versions the broker serves.</summary>
public sealed record ApiVersionsResponse
{
    /// <summary>The top-level error: <see cref="ErrorCode.UnsupportedVersion"/> when the request's version was not served.</summary>
    public ErrorCode ErrorCode { get; init; }

    /// <summary>Every API served and its version range.</summary>
    public IReadOnlyList<ApiVersionRange> ApiKeys { get; init; } = [];

    /// <summary>How long the request was throttled, in milliseconds (v1+).</summary>
    public int ThrottleTimeMs { get; init; }

    /// <summary>Features the broker supports (v3+, tagged; written only when not empty).</summary>
    public IReadOnlyList<SupportedFeature> SupportedFeatures { get; init; } = [];

    /// <summary>The epoch of the finalized features, -1 when unknown (v3+, tagged; written only when not -1).</summary>
    public long FinalizedFeaturesEpoch { get; init; } = -1;

    /// <summary>Cluster-wide finalized features (v3+, tagged; written only when not empty).</summary>
    public IReadOnlyList<FinalizedFeature> FinalizedFeatures { get; init; } = [];

    /// <summary>Set by a KRaft controller ready for a ZooKeeper migration (v3+, tagged; written only when true).</summary>
    public bool ZkMigrationReady { get; init; }

    /// <summary>The answer to a request we serve: no error and every API of <see cref="Protocol.ApiKeys"/>.</summary>
    public static ApiVersionsResponse Supported() => new() { ApiKeys = Ranges() };

    /// <summary>
    /// The answer to an ApiVersions request of a version we do not serve: UNSUPPORTED_VERSION and our ranges,
    /// written as version 0 (with a v0 response header), which every client can read; the client then retries
    /// with a version from the ApiVersions range it finds there.
    /// </summary>
    public static ApiVersionsResponse UnsupportedVersion() =>
        new() { ErrorCode = ErrorCode.UnsupportedVersion, ApiKeys = Ranges() };

    private static ApiVersionRange[] Ranges() =>
        Protocol.ApiKeys.All.Select(a => new ApiVersionRange((short)a.Key, a.MinVersion, a.MaxVersion)).ToArray();
}
