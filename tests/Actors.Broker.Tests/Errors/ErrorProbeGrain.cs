using Actors.Log;

namespace Actors.Broker.Tests.Errors;

/// <summary>A grain that fails on request, to see what a caller receives across a grain call.</summary>
[Alias("actors.tests.IErrorProbeGrain")]
public interface IErrorProbeGrain : IGrainWithStringKey
{
    /// <summary>Throws a <see cref="BrokerException"/> with <paramref name="code"/> and <paramref name="message"/>.</summary>
    [Alias("Throw")]
    Task ThrowAsync(ErrorCode code, string message);

    /// <summary>Throws a KAFKA_STORAGE_ERROR whose inner exception is the log's own error, as a failed disk write does.</summary>
    [Alias("ThrowLogError")]
    Task ThrowLogErrorAsync(string directory);

    /// <summary>Answers only after <paramref name="milliseconds"/>.</summary>
    [Alias("Hang")]
    Task HangAsync(int milliseconds);
}

[Reentrant]
public sealed class ErrorProbeGrain : Grain, IErrorProbeGrain
{
    public Task ThrowAsync(ErrorCode code, string message) => throw new BrokerException(code, message);

    public Task ThrowLogErrorAsync(string directory) =>
        throw new BrokerException(ErrorCode.KafkaStorageError, "the append failed", new LogWriteFailedException(directory, new IOException("No space left on device")));

    public Task HangAsync(int milliseconds) => Task.Delay(milliseconds);
}
