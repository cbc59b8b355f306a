using Actors.Broker.Configuration;
using Actors.Broker.Diagnostics;
using Actors.Broker.Topics;
using Actors.Broker.Placement;
using Orleans.Serialization;
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
/// <remarks>
/// <para>Reentrant only for its read methods ([AlwaysInterleave]); changes run one turn at a time.</para>
/// <para>What readers see is <c>current</c>: the record as last read from or written to storage, never changed in
/// place. A change builds its next record on a copy and makes it current only once the conditional write
/// succeeded, so an interleaved read never sees a state that is not persisted. After any failed write (an ETag
/// conflict or anything else: whether it was stored is unknown) the next change first re-reads storage. The grain's
/// persistent state is read only on the grain turn; a read method that needs storage reads into a temporary and,
/// when storage moved on without this activation, answers from it and deactivates this stale activation.</para>
/// </remarks>
[GrainType("broker-controller")]
public sealed partial class ControllerGrain : Grain, IControllerGrain
{
    private const string StateName = "controller";
    private readonly IPersistentState<ControllerState> state;
    private readonly BrokerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly IClusterMembershipService membership;
    private readonly DeepCopier<ControllerState> copier;
    private HashSet<string> lastLive = new(StringComparer.Ordinal);
    private ControllerState current = new();
    private IGrainStorage? storage;
    private bool reloadNeeded;
    private long storageChanges;
    private long lastRebalanceMs;
    private long lastResyncMs;
    private int writing;
    private int reconcileFailures;
    private (MembershipVersion Version, SiloInfo[] Silos)? silos;
    private long reconcileFailingSinceMs;

    public ControllerGrain(
        [PersistentState(StateName)] IPersistentState<ControllerState> state,
        IOptions<BrokerOptions> options,
        TimeProvider time,
        ILogger<ControllerGrain> logger,
        IClusterMembershipService membership,
        DeepCopier<ControllerState> copier)
    {
        this.state = state;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        this.membership = membership;
        this.copier = copier;
    }

    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(3);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        current = EnsureCollections(state.State);
        storage = GrainStorageHelpers.GetGrainStorage(GetType(), ServiceProvider);
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
        var next = await NextAsync();
        if (next.Topics.ContainsKey(request.Name))
        {
            throw new BrokerException(ErrorCode.TopicAlreadyExists, $"Topic '{request.Name}' already exists.");
        }

