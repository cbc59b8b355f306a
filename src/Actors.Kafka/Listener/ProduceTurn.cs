namespace Actors.Kafka.Listener;

/// <summary>
/// The place of one Produce request among the Produce requests of its connection: its partition calls are issued only
/// after those of the request read before it. A client pipelines up to five produce requests per connection, and an
/// idempotent producer's batches of one partition must reach the partition in the order it sent them (its sequence
/// numbers): a later batch appended first makes the earlier one OUT_OF_ORDER_SEQUENCE_NUMBER, fatal to the producer.
/// Kafka keeps that order by serving a connection's requests one at a time; the listener serves them concurrently, so
/// only the issuing of the partition calls is ordered (the waits for acks=all still overlap).
/// </summary>
/// <remarks>Taken by the connection's read loop in the order the requests are read; <see cref="MarkIssued"/> is called
/// by the produce handler once its partition calls are started, and by the connection when the request's answer is done
/// (whichever is first), so a request that never reaches the handler never holds up the next.</remarks>
public sealed class ProduceTurn
{
    private readonly TaskCompletionSource issued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The turn after <paramref name="previous"/> (null for a connection's first Produce request).</summary>
    public ProduceTurn(ProduceTurn? previous)
    {
        Previous = previous?.Issued ?? Task.CompletedTask;
    }

    /// <summary>Completes when the Produce request read before this one on the connection has issued its partition calls.</summary>
    public Task Previous { get; }

    /// <summary>Completes when this request has issued its partition calls (or is done).</summary>
    public Task Issued => issued.Task;

    /// <summary>Lets the next Produce request of the connection issue its partition calls; idempotent.</summary>
    public void MarkIssued() => issued.TrySetResult();
}
