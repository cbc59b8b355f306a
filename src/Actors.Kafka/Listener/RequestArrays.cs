using System.Buffers;

namespace Actors.Kafka.Listener;

/// <summary>
/// The arrays request frames are read into. Small ones (most requests) come from the shared pool; large ones from a
/// pool of its own that keeps few arrays, so a burst of large frames leaves at most a few of them held after it (the
/// shared pool keeps several per core and thread). How many are in use at once is bounded by the listener's
/// <see cref="RequestBudget"/>.
/// </summary>
internal static class RequestArrays
{
    private const int SmallMax = 1024 * 1024;

    private static readonly ArrayPool<byte> Large = ArrayPool<byte>.Create(maxArrayLength: 128 * 1024 * 1024, maxArraysPerBucket: 2);

    public static byte[] Rent(int size) => size <= SmallMax ? ArrayPool<byte>.Shared.Rent(size) : Large.Rent(size);

    public static void Return(byte[] array)
    {
        if (array.Length <= SmallMax)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
        else
        {
            Large.Return(array);
        }
    }
}
