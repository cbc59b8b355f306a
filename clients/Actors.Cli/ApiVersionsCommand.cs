using System.Buffers.Binary;
using System.CommandLine;
using System.Net.Sockets;
using System.Text;

namespace Actors.Cli;

/// <summary><c>actors api-versions</c>: kafka-broker-api-versions.sh. The brokers come from the cluster's metadata
/// (Confluent.Kafka); each is asked with an ApiVersions v0 request, which every Kafka broker answers, because the
/// Confluent client does not expose the versions it negotiated.</summary>
internal static class ApiVersionsCommand
{
    private static readonly string[] Names =
    [
        "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata", "ControlledShutdown",
        "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups",
        "ListGroups", "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId",
        "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit",
        "DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
        "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken", "ExpireDelegationToken",
        "DescribeDelegationToken", "DeleteGroups", "ElectLeaders", "IncrementalAlterConfigs", "AlterPartitionReassignments",
        "ListPartitionReassignments", "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
        "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum", "AlterPartition",
        "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster", "DescribeProducers", "BrokerRegistration",
        "BrokerHeartbeat", "UnregisterBroker", "DescribeTransactions", "ListTransactions", "AllocateProducerIds",
        "ConsumerGroupHeartbeat", "ConsumerGroupDescribe", "ControllerRegistration", "GetTelemetrySubscriptions",
        "PushTelemetry", "AssignReplicasToDirs", "ListClientMetricsResources", "DescribeTopicPartitions",
        "ShareGroupHeartbeat", "ShareGroupDescribe", "ShareFetch", "ShareAcknowledge", "AddRaftVoter", "RemoveRaftVoter",
        "UpdateRaftVoter", "InitializeShareGroupState", "ReadShareGroupState", "WriteShareGroupState",
        "DeleteShareGroupState", "ReadShareGroupStateSummary", "StreamsGroupHeartbeat", "StreamsGroupDescribe",
        "DescribeShareGroupOffsets", "AlterShareGroupOffsets", "DeleteShareGroupOffsets",
    ];

    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var command = new Command("api-versions", "The Kafka APIs and versions each broker serves (kafka-broker-api-versions.sh).") { bootstrap, commandConfig };
        command.SetAction(async (parse, _) =>
        {
            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = cluster.Admin();
            var metadata = cluster.Metadata(admin);
            foreach (var broker in metadata.Brokers.OrderBy(b => b.BrokerId))
            {
                var versions = await AskAsync(broker.Host, broker.Port, io.Cancellation);
                var text = new StringBuilder($"{broker.Host}:{broker.Port} (id: {broker.BrokerId} rack: null) -> (").Append('\n');
                text.AppendJoin(",\n", versions.Select(v => $"\t{Name(v.Key)}({v.Key}): {v.Min} to {v.Max}"));
                text.Append("\n)\n");
                await io.Out.WriteAsync(text.ToString());
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Name(short key) => key >= 0 && key < Names.Length ? Names[key] : "Unknown";

    /// <summary>Sends ApiVersions v0 and reads the (key, min, max) array of the answer.</summary>
    private static async Task<List<(short Key, short Min, short Max)>> AskAsync(string host, int port, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Cluster.ReachTimeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            var clientId = "actors-cli"u8.ToArray();
            var request = new byte[4 + 2 + 2 + 4 + 2 + clientId.Length];
            BinaryPrimitives.WriteInt32BigEndian(request, request.Length - 4);
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(4), 18);
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(6), 0);
            BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 1);
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(12), (short)clientId.Length);
            clientId.CopyTo(request, 14);
            await stream.WriteAsync(request, timeout.Token);
            var size = new byte[4];
            await stream.ReadExactlyAsync(size, timeout.Token);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            await stream.ReadExactlyAsync(body, timeout.Token);
            var error = BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(4));
            if (error != 0)
            {
                throw new CliException($"Broker {host}:{port} answered ApiVersions with error code {error}.");
            }

            var count = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(6));
            var result = new List<(short, short, short)>(count);
            for (var i = 0; i < count; i++)
            {
                var at = 10 + (i * 6);
                result.Add((BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(at)), BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(at + 2)), BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(at + 4))));
            }

            return result;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellation.IsCancellationRequested)
        {
            throw new CliException($"Broker {host}:{port} did not answer ApiVersions within {Cluster.ReachTimeout.TotalSeconds:0} s ({e.Message}). Check that it is running and reachable from here.");
        }
    }
}
