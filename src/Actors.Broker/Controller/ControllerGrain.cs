using Actors.Broker.Configuration;
using Actors.Broker.Diagnostics;
using Actors.Broker.Topics;
using Actors.Broker.Placement;
using Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Controller;

/// <summary>
/// The cluster controller (see <see cref="IControllerGrain"/>). It keeps every topic and partition state in one
/// persisted record written with its ETag; it polls membership and, on a change, moves leadership off dead silos
/// (from the ISR, bumping leader epochs), removes dead replicas from ISRs, brings an offline partition back when
/// an ISR member returns, tells returning silos what to replicate, and moves leadership back to preferred
/// replicas (auto.leader.rebalance.enable). Every change is persisted before anyone is told of it.
/// </summary>
/// <remarks>Reentrant only for its read methods ([AlwaysInterleave]); changes run one turn at a time.</remarks>
[GrainType("broker-controller")]
public sealed partial class ControllerGrain : Grain, IControllerGrain
{
    private readonly IPersistentState<ControllerState> state;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly IClusterMembershipService membership;
    private HashSet<string> lastLive = new(StringComparer.Ordinal);
    private long lastRebalanceMs;
    private long lastResyncMs;
    private int writing;
    private int reconcileFailures;
    private (MembershipVersion Version, SiloInfo[] Silos)? silos;
    private long reconcileFailingSinceMs;

    public ControllerGrain(
        [PersistentState("controller")] IPersistentState<ControllerState> state,
        IOptions<BrokerOptions> options,
        TimeProvider time,
        ILogger<ControllerGrain> logger,
        IClusterMembershipService membership)
    {
        this.state = state;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        this.membership = membership;
    }

    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(3);

