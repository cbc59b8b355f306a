using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Kafka.Protocol;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>
/// Sends fuzz cases to one running Kafka listener over many concurrent connections while a canary connection keeps
/// asking well-formed ApiVersions and Metadata, and samples the listener process's resident memory.
/// </summary>
/// <remarks>
/// Per case, on a connection: zero to two well-formed requests, then the case's bytes, all in one write. Every frame
/// the listener can read whole is then either answered (a response frame with that frame's correlation id, in order)
/// or the connection is closed; the well-formed requests before the bad one must be answered before the close. A case
/// that ends inside a frame is half-closed by the client (the listener rightly waits for the rest otherwise), and
/// the listener must then close. Neither an answer nor a close within <see cref="CaseDeadline"/> is a hang. A
/// connection whose every frame was answered is used for the next case.
/// </remarks>
internal sealed class KafkaFuzzDriver(KafkaRequestFuzzer fuzzer, int port, int pid, Action<string> log)
{
    /// <summary>How long a connection may go neither answered nor closed.</summary>
    public static readonly TimeSpan CaseDeadline = TimeSpan.FromSeconds(10);

    private const int MaxFailures = 50;
    private const int MaxResponseBytes = 16 * 1024 * 1024;

    private readonly ConcurrentQueue<string> failures = new();
    private readonly ConcurrentQueue<string> canaryFailures = new();
    private int failureCount;
    private int nextCase;
    private int nextCorrelationId = 1 << 30;
    private long wellFormedSent;
    private long connections;
    private long answeredWithError;
    private long answeredWithoutError;
    private long closedByServer;
    private long clientClosed;
    private long canarySuccesses;
    private long canaryMaxMicroseconds;
    private long peakRss;
    private readonly long[] families = new long[Enum.GetValues<FuzzFamily>().Length];
    private readonly ConcurrentDictionary<short, long> servedKeys = new();

