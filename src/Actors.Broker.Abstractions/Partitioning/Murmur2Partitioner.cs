using System.Buffers.Binary;

namespace Actors.Broker.Partitioning;

/// <summary>
/// Kafka's default key partitioner: partition = (murmur2(key) &amp; 0x7fffffff) mod partitionCount, with the
/// same murmur2 variant (seed 0x9747b28c) as Kafka's Java client and librdkafka's "murmur2_random", so a key
/// lands on the same partition whichever of those clients produced it.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class Murmur2Partitioner
{
    private const uint Seed = 0x9747b28c;
    private const uint M = 0x5bd1e995;
    private const int R = 24;

    /// <summary>The 32-bit murmur2 hash of <paramref name="data"/>, as a signed int like Kafka's.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        var length = data.Length;
        var h = Seed ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }

        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                h ^= (uint)data[tail + 1] << 8;
                h ^= data[tail];
                h *= M;
                break;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                h ^= data[tail];
                h *= M;
                break;
            case 1:
                h ^= data[tail];
                h *= M;
                break;
        }

        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>Kafka's <c>Utils.toPositive</c>: clears the sign bit (not Math.Abs, so int.MinValue maps to 0).</summary>
    public static int ToPositive(int value) => value & 0x7fffffff;

    /// <summary>The partition of a non-null key among <paramref name="partitionCount"/> partitions.</summary>
    public static int Partition(ReadOnlySpan<byte> keyBytes, int partitionCount)
    {
        if (partitionCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionCount), partitionCount, "A topic has at least one partition.");
        }

        return ToPositive(Murmur2(keyBytes)) % partitionCount;
    }
}
