using System.Buffers.Binary;
using System.Diagnostics;
using Actors.Broker;
using Actors.Log.Records;

namespace Actors.Bench;

/// <summary>
/// The direct-to-grain measurements: pre-built batches of 100-byte records produced straight to a partition grain (the
/// <c>broker</c> suite's figures, and the limit beside each <c>kafka</c> figure), fetched back, and an end-to-end latency
/// at a fixed rate.
/// </summary>
internal static class DirectToGrain
{
    public const int RecordSize = 100;
    public const int BatchBytes = 16 * 1024;

    /// <summary>One 16 KiB batch of <see cref="RecordSize"/>-byte records, as a Kafka producer with batch.size 16384 sends.</summary>
    public static byte[] BuildBatch(out int records)
    {
        var value = new byte[RecordSize];
        new Random(1).NextBytes(value);
        var builder = new RecordBatchBuilder();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (builder.SizeInBytes + RecordSize + 16 <= BatchBytes)
        {
            builder.Add(now, null, value);
        }

        records = builder.Count;
        return builder.Build();
    }

    /// <summary>Produces for <paramref name="duration"/> (connections, activations, JIT: the silo processes are new, so
    /// their code starts unoptimized and tiered compilation needs a few seconds of traffic to finish).</summary>
    public static async Task WarmUpAsync(IPartitionGrain grain, ProduceRequest request, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            Check(await grain.ProduceAsync(request));
        }
    }

    /// <summary>Records/s produced by <paramref name="inflight"/> concurrent callers for <paramref name="seconds"/>.</summary>
    public static async Task<(double Rate, long Records)> ProduceAsync(IPartitionGrain grain, ProduceRequest request, int recordsPerBatch, double seconds, int inflight)
    {
        long produced = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inflight).Select(async _ =>
        {
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                Check(await grain.ProduceAsync(request));
                Interlocked.Add(ref produced, recordsPerBatch);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return (produced / clock.Elapsed.TotalSeconds, produced);
    }

    /// <summary>Records/s fetching the partition to its end, 1 MiB per fetch: from offset 0, or the last
    /// <paramref name="last"/> records when given.</summary>
    public static async Task<(double Rate, long Records)> FetchAllAsync(IPartitionGrain grain, long? last = null)
    {
        var end = (await grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Latest })).Offset;
        var offset = last is { } n ? Math.Max(0, end - n) : 0;
        long fetched = 0;
        var clock = Stopwatch.StartNew();
        while (offset < end)
        {
            var r = await grain.FetchAsync(new FetchRequest { FetchOffset = offset, MaxBytes = 1 << 20, MaxWaitMs = 0 });
            if (r.Error != ErrorCode.None)
            {
                throw new InvalidOperationException($"fetch failed: {r.Error} {r.ErrorMessage}");
            }

            var reader = new RecordBatchReader(r.Records.Span);
            while (reader.TryReadNext(out var b))
            {
                fetched += b.LastOffset + 1 - Math.Max(offset, b.BaseOffset);
                offset = b.LastOffset + 1;
            }
        }

        return (fetched / clock.Elapsed.TotalSeconds, fetched);
    }

    /// <summary>
    /// End-to-end latency at a fixed <paramref name="rate"/>: every millisecond the records due are put in one batch
    /// (at most 16 KiB), each stamped as it is added, and produced with up to 5 requests in flight (a Kafka producer's
    /// max.in.flight with idempotence); a fetcher long-polls the grain from the partition's end. Returns p50/p99/max ms.
    /// </summary>
    public static async Task<(double P50, double P99, double Max, long Received)> LatencyAsync(IPartitionGrain grain, double rate, double seconds, short acks)
    {
        var expected = (long)(rate * seconds);
        var latencies = new long[expected];
        long received = 0;
        var start = (await grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ListOffsetsRequest.Latest })).Offset;
        using var stop = new CancellationTokenSource();
        var fetcher = Task.Run(async () =>
        {
            var offset = start;
            while (received < expected && !stop.IsCancellationRequested)
            {
                var r = await grain.FetchAsync(new FetchRequest { FetchOffset = offset, MaxBytes = 1 << 20, MaxWaitMs = 100 });
                if (r.Error != ErrorCode.None)
                {
                    throw new InvalidOperationException($"fetch failed: {r.Error} {r.ErrorMessage}");
                }

                var now = Stopwatch.GetTimestamp();
                var reader = new RecordBatchReader(r.Records.Span);
                while (reader.TryReadNext(out var b))
                {
                    foreach (var record in b)
                    {
                        if (record.Offset >= offset && received < expected)
                        {
                            latencies[received++] = now - BinaryPrimitives.ReadInt64LittleEndian(record.Value);
                        }
                    }

                    offset = b.NextOffset;
                }
            }
        });

        using var inflight = new SemaphoreSlim(5);
        var pending = new List<Task>();
        var value = new byte[RecordSize];
        var builder = new RecordBatchBuilder(BatchBytes);
        long sent = 0;
        var clock = Stopwatch.StartNew();
        while (sent < expected)
        {
            var due = Math.Min(expected, (long)(clock.Elapsed.TotalSeconds * rate));
            if (sent >= due)
            {
                await Task.Delay(1);
                continue;
            }

            await inflight.WaitAsync();
            var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            while (sent < due && builder.SizeInBytes + RecordSize + 16 <= BatchBytes)
            {
                BinaryPrimitives.WriteInt64LittleEndian(value, Stopwatch.GetTimestamp());
                builder.Add(ms, default, true, value, false);
                sent++;
            }

            var request = new ProduceRequest { Records = builder.Build(), Acks = acks, TimeoutMs = 30_000 };
            builder.Clear();
            pending.Add(Send(request));
            pending.RemoveAll(t => t.IsCompletedSuccessfully);
        }

        await Task.WhenAll(pending);
        await Task.WhenAny(fetcher, Task.Delay(TimeSpan.FromSeconds(30)));
        await stop.CancelAsync();
        await fetcher;
        var n = (int)Math.Min(received, expected);
        Array.Sort(latencies, 0, n);
        double Ms(double q) => n == 0 ? double.NaN : latencies[Math.Min(n - 1, (int)(q * n))] * 1000.0 / Stopwatch.Frequency;
        return (Ms(0.5), Ms(0.99), Ms(1.0), n);

        async Task Send(ProduceRequest request)
        {
            try
            {
                Check(await grain.ProduceAsync(request));
            }
            finally
            {
                inflight.Release();
            }
        }
    }

    public static void Check(ProduceResponse r)
    {
        if (r.Error != ErrorCode.None)
        {
            throw new InvalidOperationException($"produce failed: {r.Error} {r.ErrorMessage}");
        }
    }
}
