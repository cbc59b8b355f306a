using System.Collections.Concurrent;
using System.Reflection;
using Actors.Invocation;
using Actors.Placement;

namespace Actors.Catalog;

/// <summary>
/// Maps grain interfaces to grain types and grain types to grain classes, from what the generated code
/// registered in <see cref="GeneratedCodeRegistry"/> (refreshed when a lookup misses, since assemblies
/// register as they load) plus, on clients, the manifest a gateway sent in its handshake.
/// </summary>
/// <remarks>Thread-safe. Attributes of grain classes are read once per class and cached.</remarks>
internal sealed class GrainTypeResolver
{
    private readonly object gate = new();
    private readonly ConcurrentDictionary<uint, string> remoteManifest = new();
    private volatile Snapshot snapshot = Snapshot.Build();

    /// <summary>Grain class facts used by the catalog and placement.</summary>
    public sealed record GrainClassInfo(GrainClassDescriptor Descriptor, bool IsReentrant, PlacementAttribute? Placement);

    public bool TryGetClass(string grainType, out GrainClassInfo info)
    {
        if (snapshot.ClassesByType.TryGetValue(grainType, out info!))
        {
            return true;
        }

        Refresh();
        return snapshot.ClassesByType.TryGetValue(grainType, out info!);
    }

    /// <summary>The grain type for references of the interface <paramref name="interfaceId"/>.</summary>
    /// <exception cref="InvalidOperationException">No class (or several) implements it.</exception>
    public string GetGrainType(GrainInterfaceDescriptor descriptor)
    {
        if (TryGetGrainType(descriptor.InterfaceId, out var grainType))
        {
            return grainType;
        }

        Refresh();
        if (TryGetGrainType(descriptor.InterfaceId, out grainType))
        {
            return grainType;
        }

        if (snapshot.Ambiguous.TryGetValue(descriptor.InterfaceId, out var classes))
        {
            throw new InvalidOperationException(
                $"Grain interface {descriptor.InterfaceType} is implemented by several grain classes ({classes}); " +
                "use GetGrain<T>(GrainId) with an explicit grain type.");
        }

        throw new InvalidOperationException(
            $"No grain class implements {descriptor.InterfaceType} here, and no gateway has named one. " +
            "Reference the assembly with the grain class from the silo (its project must set UseActorsCodeGen=true).");
    }

    /// <summary>Interface id → grain type pairs this process can host (sent to clients by gateways).</summary>
    public IReadOnlyList<KeyValuePair<uint, string>> GetManifest()
    {
        Refresh();
        return snapshot.TypeByInterface.ToArray();
    }

    /// <summary>Client side: what a gateway said it hosts.</summary>
    public void AddManifest(IEnumerable<KeyValuePair<uint, string>> manifest)
    {
        foreach (var (interfaceId, grainType) in manifest)
        {
            remoteManifest[interfaceId] = grainType;
        }
    }

    private bool TryGetGrainType(uint interfaceId, out string grainType) =>
        snapshot.TypeByInterface.TryGetValue(interfaceId, out grainType!) || remoteManifest.TryGetValue(interfaceId, out grainType!);

    private void Refresh()
    {
        lock (gate)
        {
            if (snapshot.ClassCount != GeneratedCodeRegistry.GrainClasses.Count || snapshot.InterfaceCount != GeneratedCodeRegistry.Interfaces.Count)
            {
                snapshot = Snapshot.Build();
            }
        }
    }

    private sealed class Snapshot
    {
        public Dictionary<string, GrainClassInfo> ClassesByType { get; } = new(StringComparer.Ordinal);

        public Dictionary<uint, string> TypeByInterface { get; } = new();

        public Dictionary<uint, string> Ambiguous { get; } = new();

        public int ClassCount { get; private init; }

        public int InterfaceCount { get; private init; }

        public static Snapshot Build()
        {
            var classes = GeneratedCodeRegistry.GrainClasses;
            var interfaces = GeneratedCodeRegistry.Interfaces;
            var result = new Snapshot { ClassCount = classes.Count, InterfaceCount = interfaces.Count };
            var implementers = new Dictionary<uint, List<string>>();
            foreach (var descriptor in classes)
            {
                var reentrant = descriptor.GrainClass.GetCustomAttribute<ReentrantAttribute>(inherit: true) is not null;
                var placement = descriptor.GrainClass.GetCustomAttribute<PlacementAttribute>(inherit: true);
                result.ClassesByType[descriptor.GrainType] = new GrainClassInfo(descriptor, reentrant, placement);
                foreach (var interfaceType in descriptor.Interfaces)
                {
                    if (GeneratedCodeRegistry.TryGetInterface(interfaceType, out var interfaceDescriptor))
                    {
                        if (!implementers.TryGetValue(interfaceDescriptor.InterfaceId, out var list))
                        {
                            implementers[interfaceDescriptor.InterfaceId] = list = new List<string>();
                        }

                        if (!list.Contains(descriptor.GrainType))
                        {
                            list.Add(descriptor.GrainType);
                        }
                    }
                }
            }

            foreach (var (interfaceId, grainTypes) in implementers)
            {
                if (grainTypes.Count == 1)
                {
                    result.TypeByInterface[interfaceId] = grainTypes[0];
                }
                else
                {
                    result.Ambiguous[interfaceId] = string.Join(", ", grainTypes);
                }
            }

            return result;
        }
    }
}
