using Actors.Broker;
using Actors.Broker.Partitioning;
using Actors.Kafka.Security;
using Actors.Log.Records;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Actors.WebConsole;

/// <summary>One silo on the Cluster page: one membership entry (a restarted silo has one entry per incarnation).</summary>
public sealed record SiloRow(
    string Name,
    string Endpoint,
    string Status,
    DateTime StartedUtc,
    DateTime IAmAliveUtc,
    bool IsController,
    bool IsThisSilo,
    int PartitionsLed,
    int ReplicasHeld,
    SiloReport? Report);

/// <summary>The Cluster page.</summary>
public sealed record ClusterView(DateTimeOffset At, string ThisSilo, string? ControllerSilo, IReadOnlyList<SiloRow> Silos,
    int Topics, int Partitions, int Offline, int UnderReplicated);

/// <summary>One partition on the Topics page.</summary>
public sealed record PartitionRow(int Partition, string? Leader, IReadOnlyList<string> Replicas, IReadOnlyList<string> Isr,
    long LogStartOffset, long LogEndOffset, long? SizeBytes, double? InPerSecond)
{
    public bool Offline => Leader is null;

    public bool UnderReplicated => Isr.Count < Replicas.Count;
}

/// <summary>One topic on the Topics page. <paramref name="OutPerSecond"/> and <paramref name="Fetched"/> are records sent to
/// Kafka clients in fetch responses (summed over the silos' listeners), per second over the last sample and in all
/// since the silos started; null before the first samples.</summary>
public sealed record TopicView(string Name, Guid TopicId, int ReplicationFactor, IReadOnlyDictionary<string, string> Configs, IReadOnlyList<PartitionRow> Partitions,
    double? OutPerSecond = null, long? Fetched = null)
{
    public int Offline => Partitions.Count(p => p.Offline);

    public int UnderReplicated => Partitions.Count(p => p.UnderReplicated);

    public long Messages => Partitions.Where(p => p.LogEndOffset >= 0 && p.LogStartOffset >= 0).Sum(p => p.LogEndOffset - p.LogStartOffset);

    public long? SizeBytes => Partitions.All(p => p.SizeBytes is null) ? null : Partitions.Sum(p => p.SizeBytes ?? 0);

    public double? InPerSecond => Partitions.All(p => p.InPerSecond is null) ? null : Partitions.Sum(p => p.InPerSecond ?? 0);
}

/// <summary>One group on the Consumer groups page.</summary>
public sealed record GroupRow(string GroupId, string State, string Type, int Members, int Partitions, long TotalLag, string? Error);

/// <summary>One page of the message browser.</summary>
public sealed record BrowseView(string Topic, int Partition, long From, long LogStartOffset, long HighWatermark, long Next,
    IReadOnlyList<BrowsedRecord> Records, IReadOnlyList<string> Notes);

/// <summary>A change the console refused or could not make; the message is shown to the operator as it is.</summary>
public class ConsoleException(string message) : Exception(message);

