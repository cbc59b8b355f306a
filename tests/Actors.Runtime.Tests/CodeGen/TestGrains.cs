using Actors.Runtime;

namespace Actors.Runtime.Tests.CodeGen;

public interface ICalculatorBase : IGrainWithStringKey
{
    Task<int> Add(int a, int b);
}

public interface ICalculatorGrain : ICalculatorBase
{
    Task<string> Echo(string text);

    ValueTask<byte[]> Reverse(byte[] data);

    Task<ReadOnlyMemory<byte>> Payload(ReadOnlyMemory<byte> data);

    ValueTask Reset();

    Task Store(long value, CancellationToken cancellationToken);

    [OneWay]
    Task Notify(string message);

    [ReadOnly]
    Task<long> Current();

    [AlwaysInterleave]
    ValueTask<int> Delayed(int value, CancellationToken cancellationToken);

    Task<List<string>> Names(IReadOnlyList<string> names);

    Task<ICalculatorGrain> Self();
}

[Alias("calc-alias")]
public interface IAliasedGrain : IGrainWithIntegerKey
{
    Task<Guid> Id(Guid value);
}

/// <summary>A plain class implementing the interface, to call invokables without a runtime.</summary>
public sealed class PlainCalculator : ICalculatorGrain
{
    public long Value { get; private set; }

    public List<string> Notes { get; } = [];

    public CancellationToken LastToken { get; private set; }

    public Task<int> Add(int a, int b) => Task.FromResult(a + b);

    public Task<string> Echo(string text) => Task.FromResult("echo:" + text);

    public ValueTask<byte[]> Reverse(byte[] data) => ValueTask.FromResult(data.Reverse().ToArray());

    public Task<ReadOnlyMemory<byte>> Payload(ReadOnlyMemory<byte> data) => Task.FromResult(data);

    public ValueTask Reset()
    {
        Value = 0;
        return ValueTask.CompletedTask;
    }

    public Task Store(long value, CancellationToken cancellationToken)
    {
        LastToken = cancellationToken;
        Value = value;
        return Task.CompletedTask;
    }

    public Task Notify(string message)
    {
        Notes.Add(message);
        return Task.CompletedTask;
    }

    public Task<long> Current() => Task.FromResult(Value);

    public async ValueTask<int> Delayed(int value, CancellationToken cancellationToken)
    {
        LastToken = cancellationToken;
        await Task.Yield();
        return value * 2;
    }

    public Task<List<string>> Names(IReadOnlyList<string> names) => Task.FromResult(names.Select(n => n.ToUpperInvariant()).ToList());

    public Task<ICalculatorGrain> Self() => throw new NotSupportedException("A plain object has no grain reference.");
}

public interface IGreeter
{
    string Greet(string name);
}

public sealed class Greeter : IGreeter
{
    public string Greet(string name) => "hello " + name;
}

/// <summary>A grain class whose generated factory resolves DI services, the context and the factory.</summary>
public sealed class CalculatorGrain(IGrainContext context, IGrainFactory factory, IGreeter greeter, TimeProvider? clock = null)
    : Grain, ICalculatorGrain
{
    public IGrainContext Context { get; } = context;

    public IGrainFactory Factory { get; } = factory;

    public IGreeter Greeter { get; } = greeter;

    public TimeProvider? Clock { get; } = clock;

    public Task<int> Add(int a, int b) => Task.FromResult(a + b);

    public Task<string> Echo(string text) => Task.FromResult(Greeter.Greet(text));

    public ValueTask<byte[]> Reverse(byte[] data) => ValueTask.FromResult(data.Reverse().ToArray());

    public Task<ReadOnlyMemory<byte>> Payload(ReadOnlyMemory<byte> data) => Task.FromResult(data);

    public ValueTask Reset() => ValueTask.CompletedTask;

    public Task Store(long value, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task Notify(string message) => Task.CompletedTask;

    public Task<long> Current() => Task.FromResult(0L);

    public ValueTask<int> Delayed(int value, CancellationToken cancellationToken) => ValueTask.FromResult(value);

    public Task<List<string>> Names(IReadOnlyList<string> names) => Task.FromResult(names.ToList());

    public Task<ICalculatorGrain> Self() => Task.FromResult(this.AsReference());
}

[GrainType("custom-name")]
public sealed class NamedGrain : Grain, IAliasedGrain
{
    public Task<Guid> Id(Guid value) => Task.FromResult(value);
}

internal static class GrainTestExtensions
{
    public static ICalculatorGrain AsReference(this CalculatorGrain grain) =>
        grain.Factory.GetGrain<ICalculatorGrain>(grain.GrainId);
}

public interface IKeyedGrain : IGrainWithStringKey
{
    Task<string> Greet(string name);
}

public sealed class ColoredGreeter(string color) : IGreeter
{
    public string Greet(string name) => color + " " + name;
}

/// <summary>A grain whose factory resolves a keyed service and tolerates a missing optional one.</summary>
public sealed class KeyedGrain(
    [Microsoft.Extensions.DependencyInjection.FromKeyedServices("blue")] IGreeter greeter,
    IKeyedGrain? unused,
    int retries = 3) : Grain, IKeyedGrain
{
    public IKeyedGrain? Unused { get; } = unused;

    public int Retries { get; } = retries;

    public Task<string> Greet(string name) => Task.FromResult(greeter.Greet(name));
}
