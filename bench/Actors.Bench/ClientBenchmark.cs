using System.Diagnostics;
using Actors.Broker;
using Actors.Client;
using Confluent.Kafka;

namespace Actors.Bench;

/// <summary>
/// <c>client</c>: 100-byte records produced one by one through the Actors client SDK (<see cref="ActorsProducer{TKey,TValue}"/>:
/// its own batching, linger.ms 5, batch.size 16384) from an Orleans client process, then read back by its consumer, on
/// real Actors.Silo processes: 1 silo RF 1 with acks=1 and acks=all, 3 silos RF 3 with acks=all. Each figure is printed
/// beside the direct-to-grain figure of the same cluster in the same run (<c>limit</c>: pre-built 16 KiB batches sent
/// straight to the partition grain with 8 requests in flight, and the grain's fetch read back). Options:
/// <c>--records N</c> through the SDK per cluster (default 1000000), <c>--seconds N</c> for the direct figure (default 10).
/// </summary>
public sealed class ClientBenchmark : IBenchmarkSuite
{
    public string Name => "client";

    public string Description => "Actors.Client producer/consumer records/s vs direct-to-grain batches (RF1 acks=1, RF1 acks=all, RF3 acks=all)";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var records = BenchArgs.Long(args, "--records", 1_000_000);
        var seconds = BenchArgs.Int(args, "--seconds", 10);
        var batch = DirectToGrain.BuildBatch(out var recordsPerBatch);
        Console.WriteLine($"{records} records of {DirectToGrain.RecordSize} bytes through the SDK per cluster; direct-to-grain {seconds} s of {batch.Length}-byte batches");
        foreach (var (name, silos, rf, acks) in new (string, int, short, short)[] { ("rf1-acks1", 1, 1, 1), ("rf1-acksall", 1, 1, -1), ("rf3-acksall", 3, 3, -1) })
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var cluster = await BenchCluster.StartAsync(name, silos);
            await cluster.CreateTopicAsync("direct", rf);
            await cluster.CreateTopicAsync("sdk", rf);
            var grain = await cluster.LeaderGrainAsync("direct");
            var request = new ProduceRequest { Records = batch, Acks = acks, TimeoutMs = 30_000 };
            await DirectToGrain.WarmUpAsync(grain, request, TimeSpan.FromSeconds(3));
            var (directProduce, _) = await DirectToGrain.ProduceAsync(grain, request, recordsPerBatch, seconds, inflight: 8);
            var (directFetch, _) = await DirectToGrain.FetchAllAsync(grain);

            var grains = cluster.Processes.Client;
            var value = new byte[DirectToGrain.RecordSize];
            using (var producer = new ActorsProducerBuilder<Null, byte[]>(new Dictionary<string, string> { ["acks"] = acks.ToString(System.Globalization.CultureInfo.InvariantCulture) }, grains).Build())
            {
                long failed = 0;
                var sw = Stopwatch.StartNew();
                for (long i = 0; i < records; i++)
                {
                    producer.Produce("sdk", new Message<Null, byte[]> { Value = value }, r =>
                    {
                        if (r.Error.IsError)
                        {
                            Interlocked.Increment(ref failed);
                        }
                    });
                }

                producer.Flush(TimeSpan.FromMinutes(5));
                var rate = records / sw.Elapsed.TotalSeconds;
                if (failed > 0)
                {
                    Console.WriteLine($"client {name}: {failed} of {records} records failed");
                }

                Report($"{name}-produce", rate, directProduce);
            }

            using (var consumer = new ActorsConsumerBuilder<Ignore, byte[]>(new Dictionary<string, string> { ["group.id"] = $"bench-{Guid.NewGuid():N}" }, grains).Build())
            {
                consumer.Assign(new Confluent.Kafka.TopicPartitionOffset("sdk", 0, Offset.Beginning));
                var sw = Stopwatch.StartNew();
                long read = 0;
                while (read < records && consumer.Consume(TimeSpan.FromSeconds(30)) is not null)
                {
                    read++;
                }

                Report($"{name}-consume", read / sw.Elapsed.TotalSeconds, directFetch);
            }
        }
    }

    private static void Report(string figure, double rate, double limit) =>
        Console.WriteLine(BenchArgs.Inv($"client {figure} value={rate:F0} unit=records/s limit={limit:F0} ratio={rate / limit:F3} mb_per_s={rate * DirectToGrain.RecordSize / 1e6:F1}"));
}