/// <summary>Reads the cluster through the broker's grains, and makes the changes the console offers, each for one
/// request's <see cref="ConsoleAccess"/>: listings leave out what its principal may not DESCRIBE, and a change the
/// ACLs do not allow is refused naming the missing ACL.</summary>
public sealed class ConsoleData(IGrainFactory grains, ILocalSiloDetails localSilo, ConsoleSampler sampler, IOptions<ConsoleOptions> options, AclAuthorizer authorizer)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Most Dead membership entries the Cluster page lists (the newest).</summary>
    public const int MaxDeadRows = 20;

    public ConsoleOptions Options => options.Value;

    public ConsoleSampler Sampler => sampler;

    public string ThisSilo => localSilo.Name;

    /// <summary>What the request's principal may see and do (<see cref="ConsoleAccess"/>).</summary>
    public ValueTask<ConsoleAccess> AccessAsync(HttpContext context) => ConsoleAccess.ForAsync(context, authorizer);

    private IControllerGrain Controller => grains.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);

    public async Task<ClusterView> ClusterAsync(ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        var management = grains.GetGrain<IManagementGrain>(0);
        // Grain calls are bounded by the timeout and the request's token through WaitAsync.
#pragma warning disable CA2016
        var hostsTask = management.GetDetailedHosts(onlyActive: false).WaitAsync(CallTimeout, cancellation);
        var topicsTask = Controller.DescribeTopicsAsync(null).WaitAsync(CallTimeout, cancellation);
        var controllerTask = management.GetActivationAddress(Controller).AsTask().WaitAsync(CallTimeout, cancellation);
#pragma warning restore CA2016
        // Dead entries stay in the membership table until its cleanup: the page keeps the most recent ones only.
        var all = await hostsTask;
        var hosts = all.Where(h => h.Status != SiloStatus.Dead)
            .Concat(all.Where(h => h.Status == SiloStatus.Dead).OrderByDescending(h => h.IAmAliveTime).Take(MaxDeadRows)).ToArray();
        var topics = (await topicsTask).Where(t => access.Sees(t.Name)).ToArray();
        SiloAddress? controllerAddress = null;
        try
        {
            controllerAddress = await controllerTask;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The controller is moving; the page says so.
        }

        var partitions = topics.SelectMany(t => t.Partitions).ToArray();
        var live = hosts.Where(h => h.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown).Select(h => h.SiloName)
            .Distinct(StringComparer.Ordinal).ToArray();
        var reports = await ForEachAsync(live, 8, async name =>
        {
            try
            {
                return await grains.GetGrain<ISiloConsoleGrain>(SiloConsoleKeys.For(name)).GetReportAsync().WaitAsync(ReportTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null;
            }
        });
        var byName = live.Zip(reports).Where(x => x.Second is not null).ToDictionary(x => x.First, x => x.Second!, StringComparer.Ordinal);
        string? controllerSilo = null;
        var rows = new List<SiloRow>();
        foreach (var host in hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal).ThenByDescending(h => h.StartTime))
        {
            var isController = controllerAddress is not null && host.SiloAddress.Equals(controllerAddress);
            if (isController)
            {
                controllerSilo = host.SiloName;
            }

            var alive = host.Status is not SiloStatus.Dead;
            rows.Add(new SiloRow(
                host.SiloName,
                $"{host.SiloAddress.Endpoint.Address}:{host.SiloAddress.Endpoint.Port}",
                host.Status.ToString(),
                host.StartTime,
                host.IAmAliveTime,
                isController,
                host.SiloAddress.Equals(localSilo.SiloAddress),
                alive ? partitions.Count(p => p.Leader == host.SiloName) : 0,
                partitions.Count(p => p.Replicas.Contains(host.SiloName, StringComparer.Ordinal)),
                alive && byName.TryGetValue(host.SiloName, out var report) ? report : null));
        }

        return new ClusterView(DateTimeOffset.UtcNow, localSilo.Name, controllerSilo, rows, topics.Length, partitions.Length,
            partitions.Count(p => !p.IsOnline), partitions.Count(p => p.Isr.Length < p.Replicas.Length));
    }

    /// <summary>Every topic the principal may DESCRIBE (or the named one, refused without DESCRIBE on it), with each
    /// partition's offsets and size.</summary>
    public async Task<IReadOnlyList<TopicView>> TopicsAsync(string? name, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        if (name is not null)
        {
            access.Require(AclOperation.Describe, AclResourceType.Topic, name, "Console DescribeTopic");
        }

        TopicDescription[] topics;
        try
        {
            topics = await Controller.DescribeTopicsAsync(name is null ? null : [name]).WaitAsync(CallTimeout, cancellation);
        }
        catch (BrokerException e) when (e.Code == ErrorCode.UnknownTopicOrPartition)
        {
            throw new ConsoleException($"Topic '{name}' does not exist.");
        }

        topics = name is null ? topics.Where(t => access.Sees(t.Name)).ToArray() : topics;
        var partitions = topics.SelectMany(t => t.Partitions).ToArray();
        var statuses = await ForEachAsync(partitions, 16, async p =>
        {
            if (!p.IsOnline)
            {
                return null;
            }

            try
            {
                return await grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(p.TopicPartition)).GetStatusAsync().WaitAsync(CallTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null;
            }
        });
        var status = partitions.Zip(statuses).ToDictionary(x => x.First.TopicPartition, x => x.Second);
        var leaders = partitions.Where(p => p.Leader is not null).Select(p => p.Leader!).Distinct(StringComparer.Ordinal).ToArray();
        var reports = await ForEachAsync(leaders, 8, async silo =>
        {
            try
            {
                return await grains.GetGrain<ISiloConsoleGrain>(SiloConsoleKeys.For(silo)).GetReportAsync().WaitAsync(ReportTimeout, cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return null;
            }
        });
        var report = leaders.Zip(reports).ToDictionary(x => x.First, x => x.Second, StringComparer.Ordinal);
        return topics.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => new TopicView(t.Name, t.TopicId, t.ReplicationFactor, t.Configs,
            t.Partitions.OrderBy(p => p.Partition).Select(p =>
            {
                var key = BrokerGrainKeys.Partition(p.TopicPartition);
                var s = status[p.TopicPartition];
                long? size = p.Leader is not null && report.GetValueOrDefault(p.Leader) is { } r && r.PartitionBytes.TryGetValue(key, out var bytes) ? bytes : null;
                return new PartitionRow(p.Partition, p.Leader, p.Replicas, p.Isr,
                    s is { Error: ErrorCode.None } ? s.LogStartOffset : -1,
                    s is { Error: ErrorCode.None } ? s.HighWatermark : -1,
                    size, sampler.InRate(key));
            }).ToArray(), sampler.OutRate(t.Name), sampler.Fetched(t.Name))).ToArray();
    }

    /// <summary>The groups the principal may DESCRIBE (all with DESCRIBE on the cluster), as Kafka's ListGroups.</summary>
    public async Task<IReadOnlyList<GroupRow>> GroupsAsync(ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        var ids = (await grains.GetGrain<IGroupDirectoryGrain>(BrokerGrainKeys.GroupDirectory).ListAsync().WaitAsync(CallTimeout, cancellation))
            .Where(access.SeesGroup).Order(StringComparer.Ordinal).Take(1000).ToArray();
        var rows = await ForEachAsync(ids, 8, async id =>
        {
            try
            {
                var d = await grains.GetGrain<IConsumerGroupGrain>(id).DescribeAsync().WaitAsync(CallTimeout, cancellation);
                return new GroupRow(id, d.KafkaState, d.GroupType, d.Members.Length, d.Offsets.Length, TotalLag(d), null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new GroupRow(id, "?", "?", 0, 0, 0, e.Message);
            }
        });
        return rows;
    }

    /// <summary>The sum of the partitions' lag where it is known.</summary>
    public static long TotalLag(ConsumerGroupDescription group) => group.Offsets.Where(o => o.Lag > 0).Sum(o => o.Lag);

    /// <summary>The group (refused without DESCRIBE on it), with the offsets of the topics the principal may DESCRIBE
    /// only, as Kafka's DescribeGroups and OffsetFetch answer.</summary>
    public async Task<ConsumerGroupDescription> GroupAsync(string groupId, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        access.Require(AclOperation.Describe, AclResourceType.Group, groupId, "Console DescribeGroup");
        try
        {
            var group = await grains.GetGrain<IConsumerGroupGrain>(groupId).DescribeAsync().WaitAsync(CallTimeout, cancellation);
            return !access.Enabled || group.Offsets.All(o => access.Sees(o.TopicPartition.Topic)) ? group : new ConsumerGroupDescription
            {
                GroupId = group.GroupId,
                State = group.State,
                GroupEpoch = group.GroupEpoch,
                Assignor = group.Assignor,
                Members = group.Members,
                Offsets = group.Offsets.Where(o => access.Sees(o.TopicPartition.Topic)).ToArray(),
                KafkaState = group.KafkaState,
                ProtocolType = group.ProtocolType,
                Protocol = group.Protocol,
                GroupType = group.GroupType,
                ClassicState = group.ClassicState,
            };
        }
        catch (BrokerException e) when (e.Code == ErrorCode.GroupIdNotFound)
        {
            throw new ConsoleException($"Consumer group '{groupId}' does not exist.");
        }
    }

    /// <summary>Plans (dry run) or applies an offset reset. Refused while the group has members, as the CLI's is. A dry
    /// run needs DESCRIBE on the group and on each topic planned (as Kafka's DescribeGroups and ListOffsets); applying
    /// it READ on the group and on each topic (as OffsetCommit).</summary>
    public async Task<OffsetResetPlanEntry[]> ResetAsync(string groupId, ResetOffsetsRequest request, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(access);
        if (request.Execute)
        {
            RequireChanges();
            access.Require(AclOperation.Read, AclResourceType.Group, groupId, "Console ResetOffsets");
        }

        var group = await GroupAsync(groupId, access, cancellation);
        if (group.Members.Length > 0)
        {
            throw new ConsoleException($"Group '{groupId}' has {group.Members.Length} active member(s) and is {group.KafkaState}: offsets can only be reset while it has none. Stop its consumers first.");
        }

        try
        {
            var execute = request.Execute;
            var grain = grains.GetGrain<IConsumerGroupGrain>(groupId);
            if (access.Enabled)
            {
                // The plan names the topics the reset would touch: each is checked before anything is written.
                request.Execute = false;
                var plan = await grain.ResetOffsetsAsync(request).WaitAsync(CallTimeout, cancellation);
                request.Execute = execute;
                foreach (var topic in plan.Select(p => p.TopicPartition.Topic).Distinct(StringComparer.Ordinal))
                {
                    access.Require(execute ? AclOperation.Read : AclOperation.Describe, AclResourceType.Topic, topic, "Console ResetOffsets");
                }

                if (!execute)
                {
                    return plan;
                }
            }

            return await grain.ResetOffsetsAsync(request).WaitAsync(CallTimeout, cancellation);
        }
        catch (BrokerException e)
        {
            throw new ConsoleException($"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Creates a topic: CREATE on the cluster or on the topic, as Kafka's CreateTopics asks.</summary>
    public async Task<TopicDescription> CreateTopicAsync(string name, int partitions, short replicationFactor, Dictionary<string, string> configs, ConsoleAccess access,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        RequireChanges();
        if (!access.Allows(AclOperation.Create, AclResourceType.Cluster, Acls.ClusterResourceName, "Console CreateTopic", logDenied: false))
        {
            access.Require(AclOperation.Create, AclResourceType.Topic, name, "Console CreateTopic");
        }

        try
        {
            return await Controller.CreateTopicAsync(new CreateTopicRequest { Name = name, NumPartitions = partitions, ReplicationFactor = replicationFactor, Configs = configs })
                .WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        }
        catch (BrokerException e)
        {
            throw new ConsoleException($"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Grows a topic: ALTER on it, as Kafka's CreatePartitions asks.</summary>
    public async Task<TopicDescription> AddPartitionsAsync(string topic, int totalCount, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        RequireChanges();
        access.Require(AclOperation.Alter, AclResourceType.Topic, topic, "Console CreatePartitions");
        try
        {
            return await Controller.CreatePartitionsAsync(topic, totalCount).WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        }
        catch (BrokerException e)
        {
            throw new ConsoleException($"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Deletes a topic once its name is confirmed: DELETE on it, as Kafka's DeleteTopics asks.</summary>
    public async Task DeleteTopicAsync(string topic, string confirmation, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        RequireChanges();
        access.Require(AclOperation.Delete, AclResourceType.Topic, topic, "Console DeleteTopic");
        if (!string.Equals(topic, confirmation, StringComparison.Ordinal))
        {
            throw new ConsoleException($"Type the topic's name, '{topic}', to confirm its deletion; '{confirmation}' does not match. Nothing was deleted.");
        }

        try
        {
            await Controller.DeleteTopicAsync(topic).WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        }
        catch (BrokerException e)
        {
            throw new ConsoleException($"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Reads up to <paramref name="limit"/> records of one partition from an offset, or from the first record
    /// at or after a time (ms since the Unix epoch) when <paramref name="fromTimestampMs"/> is given: READ on the topic,
    /// as Kafka's Fetch asks.</summary>
    public async Task<BrowseView> BrowseAsync(string topic, int partition, long? fromOffset, long? fromTimestampMs, int limit, ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        access.Require(AclOperation.Read, AclResourceType.Topic, topic, "Console Fetch");
        limit = Math.Clamp(limit, 1, ConsoleOptions.MaxBrowseRecords);
        var grain = grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new TopicPartition(topic, partition)));
        var status = await grain.GetStatusAsync().WaitAsync(CallTimeout, cancellation);
        if (status.Error != ErrorCode.None)
        {
            throw new ConsoleException($"{topic}-{partition}: {status.Error}. Check the topic and partition on the Topics page.");
        }

        var notes = new List<string>();
        long from;
        if (fromTimestampMs is { } ms)
        {
            var found = await grain.ListOffsetsAsync(new ListOffsetsRequest { Timestamp = ms }).WaitAsync(CallTimeout, cancellation);
            if (found.Error != ErrorCode.None)
            {
                throw new ConsoleException($"{topic}-{partition}: {found.Error} looking up the time.");
            }

            from = found.Offset >= 0 ? found.Offset : status.HighWatermark;
            if (found.Offset < 0)
            {
                notes.Add($"No record at or after {DateTimeOffset.FromUnixTimeMilliseconds(ms):u}; the log ends at offset {status.HighWatermark}.");
            }
        }
        else
        {
            from = fromOffset ?? Math.Max(status.LogStartOffset, status.HighWatermark - limit);
        }

        if (from < status.LogStartOffset)
        {
            notes.Add($"Offset {from} is before the log start {status.LogStartOffset}; showing from there.");
            from = status.LogStartOffset;
        }

        var records = new List<BrowsedRecord>();
        var next = from;
        for (var round = 0; round < 20 && records.Count < limit && next < status.HighWatermark; round++)
        {
            var fetched = await grain.FetchAsync(new FetchRequest { FetchOffset = next, MaxBytes = 1_048_576, MinBytes = 0, MaxWaitMs = 0 })
                .WaitAsync(CallTimeout, cancellation);
            if (fetched.Error != ErrorCode.None)
            {
                throw new ConsoleException($"{topic}-{partition}: {fetched.Error} fetching from offset {next}. {fetched.ErrorMessage}");
            }

            if (fetched.Records.IsEmpty)
            {
                break;
            }

            var after = RecordDecoding.Decode(fetched.Records.Span, next, limit, records, notes);
            if (after <= next)
            {
                break;
            }

            next = after;
        }

        if (records.Count > 0)
        {
            next = Math.Max(next, records[^1].Offset + 1);
            next = records.Count >= limit ? records[^1].Offset + 1 : next;
        }

        return new BrowseView(topic, partition, from, status.LogStartOffset, status.HighWatermark, next, records, notes);
    }

    /// <summary>Produces one test record (acks=all) to a partition, or to the key's partition (Kafka's murmur2), or to
    /// partition 0 without a key; returns its partition and offset. WRITE on the topic, as Kafka's Produce asks.</summary>
    public async Task<(int Partition, long Offset)> ProduceAsync(string topic, int? partition, string? key, string? value, IReadOnlyList<RecordHeader> headers,
        ConsoleAccess access, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(access);
        RequireChanges();
        access.Require(AclOperation.Write, AclResourceType.Topic, topic, "Console Produce");
        var description = (await TopicsAsync(topic, access, cancellation))[0];
        var keyBytes = string.IsNullOrEmpty(key) ? null : System.Text.Encoding.UTF8.GetBytes(key);
        var target = partition ?? (keyBytes is null ? 0 : Murmur2Partitioner.Partition(keyBytes, description.Partitions.Count));
        if (target < 0 || target >= description.Partitions.Count)
        {
            throw new ConsoleException($"Topic '{topic}' has partitions 0–{description.Partitions.Count - 1}; there is no partition {target}.");
        }

        var batch = new RecordBatchBuilder()
            .Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), keyBytes, value is null ? null : System.Text.Encoding.UTF8.GetBytes(value), headers)
            .Build();
        var response = await grains.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(new TopicPartition(topic, target)))
            .ProduceAsync(new ProduceRequest { Acks = -1, TimeoutMs = 10_000, Records = batch })
            .WaitAsync(TimeSpan.FromSeconds(15), cancellation);
        if (response.Error != ErrorCode.None)
        {
            throw new ConsoleException($"{topic}-{target}: {response.Error}. {response.ErrorMessage}");
        }

        return (target, response.BaseOffset);
    }

    /// <summary>Throws unless changes are allowed, naming the setting that allows them.</summary>
    public void RequireChanges()
    {
        if (!options.Value.AllowChanges)
        {
            throw new ConsoleException(ReadOnlyMessage);
        }
    }

    public const string ReadOnlyMessage =
        "This console is read-only. Changes from the console are off unless the silo is started with " +
        ConsoleOptions.AllowChangesSetting + "=true (flag --" + ConsoleOptions.AllowChangesSetting + " true, or ACTORS_CONSOLE__ALLOWCHANGES=true).";

    /// <summary>Runs <paramref name="call"/> for each item, at most <paramref name="parallel"/> at a time; results in order.</summary>
    public static async Task<TResult[]> ForEachAsync<T, TResult>(IReadOnlyList<T> items, int parallel, Func<T, Task<TResult>> call)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(call);
        var results = new TResult[items.Count];
        using var gate = new SemaphoreSlim(parallel);
        await Task.WhenAll(items.Select(async (item, i) =>
        {
            await gate.WaitAsync();
            try
            {
                results[i] = await call(item);
            }
            finally
            {
                gate.Release();
            }
        }));
        return results;
    }
}