    private Dictionary<string, TopicRecord> Topics => state.State.Topics;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        EnsureCollections();
        DelayDeactivation(TimeSpan.FromDays(3650));
        lastRebalanceMs = NowMs;
        var period = TimeSpan.FromMilliseconds(options.ControllerMembershipPollMs);
        this.RegisterGrainTimer(_ => ReconcileOnTimerAsync(), TimeSpan.Zero, period);
        return Task.CompletedTask;
    }

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<TopicDescription> CreateTopicAsync(CreateTopicRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        TopicNameValidator.Validate(request.Name);
        if (Topics.ContainsKey(request.Name))
        {
            throw new BrokerException(ErrorCode.TopicAlreadyExists, $"Topic '{request.Name}' already exists.");
        }

        var collision = Topics.Keys.FirstOrDefault(t => TopicNameValidator.Collides(t, request.Name));
        if (collision is not null)
        {
            throw new BrokerException(ErrorCode.InvalidTopicException,
                $"Topic '{request.Name}' collides with existing topic '{collision}': names that differ only in '.' and '_' are not allowed together.");
        }

        var live = LiveSilos();
        var (partitionCount, rf) = TopicConfigValidator.ValidateCreate(request, live.Count, options);
        var record = new TopicRecord
        {
            Name = request.Name,
            TopicId = Guid.NewGuid(),
            Configs = new Dictionary<string, string>(request.Configs ?? [], StringComparer.Ordinal),
            Partitions = Assign(request.Name, live, partitionCount, rf, 0),
        };
        if (request.ValidateOnly)
        {
            return record.Describe();
        }

        Topics[record.Name] = record;
        await WriteAsync();
        LogTopicCreated(logger, record.Name, partitionCount, rf);
        await NotifyAsync(record.Partitions);
        return record.Describe();
    }

    public async Task DeleteTopicAsync(string topic)
    {
        var record = Get(topic);
        Topics.Remove(topic);
        await WriteAsync();
        LogTopicDeleted(logger, topic);
        var live = LiveSilos();
        var tasks = new List<Task>();
        foreach (var p in record.Partitions)
        {
            var deleted = p.With(null, p.LeaderEpoch + 1, [], p.PartitionEpoch + 1, replicas: []);
            tasks.Add(Safe(() => GrainFactory.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(p.TopicPartition)).BecomeLeaderAsync(deleted), p.TopicPartition));
        }

        await Task.WhenAll(tasks);
        tasks.Clear();
        foreach (var p in record.Partitions)
        {
            foreach (var r in p.Replicas.Where(live.Contains))
            {
                tasks.Add(Safe(() => GrainFactory.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(p.TopicPartition, r)).StopReplicaAsync(deleteLog: true), p.TopicPartition));
            }
        }

        await Task.WhenAll(tasks);
    }

    public async Task<TopicDescription> CreatePartitionsAsync(string topic, int totalCount)
    {
        var record = Get(topic);
        var current = record.Partitions.Length;
        if (totalCount <= current)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions,
                $"Topic '{topic}' has {current} partitions; the new count {totalCount} must be larger (partitions are never removed).");
        }

        if (totalCount > options.MaxPartitionsPerTopic)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions,
                $"{totalCount} partitions for topic '{topic}' exceeds the limit of {options.MaxPartitionsPerTopic} (Actors:Broker:MaxPartitionsPerTopic).");
        }

        var live = LiveSilos();
        var rf = record.Partitions[0].Replicas.Length;
        if (rf > live.Count)
        {
            throw new BrokerException(ErrorCode.InvalidReplicationFactor,
                $"Topic '{topic}' has replication factor {rf} but only {live.Count} silos are Active.");
        }

        var added = Assign(topic, live, totalCount - current, rf, current);
        record.Partitions = record.Partitions.Concat(added).ToArray();
        await WriteAsync();
        await NotifyAsync(added);
        return record.Describe();
    }

    public async Task<TopicDescription> AlterTopicConfigsAsync(AlterTopicConfigsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var record = Get(request.Topic);
        TopicConfigValidator.ValidateConfigs(request.Set);
        foreach (var name in request.Delete)
        {
            if (!TopicConfigNames.All.Contains(name, StringComparer.Ordinal))
            {
                throw new BrokerException(ErrorCode.InvalidConfig, $"Unknown topic config name '{name}'; known names: {string.Join(", ", TopicConfigNames.All)}.");
            }
        }

        foreach (var (k, v) in request.Set)
        {
            record.Configs[k] = v;
        }

        foreach (var k in request.Delete)
        {
            record.Configs.Remove(k);
        }

        await WriteAsync();
        await NotifyAsync(record.Partitions);

        // Every replica's log takes the new settings now, leader and followers alike, not at the next leader epoch
        // or restart. A silo that is down gets them when its replica next opens the log with the topic's config.
        var live = LiveSilos();
        var configs = new Dictionary<string, string>(record.Configs, StringComparer.Ordinal);
        await Task.WhenAll(record.Partitions.SelectMany(p => p.Replicas.Where(live.Contains).Select(r =>
            Safe(() => GrainFactory.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(p.TopicPartition, r)).ApplyTopicConfigAsync(configs), p.TopicPartition))));
        return record.Describe();
    }

    public async Task<TopicDescription[]> DescribeTopicsAsync(string[]? topics)
    {
        if (topics is not null && topics.Any(t => !Topics.ContainsKey(t)))
        {
            await RefreshAsync();
        }

        return topics is null
            ? Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Describe()).ToArray()
            : topics.Select(t => Get(t).Describe()).ToArray();
    }

    private async Task WriteAsync()
    {
        writing++;
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            writing--;
        }
    }

    private async Task RefreshAsync()
    {
        if (writing > 0)
        {
            // A change of this activation is being stored; what storage holds now is older than memory.
            return;
        }

        await ReadStoredStateAsync();
    }

    /// <summary>Reads the stored record. If it moved on without this activation, this activation is stale: it adopts
    /// the stored state, deactivates so calls find the current one, and this returns false.</summary>
    private async Task<bool> ReadStoredStateAsync()
    {
        var etag = state.Etag;
        await state.ReadStateAsync();
        EnsureCollections();
        if (string.Equals(etag, state.Etag, StringComparison.Ordinal))
        {
            return true;
        }

        LogStale(logger, etag ?? "none", state.Etag ?? "none");
        DeactivateOnIdle();
        return false;
    }

    /// <summary>A record stored before a collection member existed reads back with it null.</summary>
    private void EnsureCollections()
    {
        state.State.Topics ??= new(StringComparer.Ordinal);
        state.State.KafkaBrokers ??= new(StringComparer.Ordinal);
    }

    public Task<string[]> ListTopicsAsync() => Task.FromResult(Topics.Keys.Order(StringComparer.Ordinal).ToArray());

    public async Task<MetadataResponse> GetMetadataAsync(MetadataRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var names = request.Topics ?? Topics.Keys.Order(StringComparer.Ordinal).ToArray();
        var result = new List<TopicMetadata>();
        foreach (var name in names)
        {
            if (Topics.TryGetValue(name, out var record))
            {
                result.Add(new TopicMetadata { Name = name, Description = record.Describe() });
                continue;
            }

            if (request.AllowAutoTopicCreation && options.AutoCreateTopicsEnable)
            {
                try
                {
                    var created = await CreateTopicAsync(new CreateTopicRequest
                    {
                        Name = name,
                        NumPartitions = options.NumPartitions,
                        ReplicationFactor = options.DefaultReplicationFactor,
                    });
                    result.Add(new TopicMetadata { Name = name, Description = created });
                }
                catch (BrokerException e)
                {
                    // As Kafka: a topic is never auto-created with fewer replicas than default.replication.factor.
                    var message = e.Code == ErrorCode.InvalidReplicationFactor
                        ? $"Auto-creating topic '{name}' failed: {e.Message} Start more silos, lower default.replication.factor (Actors:Broker:DefaultReplicationFactor), or create the topic explicitly."
                        : e.Message;
                    result.Add(new TopicMetadata { Name = name, Error = e.Code, ErrorMessage = message });
                }

                continue;
            }

            var why = request.AllowAutoTopicCreation
                ? $"Topic '{name}' does not exist and auto.create.topics.enable is false on the cluster (Actors:Broker:AutoCreateTopicsEnable); create it first."
                : $"Topic '{name}' does not exist.";
            result.Add(new TopicMetadata { Name = name, Error = ErrorCode.UnknownTopicOrPartition, ErrorMessage = why });
        }

        return new MetadataResponse
        {
            Topics = result.ToArray(),
            Silos = await SilosAsync(),
            KafkaBrokers = state.State.KafkaBrokers.Values.OrderBy(b => b.NodeId).ToArray(),
        };
    }

    public async Task<int> RegisterKafkaBrokerAsync(string siloName, string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(siloName);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var brokers = state.State.KafkaBrokers;
        if (brokers.TryGetValue(siloName, out var known) && known.Port == port && string.Equals(known.Host, host, StringComparison.Ordinal))
        {
            return known.NodeId;
        }

        // Ids are never reused: the next id is above every id handed out, whatever the stored counter says.
        var nodeId = known?.NodeId ?? Math.Max(state.State.NextKafkaNodeId, brokers.Values.Select(b => b.NodeId + 1).DefaultIfEmpty(1).Max());
        var nextBefore = state.State.NextKafkaNodeId;
        brokers[siloName] = new KafkaBrokerInfo { SiloName = siloName, NodeId = nodeId, Host = host, Port = port };
        state.State.NextKafkaNodeId = Math.Max(nextBefore, nodeId + 1);
        try
        {
            await WriteAsync();
        }
        catch
        {
            // Not stored: memory must not claim otherwise (the caller retries).
            if (known is null)
            {
                brokers.Remove(siloName);
            }
            else
            {
                brokers[siloName] = known;
            }

            state.State.NextKafkaNodeId = nextBefore;
            throw;
        }

        LogKafkaBrokerRegistered(logger, siloName, nodeId, host, port);
        return nodeId;
    }

    /// <summary>
    /// The Active silos with their gateway ports. The membership view has no gateway ports, the membership table's
    /// rows do; reading the table on every metadata request would put a storage read on a client's hot path, so the
    /// answer is kept until the view changes. While the table cannot be read (its storage is out), the last answer
    /// filtered by the current view is given.
    /// </summary>
    private async Task<SiloInfo[]> SilosAsync()
    {
        var view = membership.CurrentSnapshot;
        if (silos is { } known && known.Version == view.Version)
        {
            return known.Silos;
        }

        try
        {
            var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            var fresh = hosts
                .Where(m => m.Status == SiloStatus.Active)
                .OrderBy(m => m.SiloName, StringComparer.Ordinal)
                .Select(m => new SiloInfo { Name = m.SiloName, Host = m.SiloAddress.Endpoint.Address.ToString(), GatewayPort = m.ProxyPort, Status = m.Status.ToString() })
                .ToArray();
            silos = (view.Version, fresh);
            return fresh;
        }
        catch (Exception e) when (silos is not null && e is not BrokerException)
        {
            var active = view.ActiveSiloNames();
            return silos.Value.Silos.Where(s => active.Contains(s.Name)).ToArray();
        }
    }

    public async Task<PartitionState> GetPartitionStateAsync(TopicPartition partition)
    {
        if (!Topics.ContainsKey(partition.Topic))
        {
            // Not known here: this activation may be stale, so look at storage before answering "unknown".
            await RefreshAsync();
        }

        return Find(partition);
    }

    public async Task<PartitionState> AlterPartitionAsync(AlterPartitionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var current = Find(request.TopicPartition);
        var next = PartitionStateMachine.AlterIsr(current, request, LiveSilos().Contains);
        Replace(current, next, reason: null);
        await WriteAsync();
        LogIsrChanged(logger, next.TopicPartition.ToString(), string.Join(',', current.Isr), string.Join(',', next.Isr), next.PartitionEpoch);
        return next;
    }

    public async Task<ControlledShutdownResponse> ControlledShutdownAsync(string siloName)
    {
        // The stopping silo may still be Active or already ShuttingDown; the others must be Active to take over.
        var live = LiveSilos();
        var changed = new List<PartitionState>();
        foreach (var p in AllPartitions())
        {
            var next = PartitionStateMachine.OnControlledShutdown(p, siloName, live.Contains);
            if (!ReferenceEquals(next, p))
            {
                Replace(p, next, BrokerMetrics.ControlledShutdown);
                changed.Add(next);
            }
        }

        if (changed.Count > 0)
        {
            await WriteAsync();
            await NotifyAsync(changed);
        }

        var remaining = AllPartitions().Where(p => string.Equals(p.Leader, siloName, StringComparison.Ordinal)).Select(p => p.TopicPartition).ToArray();
        LogControlledShutdown(logger, siloName, changed.Count, remaining.Length);
        return new ControlledShutdownResponse { RemainingPartitions = remaining };
    }

    public async Task<PartitionState[]> ElectPreferredLeadersAsync()
    {
        var live = LiveSilos();
        var changed = new List<PartitionState>();
        foreach (var p in AllPartitions())
        {
            var next = PartitionStateMachine.ElectPreferred(p, live.Contains);
            if (!ReferenceEquals(next, p))
            {
                Replace(p, next, BrokerMetrics.Preferred);
                changed.Add(next);
            }
        }

        if (changed.Count > 0)
        {
            await WriteAsync();
            await NotifyAsync(changed);
        }

        return changed.ToArray();
    }

    public async Task ReconcileMembershipAsync()
    {
        // Two activations can coexist briefly after a view change. Whoever finds that the stored record moved on
        // without it is stale: it adopts the stored state and deactivates, so calls find the current one.
        if (!await ReadStoredStateAsync())
        {
            return;
        }

        var live = LiveSilos();
        var changed = new List<PartitionState>();
        foreach (var p in AllPartitions())
        {
            var unclean = Topics.TryGetValue(p.Topic, out var t) && EffectiveTopicConfig.Resolve(t.Configs, options).UncleanLeaderElectionEnable;
            var next = PartitionStateMachine.OnLivenessChanged(p, live.Contains, unclean);
            if (!ReferenceEquals(next, p))
            {
                Replace(p, next, next.Leader is not null && !p.Isr.Contains(next.Leader, StringComparer.Ordinal) ? BrokerMetrics.Unclean : BrokerMetrics.Failover);
                changed.Add(next);
                LogPartitionChanged(logger, next.ToString());
            }
        }

        if (options.AutoLeaderRebalanceEnable && NowMs - lastRebalanceMs >= options.LeaderImbalanceCheckIntervalSeconds * 1000L)
        {
            lastRebalanceMs = NowMs;
            foreach (var p in AllPartitions())
            {
                var next = PartitionStateMachine.ElectPreferred(p, live.Contains);
                if (!ReferenceEquals(next, p))
                {
                    Replace(p, next, BrokerMetrics.Preferred);
                    changed.RemoveAll(c => c.TopicPartition == next.TopicPartition);
                    changed.Add(next);
                    LogPreferredLeader(logger, next.ToString());
                }
            }
        }

        if (changed.Count > 0)
        {
            await WriteAsync();
        }

        // Silos that (re)joined learn every partition they replicate; changed partitions are announced to all.
        var joined = live.Where(s => !lastLive.Contains(s)).ToHashSet(StringComparer.Ordinal);
        lastLive = live;
        var toNotify = changed.ToDictionary(p => p.TopicPartition);
        var resync = NowMs - lastResyncMs >= options.ControllerResyncMs;
        if (resync)
        {
            lastResyncMs = NowMs;
        }

        if (joined.Count > 0 || resync)
        {
            foreach (var p in AllPartitions().Where(p => resync || p.Replicas.Any(joined.Contains)))
            {
                toNotify.TryAdd(p.TopicPartition, p);
            }
        }

        if (toNotify.Count > 0)
        {
            await NotifyAsync(toNotify.Values);
        }
    }

    private async Task ReconcileOnTimerAsync()
    {
        try
        {
            await ReconcileMembershipAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote first: this one is stale and the runtime deactivates it.
            throw;
        }
        catch (Exception e)
        {
            // The timer ticks every ControllerMembershipPollMs: the first failure of a run is logged with what to
            // check, the rest only at Debug, and the recovery once.
            if (reconcileFailures++ == 0)
            {
                reconcileFailingSinceMs = NowMs;
                LogReconcileFailed(logger, options.ControllerMembershipPollMs, e);
            }
            else
            {
                LogReconcileStillFailing(logger, reconcileFailures, e.Message);
            }

            return;
        }

        if (reconcileFailures > 0)
        {
            LogReconcileRecovered(logger, (NowMs - reconcileFailingSinceMs) / 1000.0, reconcileFailures);
            reconcileFailures = 0;
        }
    }

    private TopicRecord Get(string topic) =>
        Topics.TryGetValue(topic, out var record)
            ? record
            : throw new BrokerException(ErrorCode.UnknownTopicOrPartition, $"Topic '{topic}' does not exist.");

    private PartitionState Find(TopicPartition tp)
    {
        var record = Get(tp.Topic);
        if (tp.Partition < 0 || tp.Partition >= record.Partitions.Length)
        {
            throw new BrokerException(ErrorCode.UnknownTopicOrPartition,
                $"Partition {tp.Partition} of topic '{tp.Topic}' does not exist; it has {record.Partitions.Length} partitions.");
        }

        return record.Partitions[tp.Partition];
    }

    private void Replace(PartitionState next) => Topics[next.Topic].Partitions[next.Partition] = next;

    /// <summary>Replaces <paramref name="current"/> with <paramref name="next"/> and records the change in
    /// <see cref="BrokerMetrics"/> (<paramref name="reason"/>: why the leader changed, if it did; null where it cannot).</summary>
    private void Replace(PartitionState current, PartitionState next, string? reason)
    {
        Replace(next);
        BrokerMetrics.RecordChange(current, next, reason);
    }

    private PartitionState[] AllPartitions() => Topics.Values.SelectMany(t => t.Partitions).ToArray();

    private HashSet<string> LiveSilos() => membership.CurrentSnapshot.ActiveSiloNames();

    private PartitionState[] Assign(string topic, HashSet<string> live, int count, int rf, int firstPartitionId)
    {
        var leaders = AllPartitions().Where(p => p.Leader is not null).GroupBy(p => p.Leader!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var start = firstPartitionId == 0
            ? ReplicaAssigner.LeastLoadedStartIndex(live, leaders)
            : Array.IndexOf(live.Order(StringComparer.Ordinal).ToArray(), Topics[topic].Partitions[0].Replicas[0]);
        var shift = (Topics.Count + (int)(StableHash(topic) % 7)) % Math.Max(1, live.Count);
        var replicas = ReplicaAssigner.Assign(live, count, rf, Math.Max(0, start), shift, firstPartitionId);
        return replicas.Select((r, i) => new PartitionState
        {
            Topic = topic,
            Partition = firstPartitionId + i,
            Replicas = r,
            Leader = r[0],
            LeaderEpoch = 0,
            Isr = r,
            PartitionEpoch = 0,
        }).ToArray();
    }

    private static uint StableHash(string s)
    {
        var h = 2166136261u;
        foreach (var c in s)
        {
            h = (h ^ c) * 16777619u;
        }

        return h;
    }

    private async Task NotifyAsync(IEnumerable<PartitionState> partitions)
    {
        var live = LiveSilos();
        var tasks = new List<Task>();
        foreach (var p in partitions)
        {
            if (p.Leader is not null && live.Contains(p.Leader))
            {
                tasks.Add(Safe(() => TellLeaderAsync(p), p.TopicPartition));
            }

            foreach (var r in p.Replicas.Where(r => live.Contains(r) && !string.Equals(r, p.Leader, StringComparison.Ordinal)))
            {
                tasks.Add(Safe(() => GrainFactory.GetGrain<IReplicaGrain>(BrokerGrainKeys.Replica(p.TopicPartition, r)).BecomeFollowerAsync(p), p.TopicPartition));
            }
        }

        await Task.WhenAll(tasks);
    }

    private async Task TellLeaderAsync(PartitionState p)
    {
        var grain = GrainFactory.GetGrain<IPartitionGrain>(BrokerGrainKeys.Partition(p.TopicPartition));
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await grain.BecomeLeaderAsync(p))
            {
                return;
            }

            // The activation found was on another silo and is deactivating; the next call places it anew.
            await Task.Delay(TimeSpan.FromMilliseconds(20 * (attempt + 1)), time);
        }
    }

    private async Task Safe(Func<Task> call, TopicPartition tp)
    {
        try
        {
            // Bounded: a call to a silo that just died must not hold the controller's turn until the response
            // timeout; the periodic resync repeats whatever did not get through.
            await call().WaitAsync(NotifyTimeout, time);
        }
        catch (Exception e)
        {
            LogNotifyFailed(logger, tp.ToString(), e);
        }
    }

    [LoggerMessage(EventId = 5301, Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions, replication factor {ReplicationFactor}")]
    private static partial void LogTopicCreated(ILogger logger, string topic, int partitions, int replicationFactor);

    [LoggerMessage(EventId = 5302, Level = LogLevel.Information, Message = "Deleted topic {Topic}")]
    private static partial void LogTopicDeleted(ILogger logger, string topic);

    [LoggerMessage(EventId = 5303, Level = LogLevel.Information, Message = "ISR of {Partition} changed from [{Isr}] to [{NewIsr}] (partition epoch {PartitionEpoch})")]
    private static partial void LogIsrChanged(ILogger logger, string partition, string isr, string newIsr, int partitionEpoch);

    [LoggerMessage(EventId = 5304, Level = LogLevel.Information, Message = "Membership change: {State}")]
    private static partial void LogPartitionChanged(ILogger logger, string state);

    [LoggerMessage(EventId = 5305, Level = LogLevel.Information, Message = "Preferred leader elected: {State}")]
    private static partial void LogPreferredLeader(ILogger logger, string state);

    [LoggerMessage(EventId = 5306, Level = LogLevel.Information, Message = "Controlled shutdown of {Silo}: {Moved} partitions changed, {Remaining} still led")]
    private static partial void LogControlledShutdown(ILogger logger, string silo, int moved, int remaining);

    [LoggerMessage(EventId = 5308, Level = LogLevel.Information, Message = "Controller activation was stale (held ETag {Held}, stored {Stored}); deactivating")]
    private static partial void LogStale(ILogger logger, string held, string stored);

    [LoggerMessage(EventId = 5309, Level = LogLevel.Warning, Message = "The controller cannot reconcile membership (it reads its state from grain storage first); " +
        "retrying every {PollMs} ms and logging again only when it works. If the cause is grain storage, check that it is running and reachable from this silo " +
        "(the silo's Actors:GrainStorage settings). Until then no leader is re-elected and no topic can be created or changed; current leaders keep serving")]
    private static partial void LogReconcileFailed(ILogger logger, int pollMs, Exception exception);

    [LoggerMessage(EventId = 5310, Level = LogLevel.Debug, Message = "Reconciling membership failed again ({Failures} in a row): {Failure}")]
    private static partial void LogReconcileStillFailing(ILogger logger, int failures, string failure);

    [LoggerMessage(EventId = 5311, Level = LogLevel.Information, Message = "The controller reconciles membership again after {Seconds:0.0} s ({Failures} failed attempts)")]
    private static partial void LogReconcileRecovered(ILogger logger, double seconds, int failures);

    [LoggerMessage(EventId = 5307, Level = LogLevel.Warning, Message = "Could not tell the replicas of {Partition} of a change")]
    private static partial void LogNotifyFailed(ILogger logger, string partition, Exception exception);

    [LoggerMessage(EventId = 5320, Level = LogLevel.Information, Message = "Silo {Silo} is Kafka broker {NodeId} at {Host}:{Port}")]
    private static partial void LogKafkaBrokerRegistered(ILogger logger, string silo, int nodeId, string host, int port);
}
