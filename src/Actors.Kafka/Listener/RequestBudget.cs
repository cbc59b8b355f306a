namespace Actors.Kafka.Listener;

/// <summary>
/// The bytes of requests the listener holds at once, across every connection (Kafka's <c>queued.max.request.bytes</c>).
/// A connection takes a frame's size before it reads the frame's body and gives it back once the request is handled;
/// while the budget is spent, connections wait (first come, first served) and their sockets are not read.
/// </summary>
/// <remarks>Thread-safe: one lock guards the count and the queue of waiters; waiters are woken outside it.</remarks>
public sealed class RequestBudget(long capacity)
{
    private readonly Lock gate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> waiting = new();
    private readonly long total = capacity;
    private long available = capacity;

    /// <summary>The bytes not taken now.</summary>
    public long Available
    {
        get
        {
            lock (gate)
            {
                return available;
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> (at most the capacity), waiting while they are not free.</summary>
    public Task AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, total);
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (gate)
        {
            if (waiting.Count == 0 && available >= bytes)
            {
                available -= bytes;
                return Task.CompletedTask;
            }

            node = waiting.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        var ready = node.Value.Item2;
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                bool removed;
                lock (gate)
                {
                    removed = node.List is not null;
                    if (removed)
                    {
                        waiting.Remove(node);
                    }
                }

                if (removed)
                {
                    ready.TrySetCanceled(cancellationToken);
                    // A waiter that left may have been the one blocking those behind it.
                    Release(0);
                }
            });
            _ = ready.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }

        return ready.Task;
    }

    /// <summary>Gives back <paramref name="bytes"/> and wakes the waiters they let through.</summary>
    public void Release(long bytes)
    {
        List<TaskCompletionSource>? woken = null;
        lock (gate)
        {
            available += bytes;
            while (waiting.First is { } first && first.Value.Bytes <= available)
            {
                available -= first.Value.Bytes;
                waiting.RemoveFirst();
                (woken ??= []).Add(first.Value.Ready);
            }
        }

        foreach (var ready in woken ?? [])
        {
            ready.TrySetResult();
        }
    }
}
