using System.Collections.Concurrent;
using System.Globalization;
using Actors.Catalog;
using Actors.Invocation;

namespace Actors.Runtime;

/// <summary>Builds grain references (generated proxies) bound to one call runtime (a silo's or a client's).</summary>
/// <remarks>Thread-safe. Proxies come from <see cref="GeneratedCodeRegistry"/>; no reflection on the call path.</remarks>
internal sealed class GrainFactory(IGrainCallRuntime runtime, GrainTypeResolver types) : IGrainFactory
{
    private readonly ConcurrentDictionary<Type, (GrainInterfaceDescriptor Descriptor, string GrainType)> byInterface = new();

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(primaryKey);
        return Create<TGrainInterface>(primaryKey);
    }

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey)
        where TGrainInterface : IGrainWithIntegerKey =>
        Create<TGrainInterface>(primaryKey.ToString(CultureInfo.InvariantCulture));

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey)
        where TGrainInterface : IGrainWithGuidKey =>
        Create<TGrainInterface>(primaryKey.ToString("D"));

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId)
        where TGrainInterface : IGrain =>
        (TGrainInterface)(object)Describe(typeof(TGrainInterface)).Descriptor.CreateReference(grainId, runtime);

    private TGrainInterface Create<TGrainInterface>(string key)
    {
        var (descriptor, grainType) = Describe(typeof(TGrainInterface));
        return (TGrainInterface)(object)descriptor.CreateReference(new GrainId(grainType, key), runtime);
    }

    private (GrainInterfaceDescriptor Descriptor, string GrainType) Describe(Type interfaceType)
    {
        if (byInterface.TryGetValue(interfaceType, out var known))
        {
            return known;
        }

        if (!GeneratedCodeRegistry.TryGetInterface(interfaceType, out var descriptor))
        {
            throw new InvalidOperationException(
                $"No generated proxy for grain interface {interfaceType}; the project declaring it must set UseActorsCodeGen=true.");
        }

        var resolved = (descriptor, types.GetGrainType(descriptor));
        byInterface[interfaceType] = resolved;
        return resolved;
    }
}
