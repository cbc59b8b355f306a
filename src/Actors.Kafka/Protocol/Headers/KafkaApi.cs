namespace Actors.Kafka.Protocol;

/// <summary>
/// One API we serve: its key, the versions we support (inclusive) and the first flexible version (compact
/// strings and arrays, tagged fields, request header v2 and response header v1).
/// </summary>
/// <param name="Key">The API key.</param>
/// <param name="MinVersion">The oldest version we accept.</param>
/// <param name="MaxVersion">The newest version we accept.</param>
/// <param name="FirstFlexibleVersion">The first flexible version, as Kafka defines it for this API (it may lie
/// above <paramref name="MaxVersion"/>: a newer client's version is still framed by Kafka's rule).</param>
public sealed record KafkaApi(ApiKey Key, short MinVersion, short MaxVersion, short FirstFlexibleVersion)
{
    /// <summary>True when we have a codec for <paramref name="version"/>.</summary>
    public bool IsSupported(short version) => version >= MinVersion && version <= MaxVersion;

    /// <summary>True when <paramref name="version"/> is flexible (whether or not we support it).</summary>
    public bool IsFlexible(short version) => version >= FirstFlexibleVersion;

    /// <summary>The request header version a request of <paramref name="version"/> carries: 2 when flexible, else 1.</summary>
    public short RequestHeaderVersion(short version) => IsFlexible(version) ? (short)2 : (short)1;

    /// <summary>
    /// The response header version for a response of <paramref name="version"/>: 1 when flexible, else 0 —
    /// except ApiVersions, always 0, so a client that does not know our versions yet can read the answer.
    /// </summary>
    public short ResponseHeaderVersion(short version) =>
        Key != ApiKey.ApiVersions && IsFlexible(version) ? (short)1 : (short)0;

    /// <summary>Fails with UNSUPPORTED_VERSION unless we support <paramref name="version"/>.</summary>
    public void EnsureSupported(short version)
    {
        if (!IsSupported(version))
        {
            throw new KafkaProtocolException(
                $"{Key} version {version} is not supported (supported: {MinVersion} to {MaxVersion})",
                -1,
                ErrorCode.UnsupportedVersion);
        }
    }

    /// <summary>Fails with an <see cref="ArgumentOutOfRangeException"/> unless we support <paramref name="version"/>
    /// (writing an unsupported version is a bug on our side).</summary>
    internal void EnsureWritable(short version)
    {
        if (!IsSupported(version))
        {
            throw new ArgumentOutOfRangeException(
                nameof(version), version, $"{Key} supports versions {MinVersion} to {MaxVersion}");
        }
    }
}
