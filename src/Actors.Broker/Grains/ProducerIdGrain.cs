using Actors.Broker.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Broker.Grains;

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
        if (request.ProducerId >= 0 && request.ProducerEpoch >= 0 && request.ProducerEpoch < short.MaxValue - 1)
        {
            // KIP-360: the same producer bumps its epoch to fence its own older incarnation.
            return new InitProducerIdResponse { ProducerId = request.ProducerId, ProducerEpoch = (short)(request.ProducerEpoch + 1) };
        }

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