        var collision = next.Topics.Keys.FirstOrDefault(t => TopicNameValidator.Collides(t, request.Name));
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
            Partitions = Assign(next, request.Name, live, partitionCount, rf, 0),
        };
        if (request.ValidateOnly)
        {
            return record.Describe();
        }

        next.Topics[record.Name] = record;
        await CommitAsync(next);
        LogTopicCreated(logger, record.Name, partitionCount, rf);
        await NotifyAsync(record.Partitions);
        return record.Describe();
    }

    public async Task DeleteTopicAsync(string topic)
    {
        var next = await NextAsync();
        var record = Get(next, topic);
        next.Topics.Remove(topic);
        await CommitAsync(next);
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
        var next = await NextAsync();
        var record = Get(next, topic);
        var count = record.Partitions.Length;
        if (totalCount <= count)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions,
                $"Topic '{topic}' has {count} partitions; the new count {totalCount} must be larger (partitions are never removed).");
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

        var added = Assign(next, topic, live, totalCount - count, rf, count);
        record.Partitions = record.Partitions.Concat(added).ToArray();
        await CommitAsync(next);
        await NotifyAsync(added);
        return record.Describe();
    }

    public async Task<TopicDescription> AlterTopicConfigsAsync(AlterTopicConfigsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var next = await NextAsync();
        var record = Get(next, request.Topic);
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

        await CommitAsync(next);
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
        var known = current;
        if (topics is not null && topics.Any(t => !known.Topics.ContainsKey(t)))
        {
            known = await FreshestAsync();
        }

        return topics is null
            ? known.Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Describe()).ToArray()
            : topics.Select(t => Get(known, t).Describe()).ToArray();
    }

    /// <summary>Starts a change on the grain turn: a copy of the persisted record to build the next one on, after
    /// re-reading storage if the last write failed.</summary>
    private async Task<ControllerState> NextAsync()
    {
        if (reloadNeeded)
        {
            storageChanges++;
            await state.ReadStateAsync();
            current = EnsureCollections(state.State);
            reloadNeeded = false;
        }

        return copier.Copy(current);
    }

    /// <summary>Writes <paramref name="next"/> with the ETag last read or written; only when that succeeds does it
    /// become what readers see. On any failure memory is dropped: the next change re-reads storage first.</summary>
    private async Task CommitAsync(ControllerState next)
    {
        storageChanges++;
        writing++;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            state.State = current;
            reloadNeeded = true;
            if (e is InconsistentStateException)
            {
                // Another activation wrote first: this one is stale.
                DeactivateOnIdle();
            }

            throw;
        }
        finally
        {
            writing--;
        }

        current = next;
    }

    /// <summary>For a read that found nothing it knows: reads storage into a temporary (the grain's persistent state
    /// is the turn's alone). If storage moved on without this activation, this activation is stale: the answer comes
    /// from what is stored, and the activation deactivates so calls find a current one.</summary>
    private async Task<ControllerState> FreshestAsync()
    {
        var changesBefore = storageChanges;
        var etag = state.Etag;
        if (writing > 0 || reloadNeeded || storage is null)
        {
            // A change of this activation is being stored or its outcome is unknown: storage is no reference now.
            return current;
        }

        var stored = new GrainState<ControllerState>();
        await storage.ReadStateAsync(StateName, this.GetGrainId(), stored);
        if (changesBefore != storageChanges || string.Equals(stored.ETag, etag, StringComparison.Ordinal) || stored.State is null)
        {
            return current;
        }

        LogStale(logger, etag ?? "none", stored.ETag ?? "none");
        reloadNeeded = true;
        DeactivateOnIdle();
        return EnsureCollections(stored.State);
    }

    /// <summary>Reads the stored record on the grain turn. If it moved on without this activation, this activation
    /// is stale: it adopts the stored state, deactivates so calls find the current one, and this returns false.</summary>
    private async Task<bool> ReadStoredStateAsync()
    {
        var etag = state.Etag;
        storageChanges++;
        await state.ReadStateAsync();
        current = EnsureCollections(state.State);
        reloadNeeded = false;
        if (string.Equals(etag, state.Etag, StringComparison.Ordinal))
        {
            return true;
        }

        LogStale(logger, etag ?? "none", state.Etag ?? "none");
        DeactivateOnIdle();
        return false;
    }

    /// <summary>A record stored before a collection member existed reads back with it null.</summary>
    private static ControllerState EnsureCollections(ControllerState s)
    {
        s.Topics ??= new(StringComparer.Ordinal);
        s.KafkaBrokers ??= new(StringComparer.Ordinal);
        foreach (var broker in s.KafkaBrokers.Values)
        {
            broker.Listeners ??= [];
        }

        return s;
    }

    public Task<string[]> ListTopicsAsync() => Task.FromResult(current.Topics.Keys.Order(StringComparer.Ordinal).ToArray());

    public async Task<MetadataResponse> GetMetadataAsync(MetadataRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var names = request.Topics ?? current.Topics.Keys.Order(StringComparer.Ordinal).ToArray();
        var result = new List<TopicMetadata>();
        foreach (var name in names)
        {
            if (current.Topics.TryGetValue(name, out var record))
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
            KafkaBrokers = current.KafkaBrokers.Values.OrderBy(b => b.NodeId).ToArray(),
        };
    }

    public Task<int> RegisterKafkaBrokerAsync(string siloName, string host, int port) => RegisterAsync(siloName, host, port, []);

    public Task<int> RegisterKafkaListenersAsync(string siloName, KafkaListenerInfo[] listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentOutOfRangeException.ThrowIfZero(listeners.Length);
        foreach (var listener in listeners)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(listener.Name);
            ArgumentException.ThrowIfNullOrWhiteSpace(listener.Host);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(listener.Port);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(listener.Port, 65535);
        }

        if (listeners.Select(l => l.Name).Distinct(StringComparer.Ordinal).Count() != listeners.Length)
        {
            throw new ArgumentException($"Silo {siloName} registers a listener name twice: {string.Join(", ", listeners.Select(l => l.Name))}.", nameof(listeners));
        }

        return RegisterAsync(siloName, listeners[0].Host, listeners[0].Port, listeners);
    }

    private async Task<int> RegisterAsync(string siloName, string host, int port, KafkaListenerInfo[] listeners)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(siloName);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        bool Same(KafkaBrokerInfo b) =>
            b.Port == port && string.Equals(b.Host, host, StringComparison.Ordinal) && b.Listeners.SequenceEqual(listeners);
        if (!reloadNeeded && current.KafkaBrokers.TryGetValue(siloName, out var same) && Same(same))
        {
            return same.NodeId;
        }

        var next = await NextAsync();
        var brokers = next.KafkaBrokers;
        if (brokers.TryGetValue(siloName, out var known) && Same(known))
        {
            return known.NodeId;
        }

        // Ids are never reused: the next id is above every id handed out, whatever the stored counter says.
        var nodeId = known?.NodeId ?? Math.Max(next.NextKafkaNodeId, brokers.Values.Select(b => b.NodeId + 1).DefaultIfEmpty(1).Max());
        brokers[siloName] = new KafkaBrokerInfo { SiloName = siloName, NodeId = nodeId, Host = host, Port = port, Listeners = listeners };
        next.NextKafkaNodeId = Math.Max(next.NextKafkaNodeId, nodeId + 1);

        // Not stored: memory does not claim otherwise (the caller retries).
        await CommitAsync(next);
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
        var known = current;
        if (!known.Topics.ContainsKey(partition.Topic))
        {
            // Not known here: this activation may be stale, so look at storage before answering "unknown".
            known = await FreshestAsync();
        }

        return Find(known, partition);
    }

    public async Task<PartitionState> AlterPartitionAsync(AlterPartitionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var next = await NextAsync();
        var before = Find(next, request.TopicPartition);
        var after = PartitionStateMachine.AlterIsr(before, request, LiveSilos().Contains);
        Replace(next, after);
        await CommitAsync(next);
        BrokerMetrics.RecordChange(before, after, null);
        LogIsrChanged(logger, after.TopicPartition.ToString(), string.Join(',', before.Isr), string.Join(',', after.Isr), after.PartitionEpoch);
        return after;
    }

    public async Task<ControlledShutdownResponse> ControlledShutdownAsync(string siloName)
    {
        // The stopping silo may still be Active or already ShuttingDown; the others must be Active to take over.
        var live = LiveSilos();
        var next = await NextAsync();
        var changes = new Changes(next);
        foreach (var p in AllPartitions(next))
        {
            changes.Apply(p, PartitionStateMachine.OnControlledShutdown(p, siloName, live.Contains), BrokerMetrics.ControlledShutdown);
        }

        if (changes.Count > 0)
        {
            await CommitAsync(next);
            changes.Record();
            await NotifyAsync(changes.Changed);
        }

        var remaining = AllPartitions(current).Where(p => string.Equals(p.Leader, siloName, StringComparison.Ordinal)).Select(p => p.TopicPartition).ToArray();
        LogControlledShutdown(logger, siloName, changes.Count, remaining.Length);
        return new ControlledShutdownResponse { RemainingPartitions = remaining };
    }

    public async Task<PartitionState[]> ElectPreferredLeadersAsync()
    {
        var live = LiveSilos();
        var next = await NextAsync();
        var changes = new Changes(next);
        foreach (var p in AllPartitions(next))
        {
            changes.Apply(p, PartitionStateMachine.ElectPreferred(p, live.Contains), BrokerMetrics.Preferred);
        }

        if (changes.Count > 0)
        {
            await CommitAsync(next);
            changes.Record();
            await NotifyAsync(changes.Changed);
        }

        return changes.Changed.ToArray();
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
        var next = await NextAsync();
        var changes = new Changes(next);
        foreach (var p in AllPartitions(next))
        {
            var unclean = next.Topics.TryGetValue(p.Topic, out var t) && EffectiveTopicConfig.Resolve(t.Configs, options).UncleanLeaderElectionEnable;
            var after = PartitionStateMachine.OnLivenessChanged(p, live.Contains, unclean);
            if (changes.Apply(p, after, after.Leader is not null && !p.Isr.Contains(after.Leader, StringComparer.Ordinal) ? BrokerMetrics.Unclean : BrokerMetrics.Failover))
            {
                LogPartitionChanged(logger, after.ToString());
            }
        }

        if (options.AutoLeaderRebalanceEnable && NowMs - lastRebalanceMs >= options.LeaderImbalanceCheckIntervalSeconds * 1000L)
        {
            lastRebalanceMs = NowMs;
            foreach (var p in AllPartitions(next))
            {
                var after = PartitionStateMachine.ElectPreferred(p, live.Contains);
                if (changes.Apply(p, after, BrokerMetrics.Preferred))
                {
                    LogPreferredLeader(logger, after.ToString());
                }
            }
        }

        if (changes.Count > 0)
        {
            await CommitAsync(next);
            changes.Record();
        }

        // Silos that (re)joined learn every partition they replicate; changed partitions are announced to all.
        var joined = live.Where(s => !lastLive.Contains(s)).ToHashSet(StringComparer.Ordinal);
        lastLive = live;
        var toNotify = changes.Changed.ToDictionary(p => p.TopicPartition);
        var resync = NowMs - lastResyncMs >= options.ControllerResyncMs;
        if (resync)
        {
            lastResyncMs = NowMs;
        }

        if (joined.Count > 0 || resync)
        {
            foreach (var p in AllPartitions(current).Where(p => resync || p.Replicas.Any(joined.Contains)))
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
            // Another activation wrote first: this one is stale and deactivates.
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

    private static TopicRecord Get(ControllerState s, string topic) =>
        s.Topics.TryGetValue(topic, out var record)
            ? record
            : throw new BrokerException(ErrorCode.UnknownTopicOrPartition, $"Topic '{topic}' does not exist.");

    private static PartitionState Find(ControllerState s, TopicPartition tp)
    {
        var record = Get(s, tp.Topic);
        if (tp.Partition < 0 || tp.Partition >= record.Partitions.Length)
        {
            throw new BrokerException(ErrorCode.UnknownTopicOrPartition,
                $"Partition {tp.Partition} of topic '{tp.Topic}' does not exist; it has {record.Partitions.Length} partitions.");
        }

        return record.Partitions[tp.Partition];
    }

    private static void Replace(ControllerState s, PartitionState next) => s.Topics[next.Topic].Partitions[next.Partition] = next;

    private static PartitionState[] AllPartitions(ControllerState s) => s.Topics.Values.SelectMany(t => t.Partitions).ToArray();

    private HashSet<string> LiveSilos() => membership.CurrentSnapshot.ActiveSiloNames();

    private static PartitionState[] Assign(ControllerState s, string topic, HashSet<string> live, int count, int rf, int firstPartitionId)
    {
        var leaders = AllPartitions(s).Where(p => p.Leader is not null).GroupBy(p => p.Leader!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var start = firstPartitionId == 0
            ? ReplicaAssigner.LeastLoadedStartIndex(live, leaders)
            : Array.IndexOf(live.Order(StringComparer.Ordinal).ToArray(), s.Topics[topic].Partitions[0].Replicas[0]);
        var shift = (s.Topics.Count + (int)(StableHash(topic) % 7)) % Math.Max(1, live.Count);
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

    /// <summary>Partition changes applied to a next record; counted in <see cref="BrokerMetrics"/> only once stored.</summary>
    private sealed class Changes(ControllerState next)
    {
        private readonly List<(PartitionState Before, PartitionState After, string? Reason)> steps = [];
        private readonly Dictionary<TopicPartition, PartitionState> latest = [];

        public int Count => latest.Count;

        public IEnumerable<PartitionState> Changed => latest.Values;

        /// <summary>Puts <paramref name="after"/> in place of <paramref name="before"/> unless they are the same.</summary>
        public bool Apply(PartitionState before, PartitionState after, string? reason)
        {
            if (ReferenceEquals(before, after))
            {
                return false;
            }

            Replace(next, after);
            steps.Add((before, after, reason));
            latest[after.TopicPartition] = after;
            return true;
        }

        public void Record()
        {
            foreach (var (before, after, reason) in steps)
            {
                BrokerMetrics.RecordChange(before, after, reason);
            }
        }
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

            // The leader's own replica grain is told too: if it followed before, its fetch loop stops.
            foreach (var r in p.Replicas.Where(live.Contains))
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
