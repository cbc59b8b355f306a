namespace Actors.Broker;

/// <summary>
/// The leader of one partition (key "topic/partition", see <see cref="BrokerGrainKeys.Partition"/>), placed on the
/// silo that the controller names as leader. Answers carry an <see cref="ErrorCode"/> (Kafka's per-partition
/// errors) rather than throwing: NOT_LEADER_OR_FOLLOWER tells the caller to refresh metadata and retry.
/// </summary>
[Alias("broker.IPartitionGrain")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>Appends one or more record batches (magic v2) per <see cref="ProduceRequest.Acks"/>.</summary>
    Task<ProduceResponse> ProduceAsync(ProduceRequest request);

    /// <summary>A consumer's fetch: batches below the high watermark, long-polling up to
    /// <see cref="FetchRequest.MaxWaitMs"/> until <see cref="FetchRequest.MinBytes"/> are available.</summary>
    [AlwaysInterleave]
    Task<FetchResponse> FetchAsync(FetchRequest request);

    /// <summary>A follower's fetch: reports its log end offset (the fetch offset) and gets what follows.</summary>
    [AlwaysInterleave]
    Task<ReplicaFetchResponse> ReplicaFetchAsync(ReplicaFetchRequest request);

    /// <summary>The end offset of <paramref name="leaderEpoch"/> in the leader's log (Kafka's OffsetForLeaderEpoch),
    /// for a follower deciding where its divergent tail starts.</summary>
    [AlwaysInterleave]
    Task<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(int currentLeaderEpoch, int leaderEpoch);

    /// <summary>Earliest (-2), latest (-1) or first offset at or after a timestamp.</summary>
    [AlwaysInterleave]
    Task<ListOffsetsResponse> ListOffsetsAsync(ListOffsetsRequest request);

    /// <summary>Called by the controller when it publishes a new partition state. Returns true when this activation
    /// leads under it; false when it is not on the leader's silo (it then deactivates, and the next call places
    /// the grain on the leader's silo).</summary>
    Task<bool> BecomeLeaderAsync(PartitionState state);

    [AlwaysInterleave]
    Task<PartitionStatus> GetStatusAsync();
}

/// <summary>Produce to one partition. <see cref="Records"/> holds whole record batches (magic v2) back to back.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.ProduceRequest")]
public sealed class ProduceRequest
{
    /// <summary>0: no wait; 1: after the leader's append; -1 (all): after every in-sync replica has it.</summary>
    [Id(0)] public short Acks { get; set; } = -1;

    /// <summary>How long to wait for acks=all, in ms.</summary>
    [Id(1)] public int TimeoutMs { get; set; } = 30_000;

    [Id(2)] [Immutable] public ReadOnlyMemory<byte> Records { get; set; }

    /// <summary>The leader epoch the producer saw in metadata, or -1.</summary>
    [Id(3)] public int CurrentLeaderEpoch { get; set; } = -1;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ProduceResponse")]
public sealed class ProduceResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    /// <summary>The offset of the first record appended (or, for a duplicate, first written), -1 on error.</summary>
    [Id(2)] public long BaseOffset { get; set; } = -1;

    /// <summary>The append time when the topic uses LogAppendTime, else -1.</summary>
    [Id(3)] public long LogAppendTimeMs { get; set; } = -1;

    [Id(4)] public long LogStartOffset { get; set; } = -1;

    /// <summary>The leader epoch that wrote the records.</summary>
    [Id(5)] public int LeaderEpoch { get; set; } = -1;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.FetchRequest")]
public sealed class FetchRequest
{
    [Id(0)] public long FetchOffset { get; set; }

    /// <summary>The leader epoch the consumer knows, or -1 to skip the check.</summary>
    [Id(1)] public int CurrentLeaderEpoch { get; set; } = -1;

    /// <summary>Upper bound on the records returned (at least one batch is returned when available).</summary>
    [Id(2)] public int MaxBytes { get; set; } = 1_048_576;

    /// <summary>fetch.min.bytes: wait until this many bytes are available or <see cref="MaxWaitMs"/> passes.</summary>
    [Id(3)] public int MinBytes { get; set; } = 1;

    /// <summary>fetch.max.wait.ms.</summary>
    [Id(4)] public int MaxWaitMs { get; set; } = 500;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.FetchResponse")]
public sealed class FetchResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    [Id(2)] public long HighWatermark { get; set; } = -1;

    [Id(3)] public long LogStartOffset { get; set; } = -1;

    /// <summary>Whole batches; the first may start before the fetch offset (clients skip to it).</summary>
    [Id(4)] [Immutable] public ReadOnlyMemory<byte> Records { get; set; }

