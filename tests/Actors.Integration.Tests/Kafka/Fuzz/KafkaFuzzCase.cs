using System.Buffers.Binary;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>The kinds of malformed request <see cref="KafkaRequestFuzzer"/> makes.</summary>
internal enum FuzzFamily
{
    /// <summary>A correct size prefix, then random bytes.</summary>
    RandomBytes,

    /// <summary>A well-formed header for some API and version, then a random body.</summary>
    RandomBody,

    /// <summary>A well-formed request cut short: the prefix gives the cut length, or the full length with fewer
    /// bytes sent, or the prefix itself is cut.</summary>
    Truncated,

    /// <summary>A well-formed request whose size prefix is zero, negative, larger than sent, above the frame limit, or
    /// smaller than the request.</summary>
    WrongSize,

    /// <summary>A header, then an array or string count of 0x7FFFFFFF, a negative count, or a compact count that is a
    /// huge unsigned varint; or a header whose tagged-field count is huge.</summary>
    HugeArrayCount,

    /// <summary>A varint of more than five bytes, or five bytes carrying more than 32 bits, where a varint is read.</summary>
    BadVarint,

    /// <summary>A string (the client id or one in the body) with a negative or too large length, or invalid UTF-8.</summary>
    BadString,

    /// <summary>An API key we do not serve (negative ones too), or a served key with a version we do not serve.</summary>
    UnknownKeyOrVersion,

    /// <summary>Header v2 with bogus tagged fields: descending or repeated tags, sizes past the end, huge tags.</summary>
    BogusTaggedFields,
}

/// <summary>
/// One fuzz case: the bytes sent after any well-formed requests pipelined before it (size prefixes included; they
/// may hold several frames, a partial one, or a size prefix the listener must refuse).
/// </summary>
/// <param name="Index">The case's number; with the seed it reproduces the case.</param>
/// <param name="Family">What kind of damage it carries.</param>
/// <param name="ApiKey">The API key it was built for (possibly one we do not serve).</param>
/// <param name="ApiVersion">The version it was built for.</param>
/// <param name="Description">What was done, for failure messages.</param>
/// <param name="Bytes">The bytes to send.</param>
/// <param name="WellFormedValidRequests">How many well-formed requests to pipeline before <paramref name="Bytes"/>.</param>
/// <param name="MustBeAnswered">True when the listener must answer rather than close: an ApiVersions request of a
/// version we do not serve, with a well-formed header (answered UNSUPPORTED_VERSION).</param>
internal sealed record KafkaFuzzCase(
    int Index,
    FuzzFamily Family,
    short ApiKey,
    short ApiVersion,
    string Description,
    byte[] Bytes,
    int WellFormedValidRequests,
    bool MustBeAnswered)
{
    /// <summary>The first bytes of the case in hex (at most <paramref name="max"/>), for failure messages.</summary>
    public string Hex(int max = 96) =>
        Convert.ToHexString(Bytes, 0, Math.Min(max, Bytes.Length)) + (Bytes.Length > max ? $"... ({Bytes.Length} bytes)" : $" ({Bytes.Length} bytes)");

    /// <summary>
    /// The frames the listener can read whole from <see cref="Bytes"/>, in order, and how the bytes end: exactly at a
    /// frame boundary, with a size prefix the listener must refuse (negative or above <paramref name="maxFrameBytes"/>;
    /// nothing after it is read), or inside a frame (the listener rightly waits for the rest: the client half-closes).
    /// </summary>
    public (IReadOnlyList<ArraySegment<byte>> Frames, FrameEnding Ending) Walk(int maxFrameBytes)
    {
        var frames = new List<ArraySegment<byte>>();
        var position = 0;
        while (position < Bytes.Length)
        {
            if (Bytes.Length - position < 4)
            {
                return (frames, FrameEnding.Partial);
            }

            var size = BinaryPrimitives.ReadInt32BigEndian(Bytes.AsSpan(position, 4));
            if (size < 0 || size > maxFrameBytes)
            {
                return (frames, FrameEnding.RefusedSize);
            }

            if (Bytes.Length - position - 4 < size)
            {
                return (frames, FrameEnding.Partial);
            }

            frames.Add(new ArraySegment<byte>(Bytes, position + 4, size));
            position += 4 + size;
        }

        return (frames, FrameEnding.Boundary);
    }
}

/// <summary>How the bytes of a case end, as the listener reads them.</summary>
internal enum FrameEnding
{
    /// <summary>Exactly after a whole frame.</summary>
    Boundary,

    /// <summary>At a size prefix the listener refuses (it must close without reading further).</summary>
    RefusedSize,

    /// <summary>Inside a size prefix or a frame: the listener waits for more, so the client half-closes.</summary>
    Partial,
}
