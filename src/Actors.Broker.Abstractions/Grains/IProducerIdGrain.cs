namespace Actors.Broker;

/// <summary>
/// Allocates producer ids for idempotent producers (key <see cref="BrokerGrainKeys.ProducerIds"/>). Ids are
/// reserved in persisted blocks, so an id is never handed out twice, even across failovers.
/// </summary>
[Alias("broker.IProducerIdGrain")]
public interface IProducerIdGrain : IGrainWithStringKey
{
    /// <summary>Kafka's InitProducerId for a producer without a transactional id: always a fresh id with epoch 0,
    /// also when the request names the id and epoch the producer held (a producer resetting its sequences after
    /// an error gets a new identity, so nothing it sent before can be mistaken for what it sends next).
    /// INVALID_REQUEST when only one of the two is given.</summary>
    Task<InitProducerIdResponse> InitProducerIdAsync(InitProducerIdRequest request);
}

[GenerateSerializer]
[Immutable]
[Alias("broker.InitProducerIdRequest")]
public sealed class InitProducerIdRequest
{
    /// <summary>-1 for a new producer.</summary>
    [Id(0)] public long ProducerId { get; set; } = -1;

    /// <summary>-1 for a new producer.</summary>
    [Id(1)] public short ProducerEpoch { get; set; } = -1;
}

[GenerateSerializer]
[Immutable]
[Alias("broker.InitProducerIdResponse")]
public sealed class InitProducerIdResponse
{
    [Id(0)] public ErrorCode Error { get; set; }

    [Id(1)] public long ProducerId { get; set; } = -1;

    [Id(2)] public short ProducerEpoch { get; set; } = -1;

    [Id(3)] public string? ErrorMessage { get; set; }
}
