using Actors.Broker;

namespace Actors.Client;

/// <summary>The idempotent producer's id and epoch, from the broker's InitProducerId. A failed batch leaves a gap in its
/// partition's sequence, so the producer then takes a new id, and every partition starts its sequence again at 0
/// (the generation number tells the senders).</summary>
/// <remarks>Thread-safe: one lock guards the identity; the first caller after a reset asks the broker.</remarks>
internal sealed class ProducerIdentity(ClusterMetadata metadata) : IDisposable
{
    public void Dispose() => gate.Dispose();

    private readonly SemaphoreSlim gate = new(1, 1);
    private (long Id, short Epoch, int Generation)? current;
    private int generation;

    public async ValueTask<(long Id, short Epoch, int Generation)> GetAsync(CancellationToken cancellation)
    {
        if (current is { } known)
        {
            return known;
        }

        await gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (current is { } again)
            {
                return again;
            }

            InitProducerIdResponse answer;
            try
            {
                answer = await metadata.Grains.GetGrain<IProducerIdGrain>(BrokerGrainKeys.ProducerIds).InitProducerIdAsync(new InitProducerIdRequest());
            }
            catch (Exception e)
            {
                throw ActorsException.From(e, "InitProducerId for the idempotent producer");
            }

            if (answer.Error != BrokerErrorCode.None)
            {
                throw ActorsException.From(answer.Error, answer.ErrorMessage, "InitProducerId for the idempotent producer");
            }

            current = (answer.ProducerId, answer.ProducerEpoch, ++generation);
            return current.Value;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Forgets the id after a batch failed with sequence numbers assigned.</summary>
    public void Reset(int failedGeneration)
    {
        if (current is { } known && known.Generation == failedGeneration)
        {
            current = null;
        }
    }
}
