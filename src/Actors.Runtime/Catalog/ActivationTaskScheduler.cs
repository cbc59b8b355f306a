namespace Actors.Catalog;

/// <summary>
/// Runs one activation's tasks one at a time, in order, on thread-pool threads. Grain code awaits
/// capture this scheduler (grain code never uses ConfigureAwait(false)), so a grain's continuations
/// never run in parallel with each other, even when calls interleave (reentrancy).
/// </summary>
/// <remarks>Thread-safe. Invariant: at most one thread executes this scheduler's tasks at a time.</remarks>
internal sealed class ActivationTaskScheduler : TaskScheduler, IThreadPoolWorkItem
{
    private const int TasksPerTurnMax = 64;

    [ThreadStatic]
    private static ActivationTaskScheduler? running;

    private readonly Queue<Task> queue = new();
    private readonly object gate = new();
    private bool scheduled;

    public override int MaximumConcurrencyLevel => 1;

    public void Execute()
    {
        running = this;
        try
        {
            for (var i = 0; i < TasksPerTurnMax; i++)
            {
                Task? task;
                lock (gate)
                {
                    if (!queue.TryDequeue(out task))
                    {
                        scheduled = false;
                        return;
                    }
                }

                TryExecuteTask(task);
            }
        }
        finally
        {
            running = null;
        }

        // Yield the thread after a batch so other activations make progress; the queue is still ours.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    protected override void QueueTask(Task task)
    {
        lock (gate)
        {
            queue.Enqueue(task);
            if (scheduled)
            {
                return;
            }

            scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        ReferenceEquals(running, this) && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (gate)
        {
            return queue.ToArray();
        }
    }
}
