using System.Collections.Concurrent;

namespace Actors.Invocation;

/// <summary>What the generator knows of one grain interface.</summary>
/// <param name="InterfaceType">The interface.</param>
/// <param name="InterfaceId">Stable id (FNV-1a 32 of the alias or full name).</param>
/// <param name="CreateReference">Builds a proxy implementing the interface.</param>
/// <param name="CreateInvokable">Builds an empty invokable for a method id, or null if unknown.</param>
public sealed record GrainInterfaceDescriptor(
    Type InterfaceType,
    uint InterfaceId,
    Func<GrainId, IGrainCallRuntime, GrainReference> CreateReference,
    Func<ushort, GrainInvokable?> CreateInvokable);

/// <summary>What the generator knows of one grain class.</summary>
/// <param name="GrainClass">The class.</param>
/// <param name="GrainType">Its grain type name (<see cref="GrainTypeAttribute"/> or derived from the class name).</param>
/// <param name="Interfaces">The grain interfaces it implements.</param>
/// <param name="Create">Constructs the grain: DI services from the provider, persistent state from the context.
/// The runtime calls it inside <see cref="Runtime.RuntimeContext.EnterActivation"/>.</param>
public sealed record GrainClassDescriptor(
    Type GrainClass,
    string GrainType,
    IReadOnlyList<Type> Interfaces,
    Func<IGrainContext, IServiceProvider, Grain> Create);

/// <summary>
/// Where generated code registers itself (from a module initializer in each assembly that uses the
/// generator). The runtime reads it at start and when it meets an unknown interface id; the call
/// path itself uses only the delegates stored here, never reflection.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public static class GeneratedCodeRegistry
{
    private static readonly ConcurrentDictionary<Type, GrainInterfaceDescriptor> InterfacesByType = new();
    private static readonly ConcurrentDictionary<uint, GrainInterfaceDescriptor> InterfacesById = new();
    private static readonly ConcurrentDictionary<Type, GrainClassDescriptor> ClassesByType = new();

    public static void RegisterInterface(GrainInterfaceDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (InterfacesById.TryGetValue(descriptor.InterfaceId, out var existing)
            && existing.InterfaceType != descriptor.InterfaceType)
        {
            throw new InvalidOperationException(
                $"Grain interfaces {existing.InterfaceType} and {descriptor.InterfaceType} hash to the same id " +
                $"0x{descriptor.InterfaceId:x8}; give one of them an [Alias(\"...\")].");
        }

        InterfacesByType[descriptor.InterfaceType] = descriptor;
        InterfacesById[descriptor.InterfaceId] = descriptor;
    }

    public static void RegisterGrainClass(GrainClassDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ClassesByType[descriptor.GrainClass] = descriptor;
    }

    // A miss first runs the module initializers of assemblies not yet initialized (generated code
    // registers itself from them, and the CLR runs one only when its assembly is first used).
    public static bool TryGetInterface(Type interfaceType, out GrainInterfaceDescriptor descriptor)
    {
        if (InterfacesByType.TryGetValue(interfaceType, out descriptor!))
        {
            return true;
        }

        Serialization.GeneratedCodeLoader.EnsureLoaded(interfaceType);
        return InterfacesByType.TryGetValue(interfaceType, out descriptor!);
    }

    public static bool TryGetInterface(uint interfaceId, out GrainInterfaceDescriptor descriptor)
    {
        if (InterfacesById.TryGetValue(interfaceId, out descriptor!))
        {
            return true;
        }

        Serialization.GeneratedCodeLoader.EnsureLoaded();
        return InterfacesById.TryGetValue(interfaceId, out descriptor!);
    }

    public static IReadOnlyCollection<GrainInterfaceDescriptor> Interfaces
    {
        get
        {
            Serialization.GeneratedCodeLoader.EnsureLoaded();
            return InterfacesByType.Values.ToArray();
        }
    }

    public static IReadOnlyCollection<GrainClassDescriptor> GrainClasses
    {
        get
        {
            Serialization.GeneratedCodeLoader.EnsureLoaded();
            return ClassesByType.Values.ToArray();
        }
    }
}
