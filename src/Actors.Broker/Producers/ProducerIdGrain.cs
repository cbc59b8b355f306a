using Actors.Broker.Configuration;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Producers;

/// <summary>Persisted state of the producer-id allocator: the first id of the next unreserved block.</summary>
[GenerateSerializer]
[Alias("broker.ProducerIdState")]
public sealed class ProducerIdState
{
    [Id(0)] public long NextBlockStart { get; set; }
}

/// <summary>
/// Allocates producer ids (see <see cref="IProducerIdGrain"/>) from blocks reserved in storage: the block is
/// written (conditionally) before any id of it is handed out, so a new activation after a failover starts past
/// every id ever given.
/// </summary>
[GrainType("broker-producer-ids")]
public sealed class ProducerIdGrain(
    [PersistentState("producer-ids")] IPersistentState<ProducerIdState> state,
    IOptions<BrokerOptions> options) : Grain, IProducerIdGrain
{
    private long next = -1;
    private long blockEnd = -1;

    public async Task<InitProducerIdResponse> InitProducerIdAsync(InitProducerIdRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.ProducerId < 0) != (request.ProducerEpoch < 0))
        {
            return new InitProducerIdResponse
            {
                Error = ErrorCode.InvalidRequest,
                ErrorMessage = $"InitProducerId names producer id {request.ProducerId} with epoch {request.ProducerEpoch}: give both, or -1 for both.",
            };
        }

        // Without transactional ids there is no epoch to bump safely (two incarnations could bump the same epoch
        // and neither would fence the other), so, as Kafka does, every caller gets a fresh id.

        if (next < 0 || next >= blockEnd)
        {
            var start = state.State.NextBlockStart;
            state.State.NextBlockStart = start + options.Value.ProducerIdBlockSize;
            await state.WriteStateAsync();
            next = start;
            blockEnd = start + options.Value.ProducerIdBlockSize;
        }

        return new InitProducerIdResponse { ProducerId = next++, ProducerEpoch = 0 };
    }
}
