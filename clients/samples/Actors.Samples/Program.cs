// An Orleans application on one silo that also runs the Actors broker, using the client SDK from inside the silo:
//   1. a producer writes sentences to a topic,
//   2. a consumer in a group counts their words (the word count of Kafka Streams' examples) and commits,
//   3. a grain implicitly subscribed to an Actors-backed Orleans stream totals orders, and a second subscription
//      rewinds to the first order's token and replays them from the log.
// Run: dotnet run --project clients/samples/Actors.Samples [data directory]
// The silo listens on 127.0.0.1:11111 and its gateway on 30000 (Orleans' localhost defaults); SAMPLE_SILO_PORT and
// SAMPLE_GATEWAY_PORT change them. The test SamplesProcessTests runs this program and checks what it prints.
using Actors.Broker;
using Actors.Broker.Hosting;
using Actors.Client;
using Actors.Orleans.Sqlite;
using Actors.Streams;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;

var data = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), $"actors-sample-{Environment.ProcessId}");
Directory.CreateDirectory(data);
using var host = Host.CreateDefaultBuilder()
    .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
    .UseOrleans(silo =>
    {
        silo.UseLocalhostClustering(Port("SAMPLE_SILO_PORT", 11111), Port("SAMPLE_GATEWAY_PORT", 30000));
        silo.AddSqliteGrainStorage("Default", o => o.DatabasePath = Path.Combine(data, "grains.db"));
        silo.AddSqliteGrainStorage("PubSubStore", o => o.DatabasePath = Path.Combine(data, "grains.db"));
        silo.AddBroker(o => o.LogDirs = Path.Combine(data, "logs"));
        silo.Services.AddActorsClient(o => o.Common["client.id"] = "sample");
        silo.AddActorsStreams("log", o =>
        {
            o.Partitions = 2;
            o.ReplicationFactor = 1;
        });
    })
    .Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();
var clients = host.Services.GetRequiredService<IActorsClientFactory>();

// 1. Producer.
var topic = $"sentences-{Guid.NewGuid():N}"[..18];
using (var admin = clients.CreateAdminClientBuilder().Build())
{
    await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]);
}

string[] sentences = ["all streams flow to the log", "the log keeps every record", "records flow in order"];
using (var producer = clients.CreateProducerBuilder<Null, string>().Build())
{
    foreach (var s in sentences)
    {
        var sent = await producer.ProduceAsync(topic, new Message<Null, string> { Value = s });
        Console.WriteLine($"produced '{s}' at {sent.TopicPartitionOffset}");
    }
}

// 2. Word count in a consumer group.
var counts = new Dictionary<string, int>(StringComparer.Ordinal);
using (var consumer = clients.CreateConsumerBuilder<Ignore, string>(new Dictionary<string, string>
{
    ["group.id"] = "word-count",
    ["auto.offset.reset"] = "earliest",
    ["enable.auto.commit"] = "false",
}).Build())
{
    consumer.Subscribe(topic);
    for (var read = 0; read < sentences.Length;)
    {
        var r = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("no record within 30 s");
        foreach (var word in r.Message.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            counts[word] = counts.GetValueOrDefault(word) + 1;
        }

        consumer.Commit(r);
        read++;
    }

    consumer.Close();
}

Console.WriteLine("word counts: " + string.Join(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")));

// 3. Orleans streams on the log.
var customer = $"customer-{Guid.NewGuid():N}"[..17];
var orders = host.Services.GetRequiredService<IClusterClient>().GetStreamProvider("log").GetStream<decimal>(StreamId.Create(OrderTotalGrain.Namespace, customer));
foreach (var amount in new[] { 12.5m, 30m, 7.25m })
{
    await orders.OnNextAsync(amount);
}

var totals = grains.GetGrain<IOrderTotalGrain>(customer);
var deadline = DateTime.UtcNow.AddSeconds(30);
while ((await totals.GetAsync()).Count < 3)
{
    if (DateTime.UtcNow > deadline)
    {
        throw new TimeoutException("the order grain did not get the 3 orders within 30 s");
    }

    await Task.Delay(50);
}

var (count, total, firstToken) = await totals.GetAsync();
Console.WriteLine($"order grain for {customer}: {count} orders, total {total}");

var replayed = new List<decimal>();
var handle = await orders.SubscribeAsync((amount, _) =>
{
    lock (replayed)
    {
        replayed.Add(amount);
    }

    return Task.CompletedTask;
}, firstToken ?? throw new InvalidOperationException("the order grain got no token"));
deadline = DateTime.UtcNow.AddSeconds(30);
while (replayed.Count < 3 && DateTime.UtcNow < deadline)
{
    await Task.Delay(50);
}

await handle.UnsubscribeAsync();
Console.WriteLine($"replayed from {firstToken}: {string.Join(", ", replayed)}");
await host.StopAsync();
return replayed.Count == 3 ? 0 : 1;

static int Port(string variable, int fallback) =>
    Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
        ? int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"{variable}='{text}' is not a TCP port (1-65535).")
        : fallback;

/// <summary>Totals the orders of one customer: the stream of namespace "orders" whose key is the grain's.</summary>
public interface IOrderTotalGrain : IGrainWithStringKey
{
    Task<(int Count, decimal Total, ActorsStreamSequenceToken? First)> GetAsync();
}

[ImplicitStreamSubscription(Namespace)]
public sealed class OrderTotalGrain : Grain, IOrderTotalGrain, IStreamSubscriptionObserver, IAsyncObserver<decimal>
{
    public const string Namespace = "orders";
    private int count;
    private decimal total;
    private ActorsStreamSequenceToken? first;

    public Task<(int Count, decimal Total, ActorsStreamSequenceToken? First)> GetAsync() => Task.FromResult((count, total, first));

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<decimal>().ResumeAsync(this);

    public Task OnNextAsync(decimal item, StreamSequenceToken? token = null)
    {
        first ??= token as ActorsStreamSequenceToken;
        count++;
        total += item;
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
