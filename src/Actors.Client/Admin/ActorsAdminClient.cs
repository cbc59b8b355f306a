using Actors.Broker;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Orleans.Runtime;
using AclBinding = Confluent.Kafka.Admin.AclBinding;
using AclBindingFilter = Confluent.Kafka.Admin.AclBindingFilter;
using BrokerGroupDescription = Actors.Broker.ConsumerGroupDescription;
using ConsumerGroupDescription = Confluent.Kafka.Admin.ConsumerGroupDescription;
using ConsumerGroupState = Confluent.Kafka.ConsumerGroupState;
using TopicDescription = Confluent.Kafka.Admin.TopicDescription;
using TopicPartition = Confluent.Kafka.TopicPartition;
using TopicPartitionOffset = Confluent.Kafka.TopicPartitionOffset;

namespace Actors.Client;

/// <summary>
/// Kafka's admin operations over the broker's grains: Confluent.Kafka's <see cref="IAdminClient"/> for topics (create,
/// delete, add partitions, describe and alter configs), metadata, and consumer groups (list, describe, delete, list,
/// alter and delete offsets). A failure raises <see cref="ActorsException"/> naming the topic or group and what to do.
/// </summary>
/// <remarks>Thread-safe: every call is independent.</remarks>
public sealed class ActorsAdminClient : IAdminClient
{
    private static int instances;
    private readonly ClusterMetadata metadata;

    internal ActorsAdminClient(IEnumerable<KeyValuePair<string, string>> config, IGrainFactory grains)
    {
        var c = new ClientConfig(config);
        metadata = new ClusterMetadata(grains, allowAutoCreate: false, TimeSpan.Zero);
        Name = $"{c.Get("client.id", "actors-admin")}#admin-{Interlocked.Increment(ref instances)}";
    }

    public string Name { get; }

    public Handle Handle => throw Unsupported(nameof(Handle), "there is no librdkafka handle; build each client with its builder");

    private IControllerGrain Controller => metadata.Controller;

