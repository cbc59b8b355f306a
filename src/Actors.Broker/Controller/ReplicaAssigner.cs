namespace Actors.Broker.Controller;

/// <summary>
/// Assigns replicas of new partitions to silos as Kafka does without racks: the first replica (the preferred
/// leader) of consecutive partitions goes round-robin over the silos, so leaders spread evenly; the
/// followers of a partition follow at a shift that grows every full round, so replicas spread too. No silo
/// gets two replicas of one partition.
/// </summary>
/// <remarks>Pure and deterministic for a given start index and shift.</remarks>
public static class ReplicaAssigner
{
    /// <summary>Assigns <paramref name="partitionCount"/> partitions numbered from <paramref name="firstPartitionId"/>.</summary>
    /// <param name="silos">The Active silos' names; sorted ordinally before use.</param>
    /// <param name="partitionCount">How many partitions to assign.</param>
    /// <param name="replicationFactor">Replicas per partition.</param>
    /// <param name="startIndex">Index (in sorted order) of the silo that leads the first new partition.</param>
    /// <param name="replicaShift">The initial shift of followers relative to the leader.</param>
    /// <param name="firstPartitionId">The id of the first new partition (greater than 0 when partitions are added).</param>
    /// <returns>Per partition, its replicas in preference order.</returns>
    public static IReadOnlyList<string[]> Assign(
        IReadOnlyCollection<string> silos,
        int partitionCount,
        int replicationFactor,
        int startIndex,
        int replicaShift,
        int firstPartitionId = 0)
    {
        ArgumentNullException.ThrowIfNull(silos);
        var sorted = silos.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var n = sorted.Length;
        if (partitionCount <= 0)
        {
            throw new BrokerException(ErrorCode.InvalidPartitions, $"Number of partitions must be larger than 0; got {partitionCount}.");
        }

        if (replicationFactor <= 0)
        {
            throw new BrokerException(ErrorCode.InvalidReplicationFactor, $"Replication factor must be larger than 0; got {replicationFactor}.");
        }

        if (replicationFactor > n)
        {
            throw new BrokerException(ErrorCode.InvalidReplicationFactor,
                $"Replication factor {replicationFactor} is larger than the number of Active silos ({n}).");
        }

        startIndex = Mod(startIndex, n);
        var shift = Mod(replicaShift, n);
        var result = new List<string[]>(partitionCount);
        var partitionId = Math.Max(0, firstPartitionId);
        for (var i = 0; i < partitionCount; i++, partitionId++)
        {
            if (partitionId > 0 && partitionId % n == 0)
            {
                shift++;
            }

            var first = (partitionId + startIndex) % n;
            var replicas = new string[replicationFactor];
            replicas[0] = sorted[first];
            for (var j = 0; j < replicationFactor - 1; j++)
            {
                replicas[j + 1] = sorted[FollowerIndex(first, shift, j, n)];
            }

            result.Add(replicas);
        }

        return result;
    }

    /// <summary>The start index that gives the next leadership to the silo leading the fewest partitions now
    /// (ties broken by name), so leaders stay even across topics.</summary>
    public static int LeastLoadedStartIndex(IReadOnlyCollection<string> silos, IReadOnlyDictionary<string, int> leadersPerSilo)
    {
        ArgumentNullException.ThrowIfNull(silos);
        ArgumentNullException.ThrowIfNull(leadersPerSilo);
        var sorted = silos.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var best = 0;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (Load(sorted[i]) < Load(sorted[best]))
            {
                best = i;
            }
        }

        return best;

        int Load(string silo) => leadersPerSilo.TryGetValue(silo, out var c) ? c : 0;
    }

    private static int FollowerIndex(int first, int shift, int replicaIndex, int n)
    {
        // n == 1 only with replication factor 1, which has no followers.
        var step = 1 + ((shift + replicaIndex) % (n - 1));
        return (first + step) % n;
    }

    private static int Mod(int value, int n) => ((value % n) + n) % n;
}
