using System.Buffers;
using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Runtime.Tests.CodeGen;

/// <summary>
/// A call runtime for unit tests of generated code: every call is serialized (arguments out, result
/// back) exactly as the transport does, and invoked on a local target object looked up by grain id.
/// </summary>
internal sealed class LoopbackCallRuntime : IGrainCallRuntime, IGrainFactory
{
    private readonly Dictionary<GrainId, object> targets = [];

    public List<GrainInvokable> OneWayCalls { get; } = [];

    public int Calls { get; private set; }

    public IGrainFactory GrainFactory => this;

    public void Add(GrainId id, object target) => targets[id] = target;

    public async ValueTask InvokeAsync(GrainReference target, GrainInvokable call)
    {
        Calls++;
        var remote = Transfer(call);
        await remote.InvokeAsync(targets[target.GrainId]);
        var result = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(result);
        remote.WriteResult(ref writer);
        using (SerializationContext.Enter(this))
        {
            var reader = new ActorReader(result.WrittenSpan);
            call.ReadResult(ref reader);
        }
    }

    public void InvokeOneWay(GrainReference target, GrainInvokable call)
    {
        Calls++;
        var remote = Transfer(call);
        OneWayCalls.Add(remote);
        remote.InvokeAsync(targets[target.GrainId]).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Serializes the arguments and reads them into a fresh invokable found through the registry.</summary>
    private GrainInvokable Transfer(GrainInvokable call)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        call.WriteArguments(ref writer);
        Assert.True(GeneratedCodeRegistry.TryGetInterface(call.InterfaceId, out var descriptor), $"interface 0x{call.InterfaceId:x8} is registered");
        var remote = descriptor.CreateInvokable(call.MethodId) ?? throw new InvalidOperationException($"no method {call.MethodId}");
        using (SerializationContext.Enter(this))
        {
            var reader = new ActorReader(buffer.WrittenSpan);
            remote.ReadArguments(ref reader);
            Assert.True(reader.IsEnd);
        }

        remote.CancellationToken = call.CancellationToken;
        return remote;
    }

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey => throw new InvalidOperationException("use GetGrain(GrainId)");

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey)
        where TGrainInterface : IGrainWithIntegerKey => throw new InvalidOperationException("use GetGrain(GrainId)");

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey)
        where TGrainInterface : IGrainWithGuidKey => throw new InvalidOperationException("use GetGrain(GrainId)");

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId)
        where TGrainInterface : IGrain
    {
        Assert.True(GeneratedCodeRegistry.TryGetInterface(typeof(TGrainInterface), out var descriptor));
        return (TGrainInterface)(object)descriptor.CreateReference(grainId, this);
    }
}