    public async Task CreateTopicsAsync(IEnumerable<TopicSpecification> topics, CreateTopicsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var spec in topics)
        {
            if (spec.ReplicasAssignments is { Count: > 0 })
            {
                throw Unsupported("TopicSpecification.ReplicasAssignments", "the controller places replicas itself; give NumPartitions and ReplicationFactor");
            }

            await CallAsync(() => Controller.CreateTopicAsync(new CreateTopicRequest
            {
                Name = spec.Name,
                NumPartitions = spec.NumPartitions,
                ReplicationFactor = spec.ReplicationFactor,
                Configs = spec.Configs is null ? new(StringComparer.Ordinal) : new(spec.Configs, StringComparer.Ordinal),
                ValidateOnly = options?.ValidateOnly ?? false,
            }), $"Creating topic '{spec.Name}'").ConfigureAwait(false);
        }
    }

    public async Task DeleteTopicsAsync(IEnumerable<string> topics, DeleteTopicsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var topic in topics)
        {
            await CallAsync(async () =>
            {
                await Controller.DeleteTopicAsync(topic).ConfigureAwait(false);
                return true;
            }, $"Deleting topic '{topic}'").ConfigureAwait(false);
        }
    }

    public async Task CreatePartitionsAsync(IEnumerable<PartitionsSpecification> partitionsSpecifications, CreatePartitionsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(partitionsSpecifications);
        foreach (var spec in partitionsSpecifications)
        {
            if (options?.ValidateOnly == true)
            {
                throw Unsupported("CreatePartitionsOptions.ValidateOnly", "the controller validates when it grows the topic; call without ValidateOnly");
            }

            await CallAsync(() => Controller.CreatePartitionsAsync(spec.Topic, spec.IncreaseTo), $"Adding partitions to topic '{spec.Topic}'").ConfigureAwait(false);
        }
    }

    /// <summary>Topic configs: the topic's overrides (source DYNAMIC_TOPIC_CONFIG); silo defaults apply to the rest.</summary>
    public async Task<List<DescribeConfigsResult>> DescribeConfigsAsync(IEnumerable<ConfigResource> resources, DescribeConfigsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var results = new List<DescribeConfigsResult>();
        foreach (var resource in resources)
        {
            RequireTopic(resource);
            var topic = (await CallAsync(() => Controller.DescribeTopicsAsync([resource.Name]), $"Describing configs of topic '{resource.Name}'").ConfigureAwait(false)).Single();
            results.Add(new DescribeConfigsResult
            {
                ConfigResource = resource,
                Entries = topic.Configs.ToDictionary(c => c.Key, c => new ConfigEntryResult
                {
                    Name = c.Key,
                    Value = c.Value,
                    Source = ConfigSource.DynamicTopicConfig,
                    IsDefault = false,
                    IsReadOnly = false,
                    IsSensitive = false,
                    Synonyms = [],
                }, StringComparer.Ordinal),
            });
        }

        return results;
    }

    /// <summary>Replaces a topic's overrides with the entries given (overrides not given are removed), as Kafka's
    /// AlterConfigs does.</summary>
    public async Task AlterConfigsAsync(Dictionary<ConfigResource, List<ConfigEntry>> configs, AlterConfigsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(configs);
        foreach (var (resource, entries) in configs)
        {
            RequireTopic(resource);
            var current = (await CallAsync(() => Controller.DescribeTopicsAsync([resource.Name]), $"Altering configs of topic '{resource.Name}'").ConfigureAwait(false)).Single();
            var set = entries.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
            var delete = current.Configs.Keys.Where(k => !set.ContainsKey(k)).ToArray();
            if (options?.ValidateOnly == true)
            {
                continue;
            }

            await CallAsync(() => Controller.AlterTopicConfigsAsync(new AlterTopicConfigsRequest { Topic = resource.Name, Set = set, Delete = delete }),
                $"Altering configs of topic '{resource.Name}'").ConfigureAwait(false);
        }
    }

    /// <summary>Sets (SET) and removes (DELETE) topic overrides; APPEND and SUBTRACT are for list-valued configs, which
    /// topics here do not have.</summary>
    public async Task<List<IncrementalAlterConfigsResult>> IncrementalAlterConfigsAsync(Dictionary<ConfigResource, List<ConfigEntry>> configs, IncrementalAlterConfigsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(configs);
        var results = new List<IncrementalAlterConfigsResult>();
        foreach (var (resource, entries) in configs)
        {
            RequireTopic(resource);
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            var delete = new List<string>();
            foreach (var e in entries)
            {
                switch (e.IncrementalOperation)
                {
                    case AlterConfigOpType.Set:
                        set[e.Name] = e.Value;
                        break;
                    case AlterConfigOpType.Delete:
                        delete.Add(e.Name);
                        break;
                    default:
                        throw Unsupported($"AlterConfigOpType.{e.IncrementalOperation}", "topic configs here are single values; use Set or Delete");
                }
            }

            if (options?.ValidateOnly != true)
            {
                await CallAsync(() => Controller.AlterTopicConfigsAsync(new AlterTopicConfigsRequest { Topic = resource.Name, Set = set, Delete = [.. delete] }),
                    $"Altering configs of topic '{resource.Name}'").ConfigureAwait(false);
            }

            results.Add(new IncrementalAlterConfigsResult { ConfigResource = resource });
        }

        return results;
    }

    /// <summary>Topics with their partitions, leaders, replicas and ISR (Kafka broker ids: the ids silos registered
    /// for their Kafka listener, else 1, 2, ... in the order of the silo list).</summary>
    public async Task<DescribeTopicsResult> DescribeTopicsAsync(TopicCollection topicCollection, DescribeTopicsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topicCollection);
        var names = topicCollection.ToString() is { } ? GetNames(topicCollection) : [];
        var answer = await CallAsync(() => Controller.GetMetadataAsync(new MetadataRequest { Topics = names }), "Describing topics").ConfigureAwait(false);
        var nodes = Nodes(answer);
        var descriptions = new List<TopicDescription>();
        foreach (var t in answer.Topics)
        {
            if (t.Error != BrokerErrorCode.None || t.Description is null)
            {
                throw ActorsException.From(t.Error, t.ErrorMessage, $"Describing topic '{t.Name}'");
            }

            descriptions.Add(new TopicDescription
            {
                Name = t.Name,
                TopicId = new Uuid(BitConverter.ToInt64(t.Description.TopicId.ToByteArray(), 0), BitConverter.ToInt64(t.Description.TopicId.ToByteArray(), 8)),
                Error = new Error(ErrorCode.NoError),
                IsInternal = false,
                Partitions = t.Description.Partitions.Select(p => new TopicPartitionInfo
                {
                    Partition = p.Partition,
                    Leader = p.Leader is null ? null : Node(nodes, p.Leader),
                    Replicas = p.Replicas.Select(r => Node(nodes, r)).ToList(),
                    ISR = p.Isr.Select(r => Node(nodes, r)).ToList(),
                }).ToList(),
            });
        }

        return new DescribeTopicsResult { TopicDescriptions = descriptions };
    }

    public Metadata GetMetadata(TimeSpan timeout) => GetMetadataAsync(null).WaitAsync(timeout).GetAwaiter().GetResult();

    public Metadata GetMetadata(string topic, TimeSpan timeout) => GetMetadataAsync([topic]).WaitAsync(timeout).GetAwaiter().GetResult();

    public async Task<ListConsumerGroupsResult> ListConsumerGroupsAsync(ListConsumerGroupsOptions? options = null)
    {
        var ids = await CallAsync(() => metadata.Grains.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync(), "Listing groups").ConfigureAwait(false);
        var listings = new List<ConsumerGroupListing>();
        foreach (var id in ids.Order(StringComparer.Ordinal))
        {
            var listing = await CallAsync(() => metadata.Group(id).GetListingAsync(), $"Listing group '{id}'").ConfigureAwait(false);
            if (!listing.Exists)
            {
                continue;
            }

            var state = State(listing.State);
            if (options?.MatchStates is { } states && states.Any() && !states.Contains(state))
            {
                continue;
            }

            listings.Add(new ConsumerGroupListing
            {
                GroupId = id,
                State = state,
                IsSimpleConsumerGroup = listing.ProtocolType.Length == 0,
                Type = listing.GroupType == KafkaGroupStates.ConsumerType ? ConsumerGroupType.Consumer : ConsumerGroupType.Classic,
            });
        }

        return new ListConsumerGroupsResult { Valid = listings };
    }

    public async Task<DescribeConsumerGroupsResult> DescribeConsumerGroupsAsync(IEnumerable<string> groups, DescribeConsumerGroupsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var descriptions = new List<ConsumerGroupDescription>();
        foreach (var id in groups)
        {
            BrokerGroupDescription d = await CallAsync(() => metadata.Group(id).DescribeAsync(), $"Describing group '{id}'").ConfigureAwait(false);
            descriptions.Add(new ConsumerGroupDescription
            {
                GroupId = d.GroupId,
                IsSimpleConsumerGroup = d.ProtocolType.Length == 0,
                PartitionAssignor = d.Protocol,
                State = State(d.KafkaState),
                Error = new Error(ErrorCode.NoError),
                Members = d.Members.Select(m => new MemberDescription
                {
                    ClientId = m.ClientId ?? string.Empty,
                    GroupInstanceId = m.InstanceId,
                    ConsumerId = m.MemberId,
                    Host = m.ClientHost ?? string.Empty,
                    Assignment = new MemberAssignment { TopicPartitions = m.Assigned.Select(ToConfluent).ToList() },
                    TargetAssignment = new MemberAssignment { TopicPartitions = m.Target.Select(ToConfluent).ToList() },
                }).ToList(),
            });
        }

        return new DescribeConsumerGroupsResult { ConsumerGroupDescriptions = descriptions };
    }

    /// <summary>Per partition: the group's committed offset, the high watermark and the lag (the broker computes them).</summary>
    public async Task<PartitionLag[]> DescribeConsumerGroupLagAsync(string group)
    {
        BrokerGroupDescription d = await CallAsync(() => metadata.Group(group).DescribeAsync(), $"Describing group '{group}'").ConfigureAwait(false);
        return d.Offsets;
    }

    public async Task DeleteGroupsAsync(IList<string> groups, DeleteGroupsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groups);
        foreach (var id in groups)
        {
            await CallAsync(async () =>
            {
                await metadata.Group(id).DeleteAsync().ConfigureAwait(false);
                return true;
            }, $"Deleting group '{id}'").ConfigureAwait(false);
        }
    }

    public async Task<List<ListConsumerGroupOffsetsResult>> ListConsumerGroupOffsetsAsync(IEnumerable<ConsumerGroupTopicPartitions> groupPartitions, ListConsumerGroupOffsetsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groupPartitions);
        var results = new List<ListConsumerGroupOffsetsResult>();
        foreach (var g in groupPartitions)
        {
            var asked = g.TopicPartitions?.Select(ToBroker).ToArray();
            var offsets = await CallAsync(() => metadata.Group(g.Group).FetchOffsetsAsync(asked), $"Listing offsets of group '{g.Group}'").ConfigureAwait(false);
            results.Add(new ListConsumerGroupOffsetsResult
            {
                Group = g.Group,
                Partitions = offsets.Select(o => new TopicPartitionOffsetError(ToConfluent(o.TopicPartition), o.Offset >= 0 ? new Offset(o.Offset) : Offset.Unset, new Error(ErrorCode.NoError))).ToList(),
            });
        }

        return results;
    }

    /// <summary>Sets a group's committed offsets; the group must have no active members (stop its consumers first).</summary>
    public async Task<List<AlterConsumerGroupOffsetsResult>> AlterConsumerGroupOffsetsAsync(IEnumerable<ConsumerGroupTopicPartitionOffsets> groupPartitions, AlterConsumerGroupOffsetsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groupPartitions);
        var results = new List<AlterConsumerGroupOffsetsResult>();
        foreach (var g in groupPartitions)
        {
            var answer = await CallAsync(() => metadata.Group(g.Group).CommitOffsetsAsync(new OffsetCommitRequest
            {
                Offsets = g.TopicPartitionOffsets.Select(o => new BrokerTopicPartitionOffset(ToBroker(o.TopicPartition), o.Offset.Value, -1, null)).ToArray(),
            }), $"Altering offsets of group '{g.Group}'").ConfigureAwait(false);
            if (answer.Error != BrokerErrorCode.None)
            {
                throw ActorsException.From(answer.Error, $"{answer.ErrorMessage} Stop the group's consumers before altering its offsets.", $"Altering offsets of group '{g.Group}'");
            }

            results.Add(new AlterConsumerGroupOffsetsResult
            {
                Group = g.Group,
                Partitions = g.TopicPartitionOffsets.Select(o => new TopicPartitionOffsetError(o.TopicPartition, o.Offset, new Error(ErrorCode.NoError))).ToList(),
            });
        }

        return results;
    }

    /// <summary>Kafka's consumer-groups --reset-offsets: plans (<paramref name="execute"/> false) or applies new committed
    /// offsets by one of the broker's modes; the group must have no active members.</summary>
    public Task<OffsetResetPlanEntry[]> ResetConsumerGroupOffsetsAsync(string group, OffsetResetMode mode, long value = 0, string[]? topics = null, bool execute = true) =>
        CallAsync(() => metadata.Group(group).ResetOffsetsAsync(new ResetOffsetsRequest { Mode = mode, Value = value, Topics = topics, Execute = execute }),
            $"Resetting offsets of group '{group}'");

    public async Task<DeleteConsumerGroupOffsetsResult> DeleteConsumerGroupOffsetsAsync(string group, IEnumerable<TopicPartition> partitions, DeleteConsumerGroupOffsetsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var asked = partitions.ToList();
        var errors = await CallAsync(() => metadata.Group(group).DeleteOffsetsAsync(asked.Select(ToBroker).ToArray()), $"Deleting offsets of group '{group}'").ConfigureAwait(false);
        var failed = errors.Select((e, i) => (e, i)).FirstOrDefault(x => x.e != BrokerErrorCode.None);
        if (failed.e != BrokerErrorCode.None)
        {
            throw ActorsException.From(failed.e, null, $"Deleting offsets of {asked[failed.i]} in group '{group}'");
        }

        return new DeleteConsumerGroupOffsetsResult { Group = group, Partitions = asked };
    }

    public List<GroupInfo> ListGroups(TimeSpan timeout) => throw Unsupported(nameof(ListGroups), "use ListConsumerGroupsAsync and DescribeConsumerGroupsAsync");

    public GroupInfo ListGroup(string group, TimeSpan timeout) => throw Unsupported(nameof(ListGroup), "use DescribeConsumerGroupsAsync");

    public Task<List<DeleteRecordsResult>> DeleteRecordsAsync(IEnumerable<TopicPartitionOffset> topicPartitionOffsets, DeleteRecordsOptions? options = null) =>
        throw Unsupported(nameof(DeleteRecordsAsync), "records leave the log by retention (retention.ms, retention.bytes); lower them with IncrementalAlterConfigsAsync");

    public Task CreateAclsAsync(IEnumerable<AclBinding> aclBindings, CreateAclsOptions? options = null) => throw Unsupported(nameof(CreateAclsAsync), AclAdvice);

    public Task<DescribeAclsResult> DescribeAclsAsync(AclBindingFilter aclBindingFilter, DescribeAclsOptions? options = null) => throw Unsupported(nameof(DescribeAclsAsync), AclAdvice);

    public Task<List<DeleteAclsResult>> DeleteAclsAsync(IEnumerable<AclBindingFilter> aclBindingFilters, DeleteAclsOptions? options = null) => throw Unsupported(nameof(DeleteAclsAsync), AclAdvice);

    public Task<DescribeUserScramCredentialsResult> DescribeUserScramCredentialsAsync(IEnumerable<string> users, DescribeUserScramCredentialsOptions? options = null) =>
        throw Unsupported(nameof(DescribeUserScramCredentialsAsync), ScramAdvice);

    public Task AlterUserScramCredentialsAsync(IEnumerable<UserScramCredentialAlteration> alterations, AlterUserScramCredentialsOptions? options = null) =>
        throw Unsupported(nameof(AlterUserScramCredentialsAsync), ScramAdvice);

    public int AddBrokers(string brokers) => throw Unsupported(nameof(AddBrokers), "the client reaches the cluster through its Orleans IClusterClient; configure the Orleans client's gateways");

    public void SetSaslCredentials(string username, string password) => throw Unsupported(nameof(SetSaslCredentials), "the client reaches the cluster through Orleans, which authenticates on its own connection");

    public void Dispose()
    {
        // Nothing to release: every call is a grain call.
    }

    private const string AclAdvice = "ACLs apply to the Kafka port; manage them with a Kafka admin client against a silo's listener";

    private const string ScramAdvice = "SCRAM credentials apply to the Kafka port; manage them with a Kafka admin client against a silo's listener";

    private static NotSupportedException Unsupported(string member, string advice) => new($"{member} is not supported by the Actors admin client: {advice}. See docs/client.md.");

    private static void RequireTopic(ConfigResource resource)
    {
        if (resource.Type != ResourceType.Topic)
        {
            throw Unsupported($"Configs of a {resource.Type} resource", "only topic configs are kept by the cluster; silo settings come from the silo's configuration");
        }
    }

    private async Task<Metadata> GetMetadataAsync(string[]? topics)
    {
        var answer = await CallAsync(() => Controller.GetMetadataAsync(new MetadataRequest { Topics = topics }), "Reading metadata").ConfigureAwait(false);
        var nodes = Nodes(answer);
        var brokers = nodes.Values.Select(n => new BrokerMetadata(n.Id, n.Host, n.Port)).ToList();
        var topicList = answer.Topics.Select(t => new Confluent.Kafka.TopicMetadata(
            t.Name,
            t.Description?.Partitions.Select(p => new PartitionMetadata(
                p.Partition,
                p.Leader is null ? -1 : Node(nodes, p.Leader).Id,
                p.Replicas.Select(r => Node(nodes, r).Id).ToArray(),
                p.Isr.Select(r => Node(nodes, r).Id).ToArray(),
                new Error(ErrorCode.NoError))).ToList() ?? [],
            new Error((ErrorCode)(int)t.Error, t.ErrorMessage ?? string.Empty))).ToList();
        var first = brokers.FirstOrDefault();
        return new Metadata(brokers, topicList, first?.BrokerId ?? -1, first?.Host ?? string.Empty);
    }

    private static Dictionary<string, Node> Nodes(MetadataResponse answer)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var b in answer.KafkaBrokers)
        {
            nodes[b.SiloName] = new Node { Id = b.NodeId, Host = b.Host, Port = b.Port };
        }

        var next = nodes.Count == 0 ? 1 : nodes.Values.Max(n => n.Id) + 1;
        foreach (var s in answer.Silos.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            if (!nodes.ContainsKey(s.Name))
            {
                nodes[s.Name] = new Node { Id = next++, Host = s.Host, Port = s.GatewayPort };
            }
        }

        return nodes;
    }

    private static Node Node(Dictionary<string, Node> nodes, string silo) =>
        nodes.TryGetValue(silo, out var n) ? n : new Node { Id = -1, Host = silo, Port = 0 };

    private static string[] GetNames(TopicCollection collection) =>
        (typeof(TopicCollection).GetProperty("Topics", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)?.GetValue(collection) as IEnumerable<string>)?.ToArray() ?? [];

    private static ConsumerGroupState State(string kafkaState) => kafkaState switch
    {
        "Stable" => ConsumerGroupState.Stable,
        "Empty" => ConsumerGroupState.Empty,
        "Dead" => ConsumerGroupState.Dead,
        "PreparingRebalance" => ConsumerGroupState.PreparingRebalance,
        "CompletingRebalance" or "Assigning" or "Reconciling" => ConsumerGroupState.CompletingRebalance,
        _ => ConsumerGroupState.Unknown,
    };

    private static BrokerTopicPartition ToBroker(TopicPartition tp) => new(tp.Topic, tp.Partition.Value);

    private static TopicPartition ToConfluent(BrokerTopicPartition tp) => new(tp.Topic, new Partition(tp.Partition));

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, string context)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or TimeoutException or OrleansException)
        {
            throw ActorsException.From(e, context);
        }
    }
}

/// <summary>Builds an <see cref="ActorsAdminClient"/> like Confluent's AdminClientBuilder, over an Orleans client.</summary>
public sealed class ActorsAdminClientBuilder(IEnumerable<KeyValuePair<string, string>> config, IGrainFactory grains)
{
    public IAdminClient Build() => new ActorsAdminClient(config ?? [], grains ?? throw new ArgumentNullException(nameof(grains)));
}
