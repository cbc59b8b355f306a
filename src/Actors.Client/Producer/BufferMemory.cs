namespace Actors.Client;

/// <summary>
/// buffer.memory: the bytes of records waiting to be sent and acknowledged. A reservation that does not fit waits
/// (FIFO by wake-up, not strictly) until enough is released or max.block.ms passes, then fails.
/// </summary>
/// <remarks>Thread-safe under one lock; waiters are woken by replacing a completion source on every release.</remarks>
internal sealed class BufferMemory(long capacity)
{
    private readonly Lock gate = new();
    private long used;
    private TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Capacity => capacity;

    public long Used
    {
        get
        {
            lock (gate)
            {
                return used;
            }
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> if they fit now; false (nothing taken) otherwise.</summary>
    public bool TryReserve(long bytes)
    {
        lock (gate)
        {
            if (used + bytes <= capacity)
            {
                used += bytes;
                return true;
            }
        }

        return false;
    }

    /// <summary>Reserves <paramref name="bytes"/>, waiting up to <paramref name="maxBlock"/>.</summary>
    /// <exception cref="ActorsException">Still full after max.block.ms (Local_QueueFull).</exception>
    public async ValueTask ReserveAsync(long bytes, TimeSpan maxBlock, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + maxBlock;
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (used + bytes <= capacity)
                {
                    used += bytes;
                    return;
                }

                wait = released.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new ActorsException(Confluent.Kafka.ErrorCode.Local_QueueFull,
                    $"The producer's buffer.memory ({capacity} bytes) stayed full for max.block.ms ({(long)maxBlock.TotalMilliseconds} ms): " +
                    $"{used} bytes of records wait for the cluster to acknowledge them. Slow down, call Flush, or raise buffer.memory or max.block.ms.",
                    retriable: true);
            }

            try
            {
                await wait.WaitAsync(left, cancellation).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked again at the top of the loop.
            }
        }
    }

    public void Release(long bytes)
    {
        TaskCompletionSource wake;
        lock (gate)
        {
            used -= bytes;
            wake = released;
            released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        wake.TrySetResult();
    }
}