    /// <summary>Runs <paramref name="cases"/> cases over <paramref name="concurrency"/> connections at a time.</summary>
    public async Task<KafkaFuzzReport> RunAsync(int cases, int concurrency)
    {
        var baseline = ProcessMemory.Rss(pid);
        peakRss = baseline;
        var clock = Stopwatch.StartNew();
        using var done = new CancellationTokenSource();
        var sampling = SampleMemoryAsync(done.Token);
        var canary = CanaryAsync(done.Token);
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => WorkerAsync(cases))).ToArray();
        await Task.WhenAll(workers);
        var fuzzElapsed = clock.Elapsed;
        await done.CancelAsync();
        await canary;
        await sampling;
        Sample();
        var sent = Math.Min(Volatile.Read(ref nextCase), cases);
        return new KafkaFuzzReport
        {
            Seed = fuzzer.Seed,
            MalformedSent = sent,
            WellFormedSent = Interlocked.Read(ref wellFormedSent),
            Connections = Interlocked.Read(ref connections),
            AnsweredWithError = Interlocked.Read(ref answeredWithError),
            AnsweredWithoutError = Interlocked.Read(ref answeredWithoutError),
            ClosedByServer = Interlocked.Read(ref closedByServer),
            ClientClosed = Interlocked.Read(ref clientClosed),
            CanarySuccesses = Interlocked.Read(ref canarySuccesses),
            CanaryMaxLatency = TimeSpan.FromMicroseconds(Interlocked.Read(ref canaryMaxMicroseconds)),
            CanaryFailures = [.. canaryFailures],
            Failures = [.. failures],
            FailureCount = Volatile.Read(ref failureCount),
            BaselineRssBytes = baseline,
            PeakRssBytes = Interlocked.Read(ref peakRss),
            PeakHwmBytes = ProcessMemory.HighWaterMark(pid),
            Elapsed = fuzzElapsed,
            Families = Enum.GetValues<FuzzFamily>().ToDictionary(f => f, f => Interlocked.Read(ref families[(int)f])),
            ServedKeys = new Dictionary<short, long>(servedKeys),
        };
    }

    private async Task WorkerAsync(int cases)
    {
        Socket? socket = null;
        try
        {
            while (Volatile.Read(ref failureCount) < MaxFailures)
            {
                var index = Interlocked.Increment(ref nextCase) - 1;
                if (index >= cases)
                {
                    return;
                }

                var fuzz = fuzzer.Create(index);
                Interlocked.Increment(ref families[(int)fuzz.Family]);
                if (ApiKeys.TryGet(fuzz.ApiKey, out _))
                {
                    servedKeys.AddOrUpdate(fuzz.ApiKey, 1, (_, n) => n + 1);
                }

                if (index > 0 && index % 10_000 == 0)
                {
                    log($"{index} cases sent, {Interlocked.Read(ref connections)} connections, peak RSS {Interlocked.Read(ref peakRss) / 1048576} MiB");
                }

                try
                {
                    socket ??= await ConnectAsync();
                    var reusable = await RunCaseAsync(socket, fuzz);
                    if (!reusable)
                    {
                        socket.Dispose();
                        socket = null;
                    }
                }
                catch (FuzzFailure e)
                {
                    Fail($"seed {fuzzer.Seed} case {fuzz.Index} ({fuzz.Family}, key {fuzz.ApiKey} v{fuzz.ApiVersion}, {fuzz.Description}): {e.Message}; bytes {fuzz.Hex()}");
                    socket?.Dispose();
                    socket = null;
                }
            }
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>Runs one case on <paramref name="socket"/>; true when the connection is still open and in step.</summary>
    private async Task<bool> RunCaseAsync(Socket socket, KafkaFuzzCase fuzz)
    {
        var random = new Random(unchecked((fuzzer.Seed * 31) ^ (fuzz.Index * 7919) ^ 0x5A5A5A));
        var expected = new Queue<Expected>();
        var output = new List<byte>();
        for (var i = 0; i < fuzz.WellFormedValidRequests; i++)
        {
            var id = Interlocked.Increment(ref nextCorrelationId);
            var (frame, api, version) = KafkaRequestFuzzer.WellFormed(random, id);
            output.AddRange(frame);
            expected.Enqueue(new Expected(id, (short)api.Key, version, WellFormed: true, Answerable: true));
        }

        Interlocked.Add(ref wellFormedSent, fuzz.WellFormedValidRequests);
        output.AddRange(fuzz.Bytes);
        var (frames, ending) = fuzz.Walk(fuzzer.MaxFrameBytes);
        foreach (var frame in frames)
        {
            if (frame.Count < 8)
            {
                expected.Enqueue(new Expected(0, 0, 0, WellFormed: false, Answerable: false));
                break;
            }

            var span = frame.AsSpan();
            expected.Enqueue(new Expected(
                BinaryPrimitives.ReadInt32BigEndian(span[4..]), BinaryPrimitives.ReadInt16BigEndian(span), BinaryPrimitives.ReadInt16BigEndian(span[2..]),
                WellFormed: false, Answerable: true));
        }

        using var deadline = new CancellationTokenSource(CaseDeadline);
        try
        {
            await socket.SendAsync(output.ToArray(), SocketFlags.None, deadline.Token);
            if (ending == FrameEnding.Partial)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // The listener closed while we were still writing (it refused something already sent): read what it
            // answered before that.
        }
        catch (OperationCanceledException)
        {
            throw new FuzzFailure($"the listener did not take {output.Count} bytes within {CaseDeadline.TotalSeconds} s");
        }

        var fuzzAnswered = 0;
        var anyError = false;
        while (true)
        {
            byte[]? response;
            try
            {
                response = await ReadFrameAsync(socket, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new FuzzFailure($"neither answered nor closed within {CaseDeadline.TotalSeconds} s (hang); {expected.Count} frames unanswered, bytes end {ending}");
            }

            if (response is null)
            {
                if (expected.Any(e => e.WellFormed))
                {
                    throw new FuzzFailure($"closed before answering {expected.Count(e => e.WellFormed)} well-formed requests sent before the bad one");
                }

                if (fuzz.MustBeAnswered && fuzzAnswered == 0)
                {
                    throw new FuzzFailure("closed instead of answering an ApiVersions request of a version not served with UNSUPPORTED_VERSION");
                }

                Interlocked.Increment(ref ending == FrameEnding.Partial ? ref clientClosed : ref closedByServer);
                return false;
            }

            if (!expected.TryDequeue(out var next))
            {
                throw new FuzzFailure($"an answer ({response.Length} bytes) to no request");
            }

            if (!next.Answerable)
            {
                throw new FuzzFailure($"answered a frame too short to hold a request header ({Convert.ToHexString(response.AsSpan(0, Math.Min(32, response.Length)))})");
            }

            var error = Check(response, next);
            if (!next.WellFormed)
            {
                fuzzAnswered++;
                anyError |= error != ErrorCode.None;
            }

            if (expected.Count == 0 && ending == FrameEnding.Boundary)
            {
                Interlocked.Increment(ref anyError ? ref answeredWithError : ref answeredWithoutError);
                return true;
            }
        }
    }

    /// <summary>Checks an answer against what it answers; returns its error code when it has one we can read.</summary>
    private ErrorCode Check(byte[] response, Expected request)
    {
        var reader = new KafkaReader(response);
        var known = ApiKeys.TryGet(request.ApiKey, out var api);
        try
        {
            var headerVersion = known ? api.ResponseHeaderVersion(request.ApiVersion) : (short)0;
            var header = ResponseHeader.Read(ref reader, headerVersion);
            if (header.CorrelationId != request.CorrelationId)
            {
                throw new FuzzFailure($"answered with correlation id {header.CorrelationId}, expected {request.CorrelationId}");
            }

            if (!known)
            {
                throw new FuzzFailure($"answered a request of API key {request.ApiKey}, which is not served");
            }

            switch (api.Key)
            {
                case ApiKey.ApiVersions:
                {
                    var version = ApiVersionsCodec.ResponseVersion(request.ApiVersion);
                    var body = ApiVersionsCodec.ReadResponse(ref reader, version);
                    reader.EnsureEnd("ApiVersions response");
                    var wanted = api.IsSupported(request.ApiVersion) ? ErrorCode.None : ErrorCode.UnsupportedVersion;
                    if (body.ErrorCode != wanted || !body.ApiKeys.Any(k => k.ApiKey == (short)ApiKey.ApiVersions))
                    {
                        throw new FuzzFailure($"ApiVersions v{request.ApiVersion} answered {body.ErrorCode} with {body.ApiKeys.Count} ranges, expected {wanted}");
                    }

                    return body.ErrorCode;
                }

                case ApiKey.Metadata when api.IsSupported(request.ApiVersion):
                {
                    var body = MetadataCodec.ReadResponse(ref reader, request.ApiVersion);
                    reader.EnsureEnd("Metadata response");
                    if (!body.Brokers.Any(b => b.Port == port))
                    {
                        throw new FuzzFailure($"Metadata v{request.ApiVersion} lists brokers [{string.Join(", ", body.Brokers.Select(b => $"{b.NodeId}@{b.Host}:{b.Port}"))}], not this one");
                    }

                    return body.Topics.Select(t => t.ErrorCode).FirstOrDefault(e => e != ErrorCode.None);
                }

                default:
                    if (request.WellFormed)
                    {
                        throw new FuzzFailure($"no check for a well-formed {api.Key}");
                    }

                    // APIs with no codec here yet: the header is checked, the body is taken as is.
                    return ErrorCode.None;
            }
        }
        catch (KafkaProtocolException e)
        {
            throw new FuzzFailure($"answered with a malformed response to key {request.ApiKey} v{request.ApiVersion}: {e.Message}; {Convert.ToHexString(response.AsSpan(0, Math.Min(64, response.Length)))}");
        }
    }

    /// <summary>Asks ApiVersions and Metadata on one connection, over and over, until <paramref name="stop"/>.</summary>
    private async Task CanaryAsync(CancellationToken stop)
    {
        var random = new Random(fuzzer.Seed ^ 0xC0FFEE);
        RawKafkaConnection? connection = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    connection ??= await RawKafkaConnection.OpenAsync(port);
                    if (random.Next(2) == 0)
                    {
                        var version = (short)random.Next(ApiKeys.ApiVersions.MinVersion, ApiKeys.ApiVersions.MaxVersion + 1);
                        var answer = await connection.ApiVersionsAsync(version);
                        if (answer.ErrorCode != ErrorCode.None || answer.ApiKeys.Count != ApiKeys.All.Count)
                        {
                            throw new InvalidOperationException($"ApiVersions v{version} answered {answer.ErrorCode} with {answer.ApiKeys.Count} ranges");
                        }
                    }
                    else
                    {
                        var version = (short)random.Next(1, ApiKeys.Metadata.MaxVersion + 1);
                        var answer = await connection.MetadataAsync(new KafkaMetadataRequest { Topics = [], AllowAutoTopicCreation = version < 4 }, version);
                        if (!answer.Brokers.Any(b => b.Port == port))
                        {
                            throw new InvalidOperationException($"Metadata v{version} does not list this broker");
                        }
                    }

                    Interlocked.Increment(ref canarySuccesses);
                    var micros = (long)clock.Elapsed.TotalMicroseconds;
                    if (micros > Interlocked.Read(ref canaryMaxMicroseconds))
                    {
                        Interlocked.Exchange(ref canaryMaxMicroseconds, micros);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    canaryFailures.Enqueue($"after {Interlocked.Read(ref canarySuccesses)} successes: {e.GetType().Name}: {e.Message}");
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private async Task SampleMemoryAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private void Sample()
    {
        var rss = ProcessMemory.Rss(pid);
        if (rss > Interlocked.Read(ref peakRss))
        {
            Interlocked.Exchange(ref peakRss, rss);
        }
    }

    private async Task<Socket> ConnectAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = new CancellationTokenSource(CaseDeadline);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
                Interlocked.Increment(ref connections);
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                if (attempt == 3)
                {
                    throw new FuzzFailure($"could not connect to the listener three times: {e.Message}");
                }
            }
        }
    }

    /// <summary>One response frame's payload, or null once the listener closed (end of stream or reset).</summary>
    private static async Task<byte[]?> ReadFrameAsync(Socket socket, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(socket, prefix, cancellationToken))
        {
            return null;
        }

        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size is < 4 or > MaxResponseBytes)
        {
            throw new FuzzFailure($"a response frame declares {size} bytes");
        }

        var payload = new byte[size];
        return await ReadExactlyAsync(socket, payload, cancellationToken)
            ? payload
            : throw new FuzzFailure($"the listener closed inside a response frame of {size} bytes");
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
            {
                n = 0;
            }

            if (n == 0)
            {
                return read == 0 ? false : throw new FuzzFailure($"the listener closed after {read} of {buffer.Length} bytes of a response");
            }

            read += n;
        }

        return true;
    }

    private void Fail(string message)
    {
        if (Interlocked.Increment(ref failureCount) <= MaxFailures)
        {
            failures.Enqueue(message);
            log("FAILURE " + message);
        }
    }

    private readonly record struct Expected(int CorrelationId, short ApiKey, short ApiVersion, bool WellFormed, bool Answerable);

    /// <summary>A case the listener handled wrongly.</summary>
    private sealed class FuzzFailure(string message) : Exception(message);
}