    [Id(5)] public long LastStableOffset { get; set; } = -1;

    /// <summary>The array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> behind <see cref="Records"/>,
    /// when this is the very answer the leader built. Not serialized: an answer from another silo, or a copy, owns its
    /// own array and has none.</summary>
    [NonSerialized]
    private byte[]? rentedRecords;

    /// <summary>Notes that <see cref="Records"/> lie in <paramref name="rented"/>, rented from the shared array pool,
    /// which goes with this answer. Returns this answer.</summary>
    public FetchResponse WithRentedRecords(byte[]? rented)
    {
        rentedRecords = rented;
        return this;
    }

    /// <summary>For the one receiver of the answer the leader built (a call within the silo passes it as is): the
    /// rented array behind <see cref="Records"/>, to return to the shared pool once done with <see cref="Records"/>
    /// (and not to read them after); null when there is none or it was taken.</summary>
    public byte[]? TakeRentedRecords() => Interlocked.Exchange(ref rentedRecords, null);
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ReplicaFetchRequest")]
public sealed class ReplicaFetchRequest
{
    /// <summary>The follower's silo name.</summary>
    [Id(0)] public string ReplicaSilo { get; set; } = string.Empty;

    /// <summary>The leader epoch the follower follows; an old one is refused with FENCED_LEADER_EPOCH.</summary>
    [Id(1)] public int LeaderEpoch { get; set; }

    /// <summary>The follower's log end offset.</summary>
    [Id(2)] public long FetchOffset { get; set; }

    /// <summary>The epoch of the last batch in the follower's log, or -1.</summary>
    [Id(3)] public int LastFetchedEpoch { get; set; } = -1;

    [Id(4)] public int MaxBytes { get; set; } = 1_048_576;

    [Id(5)] public int MaxWaitMs { get; set; } = 500;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ReplicaFetchResponse")]
public sealed class ReplicaFetchResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public string? ErrorMessage { get; set; }

    [Id(2)] public long HighWatermark { get; set; } = -1;

    [Id(3)] public long LogStartOffset { get; set; } = -1;

    [Id(4)] [Immutable] public ReadOnlyMemory<byte> Records { get; set; }

    /// <summary>Set when the follower's last fetched epoch ends earlier on the leader: truncate to it first.</summary>
    [Id(5)] public EpochEndOffset DivergingEpoch { get; set; } = EpochEndOffset.Undefined;

    /// <summary>The leader's log end offset.</summary>
    [Id(6)] public long LogEndOffset { get; set; } = -1;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.OffsetForLeaderEpochResponse")]
public sealed class OffsetForLeaderEpochResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    /// <summary>The largest epoch ≤ the requested one known to the leader, and the offset where it ends.</summary>
    [Id(1)] public EpochEndOffset EndOffset { get; set; } = EpochEndOffset.Undefined;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ListOffsetsRequest")]
public sealed class ListOffsetsRequest
{
    /// <summary>Kafka's special timestamp asking for the log start offset.</summary>
    public const long Earliest = -2;

    /// <summary>Kafka's special timestamp asking for the log end offset (the high watermark for consumers).</summary>
    public const long Latest = -1;

    /// <summary>Kafka's special timestamp asking for the record with the largest timestamp (KIP-734).</summary>
    public const long MaxTimestamp = -3;

    /// <summary><see cref="Earliest"/>, <see cref="Latest"/>, <see cref="MaxTimestamp"/> or a timestamp in ms since the Unix epoch.</summary>
    [Id(0)] public long Timestamp { get; set; } = Latest;

    [Id(1)] public int CurrentLeaderEpoch { get; set; } = -1;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.ListOffsetsResponse")]
public sealed class ListOffsetsResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public long Timestamp { get; set; } = -1;

    /// <summary>The offset, or -1 when no record has a timestamp at or after the one asked.</summary>
    [Id(2)] public long Offset { get; set; } = -1;

    [Id(3)] public int LeaderEpoch { get; set; } = -1;
}

/// <summary>The leader's view of its partition.</summary>
[GenerateSerializer]
[Immutable]
[Alias("broker.PartitionStatus")]
public sealed class PartitionStatus
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public PartitionState? State { get; set; }

    [Id(2)] public long LogStartOffset { get; set; } = -1;

    [Id(3)] public long LogEndOffset { get; set; } = -1;

    [Id(4)] public long HighWatermark { get; set; } = -1;

    /// <summary>The last known log end offset of each replica (the leader included).</summary>
    [Id(5)] public Dictionary<string, long> ReplicaLogEndOffsets { get; set; } = new(StringComparer.Ordinal);
}
