using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Actors.Kafka.Protocol;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>
/// Makes malformed Kafka requests, reproducibly: case <c>i</c> of seed <c>s</c> is always the same bytes, whatever
/// order cases are made in. The APIs and versions come from <see cref="ApiKeys.All"/> when it is constructed, so an
/// API added there is fuzzed with no change here; unknown keys (negative ones too) and versions around and far from
/// each served range are added.
/// </summary>
internal sealed class KafkaRequestFuzzer
{
    private static readonly FuzzFamily[] Families = Enum.GetValues<FuzzFamily>();

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF],
        [0xC3, 0x28],
        [0xC0, 0xAF],
        [0xED, 0xA0, 0x80],
        [0xE2, 0x82],
        [0xF4, 0x90, 0x80, 0x80],
        [(byte)'a', 0x80, (byte)'b'],
    ];

    private readonly short[] unknownKeys;

    /// <summary>Makes cases for <paramref name="seed"/>; <paramref name="maxFrameBytes"/> is the listener's limit.</summary>
    public KafkaRequestFuzzer(int seed, int maxFrameBytes = KafkaFrameReader.DefaultMaxFrameBytes)
    {
        Seed = seed;
        MaxFrameBytes = maxFrameBytes;
        Served = ApiKeys.All;
        var served = Served.Select(a => (short)a.Key).ToHashSet();
        var highest = served.Max();
        unknownKeys = new short[] { -1, -2, short.MinValue, short.MaxValue, (short)(highest + 1), 100, 1000, 0x7F7F }
            .Where(k => !served.Contains(k)).Distinct().ToArray();
    }

    public int Seed { get; }

    public int MaxFrameBytes { get; }

    /// <summary>The APIs fuzzed as served (read once from <see cref="ApiKeys.All"/>).</summary>
    public IReadOnlyList<KafkaApi> Served { get; }

    /// <summary>Case <paramref name="index"/> of this seed.</summary>
    public KafkaFuzzCase Create(int index)
    {
        var random = new Random(unchecked((Seed * 1_000_003) ^ index));
        var family = Families[index % Families.Length];
        var pipelined = random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 };
        var builder = new CaseBuilder(this, random, index);
        var (key, version, description, bytes, mustBeAnswered) = family switch
        {
            FuzzFamily.RandomBytes => builder.RandomBytes(),
            FuzzFamily.RandomBody => builder.RandomBody(),
            FuzzFamily.Truncated => builder.Truncated(),
            FuzzFamily.WrongSize => builder.WrongSize(),
            FuzzFamily.HugeArrayCount => builder.HugeArrayCount(),
            FuzzFamily.BadVarint => builder.BadVarint(),
            FuzzFamily.BadString => builder.BadString(),
            FuzzFamily.UnknownKeyOrVersion => builder.UnknownKeyOrVersion(),
            FuzzFamily.BogusTaggedFields => builder.BogusTaggedFields(),
            _ => throw new InvalidOperationException($"No generator for {family}."),
        };
        return new KafkaFuzzCase(index, family, key, version, description, bytes, pipelined, mustBeAnswered);
    }

    /// <summary>A well-formed request frame (size prefix included) that the listener answers: ApiVersions of a served
    /// version, or Metadata asking for no topics (v1+) — what is pipelined before a case and what the canary sends.</summary>
    public static (byte[] Frame, KafkaApi Api, short Version) WellFormed(Random random, int correlationId)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (random.Next(4) == 0)
        {
            var version = (short)random.Next(Math.Max((short)1, ApiKeys.Metadata.MinVersion), ApiKeys.Metadata.MaxVersion + 1);
            var request = new KafkaMetadataRequest { Topics = [], AllowAutoTopicCreation = version < 4 };
            return (Frame(Request(ApiKeys.Metadata, version, correlationId, "fuzz-canary", (ref KafkaWriter w) => MetadataCodec.WriteRequest(ref w, request, version))),
                ApiKeys.Metadata, version);
        }

        var v = (short)random.Next(ApiKeys.ApiVersions.MinVersion, ApiKeys.ApiVersions.MaxVersion + 1);
        var body = new ApiVersionsRequest { ClientSoftwareName = "fuzz-canary", ClientSoftwareVersion = "1.0" };
        return (Frame(Request(ApiKeys.ApiVersions, v, correlationId, "fuzz-canary", (ref KafkaWriter w) => ApiVersionsCodec.WriteRequest(ref w, body, v))),
            ApiKeys.ApiVersions, v);
    }

    private delegate void BodyWriter(ref KafkaWriter writer);

    private static byte[] Request(KafkaApi api, short version, int correlationId, string clientId, BodyWriter body)
    {
        var payload = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(payload);
        new RequestHeader((short)api.Key, version, correlationId, clientId).Write(ref writer, api.RequestHeaderVersion(version));
        body(ref writer);
        return payload.WrittenSpan.ToArray();
    }

    private static byte[] Frame(ReadOnlySpan<byte> payload) => SizePrefixed(payload.Length, payload);

    private static byte[] SizePrefixed(int size, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }

    /// <summary>The bytes of one case; every choice comes from the case's own <see cref="Random"/>.</summary>
    private sealed class CaseBuilder(KafkaRequestFuzzer fuzzer, Random random, int index)
    {
        private int CorrelationId { get; } = index;

        public (short, short, string, byte[], bool) RandomBytes()
        {
            var length = random.Next(100) switch { < 30 => random.Next(0, 17), < 95 => random.Next(0, 257), _ => random.Next(1024, 65537) };
            var payload = Bytes(length);
            var key = length >= 2 ? BinaryPrimitives.ReadInt16BigEndian(payload) : (short)-1;
            var version = length >= 4 ? BinaryPrimitives.ReadInt16BigEndian(payload.AsSpan(2)) : (short)-1;
            return (key, version, $"{length} random bytes", Frame(payload), false);
        }

        public (short, short, string, byte[], bool) RandomBody()
        {
            var (key, version, api) = AnyTarget();
            var length = random.Next(100) switch { < 40 => random.Next(0, 9), < 98 => random.Next(0, 257), _ => random.Next(64 * 1024, 1024 * 1024 + 1) };
            var payload = Concat(Header(key, version, api, ClientId()), Bytes(length));
            return (key, version, $"well-formed header, {length} random body bytes", Frame(payload), false);
        }

        public (short, short, string, byte[], bool) Truncated()
        {
            var (key, version, api) = ServedTarget();
            var payload = WellFormedPayload(key, version, api);
            var cut = random.Next(payload.Length);
            return random.Next(10) switch
            {
                < 6 => (key, version, $"well-formed request of {payload.Length} bytes cut to {cut}, size prefix {cut}",
                    Frame(payload.AsSpan(0, cut)), false),
                < 9 => (key, version, $"well-formed request of {payload.Length} bytes, size prefix {payload.Length}, only {cut} sent",
                    SizePrefixed(payload.Length, payload.AsSpan(0, cut)), false),
                _ => (key, version, "size prefix cut", Frame(payload)[..random.Next(1, 4)], false),
            };
        }

        public (short, short, string, byte[], bool) WrongSize()
        {
            var (key, version, api) = AnyTarget();
            var payload = WellFormedPayload(key, version, api);
            var size = random.Next(10) switch
            {
                0 => 0,
                1 => -1,
                2 => int.MinValue,
                3 => -random.Next(2, int.MaxValue),
                4 => payload.Length + random.Next(1, 1001),
                5 => fuzzer.MaxFrameBytes,
                6 => fuzzer.MaxFrameBytes + 1,
                7 => int.MaxValue,
                8 => random.Next(fuzzer.MaxFrameBytes / 2, fuzzer.MaxFrameBytes),
                _ => Math.Max(0, payload.Length - random.Next(1, payload.Length + 1)),
            };
            return (key, version, $"request of {payload.Length} bytes with size prefix {size}", SizePrefixed(size, payload), false);
        }

        public (short, short, string, byte[], bool) HugeArrayCount()
        {
            var (key, version, api) = ServedTarget();
            var flexible = api?.IsFlexible(version) ?? false;
            if (flexible && random.Next(4) == 0)
            {
                // The header's tagged-field count itself is huge.
                var count = HugeVarint();
                var header = Concat(HeaderStart(key, version), String16(ClientId()), count);
                return (key, version, $"header v2 with tagged-field count {Hex(count)}", Frame(Concat(header, Bytes(random.Next(0, 17)))), false);
            }

            byte[] head;
            if (flexible)
            {
                head = HugeVarint();
            }
            else
            {
                head = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(head, random.Next(4) switch
                {
                    0 => int.MaxValue,
                    1 => -2,
                    2 => int.MinValue,
                    _ => random.Next(0x1000_0000, int.MaxValue),
                });
            }

            var tail = Bytes(random.Next(0, 33));
            var payload = Concat(Header(key, version, api, ClientId()), head, tail);
            return (key, version, $"body starts with count {Hex(head)}, then {tail.Length} random bytes", Frame(payload), false);
        }

        public (short, short, string, byte[], bool) BadVarint()
        {
            var (key, version, api) = FlexibleTarget();
            var varint = random.Next(3) switch
            {
                0 => Enumerable.Repeat((byte)0xFF, random.Next(6, 12)).Append((byte)0x01).ToArray(),
                1 => [0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
                _ => Enumerable.Range(0, random.Next(6, 16)).Select(_ => (byte)(0x80 | random.Next(128))).ToArray(),
            };
            if (random.Next(2) == 0)
            {
                var payload = Concat(HeaderStart(key, version), String16(ClientId()), varint, Bytes(random.Next(0, 9)));
                return (key, version, $"header v2 with tagged-field count {Hex(varint)}", Frame(payload), false);
            }

            var body = Concat(Header(key, version, api, ClientId()), varint, Bytes(random.Next(0, 9)));
            return (key, version, $"body starts with varint {Hex(varint)}", Frame(body), false);
        }

        public (short, short, string, byte[], bool) BadString()
        {
            var (key, version, api) = ServedTarget();
            var flexible = api?.IsFlexible(version) ?? false;
            var invalid = InvalidUtf8[random.Next(InvalidUtf8.Length)];
            switch (random.Next(4))
            {
                case 0:
                {
                    var length = random.Next(2) == 0 ? (short)-random.Next(2, short.MaxValue + 1) : short.MaxValue;
                    var clientId = new byte[2];
                    BinaryPrimitives.WriteInt16BigEndian(clientId, length);
                    var payload = Concat(HeaderStart(key, version), clientId, Bytes(random.Next(0, 17)));
                    return (key, version, $"client id of length {length}", Frame(payload), false);
                }

                case 1:
                {
                    var name = Concat(Encoding.ASCII.GetBytes("id-"), invalid);
                    var payload = Concat(HeaderStart(key, version), String16Bytes(name), flexible ? [0] : [], WellFormedBody(key, version, api));
                    return (key, version, $"client id with invalid UTF-8 {Hex(invalid)}", Frame(payload), false);
                }

                default:
                {
                    // A string in the body: ApiVersions v3's software name, Metadata's first topic name, or the first
                    // bytes of any other body, with a huge length or invalid UTF-8.
                    var huge = random.Next(2) == 0;
                    var text = huge ? (flexible ? HugeVarint() : [0x7F, 0xFF]) : Concat(flexible ? [(byte)(invalid.Length + 1)] : [0, (byte)invalid.Length], invalid);
                    var prefix = (ApiKey)key == ApiKey.Metadata && api is not null ? MetadataOneTopicPrefix(version) : [];
                    var payload = Concat(Header(key, version, api, ClientId()), prefix, text, Bytes(random.Next(0, 9)));
                    return (key, version, huge ? $"body string with length {Hex(text)}" : $"body string with invalid UTF-8 {Hex(invalid)}", Frame(payload), false);
                }
            }
        }

        public (short, short, string, byte[], bool) UnknownKeyOrVersion()
        {
            short key;
            short version;
            KafkaApi? api = null;
            if (random.Next(2) == 0)
            {
                key = random.Next(3) == 0 ? UnknownRandomKey() : fuzzer.unknownKeys[random.Next(fuzzer.unknownKeys.Length)];
                version = (short)random.Next(short.MinValue, short.MaxValue + 1);
            }
            else
            {
                api = fuzzer.Served[random.Next(fuzzer.Served.Count)];
                key = (short)api.Key;
                version = random.Next(5) switch
                {
                    0 => (short)(api.MinVersion - 1),
                    1 => (short)(api.MaxVersion + 1),
                    2 => short.MaxValue,
                    3 => short.MinValue,
                    _ => (short)random.Next(short.MinValue, short.MaxValue + 1),
                };
                if (api.IsSupported(version))
                {
                    version = (short)(api.MaxVersion + 1);
                }
            }

            var body = Bytes(random.Next(0, 33));
            if (api is not null && api.IsFlexible(version) && random.Next(2) == 0)
            {
                body = [0];
            }

            var payload = Concat(Header(key, version, api, ClientId()), body);
            // An ApiVersions request of a version we do not serve is answered (UNSUPPORTED_VERSION), not closed.
            var mustBeAnswered = api?.Key == ApiKey.ApiVersions;
            return (key, version, $"{(api is null ? "unknown API key" : "version not served")}, {body.Length} body bytes", Frame(payload), mustBeAnswered);
        }

        public (short, short, string, byte[], bool) BogusTaggedFields()
        {
            var (key, version, _) = FlexibleTarget();
            var (what, tags) = random.Next(6) switch
            {
                0 => ("descending tags", new byte[] { 2, 5, 0, 3, 0 }),
                1 => ("repeated tag", new byte[] { 2, 4, 1, 0xAA, 4, 1, 0xBB }),
                2 => ("field size past the end", new byte[] { 1, 0, 0x7F, 1, 2 }),
                3 => ("field size a huge varint", Concat([1, 0], HugeVarint())),
                4 => ("tag above int32", Concat([1], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0])),
                _ => ("more fields than bytes", new byte[] { 0x40, 0, 0 }),
            };
            var payload = Concat(HeaderStart(key, version), String16(ClientId()), tags, Bytes(random.Next(0, 9)));
            return (key, version, $"header v2 tagged fields: {what} {Hex(tags)}", Frame(payload), false);
        }

        private (short Key, short Version, KafkaApi? Api) AnyTarget() => random.Next(10) < 8 ? ServedTarget() : UnknownTarget();

        private (short Key, short Version, KafkaApi? Api) ServedTarget()
        {
            var api = fuzzer.Served[random.Next(fuzzer.Served.Count)];
            return ((short)api.Key, (short)random.Next(api.MinVersion, api.MaxVersion + 1), api);
        }

        private (short Key, short Version, KafkaApi? Api) UnknownTarget()
        {
            if (random.Next(2) == 0)
            {
                var api = fuzzer.Served[random.Next(fuzzer.Served.Count)];
                var version = random.Next(2) == 0 ? (short)(api.MaxVersion + 1) : (short)random.Next(short.MinValue, 0);
                return ((short)api.Key, version, api);
            }

            return (UnknownRandomKey(), (short)random.Next(-2, 20), null);
        }

        /// <summary>A served API at a flexible version (served or not), so its header is v2 and it has varints.</summary>
        private (short Key, short Version, KafkaApi? Api) FlexibleTarget()
        {
            var api = fuzzer.Served[random.Next(fuzzer.Served.Count)];
            var low = Math.Max(api.FirstFlexibleVersion, api.MinVersion);
            var version = low <= api.MaxVersion && random.Next(5) > 0 ? (short)random.Next(low, api.MaxVersion + 1) : (short)Math.Max(api.MaxVersion + 1, api.FirstFlexibleVersion);
            return ((short)api.Key, version, api);
        }

        private short UnknownRandomKey()
        {
            while (true)
            {
                var key = (short)random.Next(short.MinValue, short.MaxValue + 1);
                if (!ApiKeys.TryGet(key, out _))
                {
                    return key;
                }
            }
        }

        /// <summary>A well-formed request's payload: codecs for ApiVersions and Metadata, a random body for any other.</summary>
        private byte[] WellFormedPayload(short key, short version, KafkaApi? api) => Concat(Header(key, version, api, ClientId()), WellFormedBody(key, version, api));

        private byte[] WellFormedBody(short key, short version, KafkaApi? api)
        {
            if (api is null || !api.IsSupported(version))
            {
                return Bytes(random.Next(0, 33));
            }

            var payload = new ArrayBufferWriter<byte>();
            var writer = new KafkaWriter(payload);
            switch ((ApiKey)key)
            {
                case ApiKey.ApiVersions:
                    ApiVersionsCodec.WriteRequest(ref writer, new ApiVersionsRequest { ClientSoftwareName = Name(), ClientSoftwareVersion = "1.0" }, version);
                    break;
                case ApiKey.Metadata:
                    MetadataCodec.WriteRequest(ref writer, MetadataRequest(version), version);
                    break;
                default:
                    return Bytes(random.Next(0, 65));
            }

            return payload.WrittenSpan.ToArray();
        }

        private KafkaMetadataRequest MetadataRequest(short version)
        {
            var count = version == 0 ? random.Next(1, 4) : random.Next(0, 4);
            var topics = Enumerable.Range(0, count)
                .Select(_ => new MetadataRequestTopic(version >= 10 && random.Next(2) == 0 ? new Guid(Bytes(16)) : Guid.Empty, Name()))
                .ToArray();
            return new KafkaMetadataRequest { Topics = topics, AllowAutoTopicCreation = version < 4 };
        }

        /// <summary>Metadata's topic array of one element, up to the topic's name (v10+: its topic id first).</summary>
        private static byte[] MetadataOneTopicPrefix(short version)
        {
            var flexible = ApiKeys.Metadata.IsFlexible(version);
            var count = flexible ? new byte[] { 2 } : [0, 0, 0, 1];
            return version >= 10 ? Concat(count, new byte[16]) : count;
        }

        /// <summary>The header of <paramref name="api"/>'s version (v1, or v2 when flexible; v1 for an unknown key).</summary>
        private byte[] Header(short key, short version, KafkaApi? api, string? clientId)
        {
            var flexible = api?.IsFlexible(version) ?? false;
            return Concat(HeaderStart(key, version), String16(clientId), flexible ? [0] : []);
        }

        private byte[] HeaderStart(short key, short version)
        {
            var start = new byte[8];
            BinaryPrimitives.WriteInt16BigEndian(start, key);
            BinaryPrimitives.WriteInt16BigEndian(start.AsSpan(2), version);
            BinaryPrimitives.WriteInt32BigEndian(start.AsSpan(4), CorrelationId);
            return start;
        }

        private string? ClientId() => random.Next(10) switch { 0 => null, 1 => "", _ => "fuzz-" + Name() };

        private string Name()
        {
            const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-._";
            return new string(Enumerable.Range(0, random.Next(1, 13)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        }

        private static byte[] String16(string? value) => value is null ? [0xFF, 0xFF] : String16Bytes(Encoding.UTF8.GetBytes(value));

        private static byte[] String16Bytes(byte[] value)
        {
            var result = new byte[2 + value.Length];
            BinaryPrimitives.WriteInt16BigEndian(result, (short)value.Length);
            value.CopyTo(result, 2);
            return result;
        }

        /// <summary>An unsigned varint of at least 2^28: a compact count or length no frame can hold.</summary>
        private byte[] HugeVarint() => random.Next(3) switch
        {
            0 => [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            1 => [0x80, 0x80, 0x80, 0x80, 0x08],
            _ => [(byte)(0x80 | random.Next(128)), (byte)(0x80 | random.Next(128)), (byte)(0x80 | random.Next(128)), (byte)(0x80 | random.Next(128)), (byte)random.Next(1, 16)],
        };

        private byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

        private static byte[] Concat(params byte[][] parts)
        {
            var result = new byte[parts.Sum(p => p.Length)];
            var position = 0;
            foreach (var part in parts)
            {
                part.CopyTo(result, position);
                position += part.Length;
            }

            return result;
        }
    }
}