/// <summary>What a fuzz run did and saw.</summary>
internal sealed record KafkaFuzzReport
{
    public required int Seed { get; init; }

    public required int MalformedSent { get; init; }

    public required long WellFormedSent { get; init; }

    public required long Connections { get; init; }

    public required long AnsweredWithError { get; init; }

    public required long AnsweredWithoutError { get; init; }

    public required long ClosedByServer { get; init; }

    public required long ClientClosed { get; init; }

    public required long CanarySuccesses { get; init; }

    public required TimeSpan CanaryMaxLatency { get; init; }

    public required IReadOnlyList<string> CanaryFailures { get; init; }

    public required IReadOnlyList<string> Failures { get; init; }

    public required int FailureCount { get; init; }

    public required long BaselineRssBytes { get; init; }

    public required long PeakRssBytes { get; init; }

    public required long PeakHwmBytes { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public required IReadOnlyDictionary<FuzzFamily, long> Families { get; init; }

    public required IReadOnlyDictionary<short, long> ServedKeys { get; init; }

    /// <summary>Cases whose outcome was counted (the others failed).</summary>
    public long Outcomes => AnsweredWithError + AnsweredWithoutError + ClosedByServer + ClientClosed;

    public IEnumerable<string> Lines()
    {
        yield return $"seed {Seed} (rerun with ACTORS_FUZZ_SEED={Seed})";
        yield return $"malformed requests {MalformedSent}, well-formed requests pipelined before them {WellFormedSent}, total {MalformedSent + WellFormedSent}, connections {Connections}";
        yield return $"outcomes: closed by the listener {ClosedByServer}, client half-closed (partial frame) then closed by the listener {ClientClosed}, answered with an error {AnsweredWithError}, answered without error {AnsweredWithoutError}, failures {FailureCount}";
        yield return $"canary: {CanarySuccesses} well-formed answers, {CanaryFailures.Count} failures, slowest {CanaryMaxLatency.TotalMilliseconds:0.0} ms";
        yield return $"memory: baseline RSS {BaselineRssBytes / 1048576.0:0.0} MiB, peak sampled RSS {PeakRssBytes / 1048576.0:0.0} MiB, VmHWM {PeakHwmBytes / 1048576.0:0.0} MiB";
        yield return $"elapsed {Elapsed.TotalSeconds:0.0} s ({MalformedSent / Math.Max(Elapsed.TotalSeconds, 0.001):0} malformed requests/s)";
        yield return "families: " + string.Join(", ", Families.Select(f => $"{f.Key} {f.Value}"));
        yield return "served keys: " + string.Join(", ", ServedKeys.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value}"));
    }
}
