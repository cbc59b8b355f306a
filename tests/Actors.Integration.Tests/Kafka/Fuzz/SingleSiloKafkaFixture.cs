using Actors.Testing;
using KafkaMetadataRequest = Actors.Kafka.Protocol.MetadataRequest;

namespace Actors.Integration.Tests.Kafka.Fuzz;

/// <summary>
/// One silo process with its Kafka listener on a free port, started once for a test class and stopped by its id at
/// the end; ready once the listener answers ApiVersions and lists itself in Metadata.
/// </summary>
public sealed class SingleSiloKafkaFixture : IAsyncLifetime
{
    private ProcessCluster? cluster;

    internal BrokerProcess Silo => cluster?.Silos[0] ?? throw new InvalidOperationException("The silo is not started.");

    public async Task InitializeAsync()
    {
        cluster = await ProcessCluster.StartAsync(1, _ => { });
        var seen = "nothing yet";
        await Wait.UntilAsync(async () =>
        {
            try
            {
                using var connection = await RawKafkaConnection.OpenAsync(Silo.KafkaPort);
                var versions = await connection.ApiVersionsAsync(3);
                var metadata = await connection.MetadataAsync(new KafkaMetadataRequest { Topics = [] }, 12);
                seen = $"ApiVersions {versions.ErrorCode}, brokers [{string.Join(", ", metadata.Brokers.Select(b => $"{b.NodeId}@{b.Host}:{b.Port}"))}]";
                return metadata.Brokers.Any(b => b.Port == Silo.KafkaPort);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException or TimeoutException)
            {
                seen = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the silo's Kafka listener to answer and list itself", () => $"{seen}{Environment.NewLine}{cluster.Tails()}");
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}
