using System.Runtime.CompilerServices;
using Actors.Invocation;

namespace Actors.Serialization;

/// <summary>
/// Codec of a grain-interface-typed value: writes the grain id (field 1) and the interface id of the
/// reference (field 2, fixed 32 bits); reads a proxy bound to <see cref="SerializationContext.Runtime"/>.
/// A grain instance passed where a reference is expected is written as a reference to itself.
/// </summary>
public sealed class GrainReferenceCodec<TInterface> : IFieldCodec<TInterface>
    where TInterface : class
{
    public static readonly GrainReferenceCodec<TInterface> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, TInterface value)
    {
        GrainId grainId;
        uint interfaceId;
        switch (value)
        {
            case GrainReference reference:
                grainId = reference.GrainId;
                interfaceId = reference.InterfaceId;
                break;
            case Grain grain:
                grainId = grain.GrainId;
                interfaceId = Descriptor().InterfaceId;
                break;
            default:
                throw new SerializationException(
                    $"Cannot serialize a {value.GetType()} as {typeof(TInterface)}: only grain references and grains can be sent.");
        }

        GrainIdCodec.WriteField(ref writer, 1, grainId);
        writer.WriteFieldHeader(2, WireType.Fixed32);
        writer.WriteFixed32(interfaceId);
        if (DeepCopyContext.References is { } references)
        {
            // A deep copy hands the (immutable) reference itself across, so no runtime is needed to read it.
            Int32Codec.WriteField(ref writer, 3, references.Count);
            references.Add(value);
        }

        writer.WriteEndObject();
    }

    public TInterface Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, typeof(TInterface).Name);
        GrainId grainId = default;
        uint interfaceId = 0;
        var haveInterface = false;
        var copied = -1;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            switch (id)
            {
                case 1:
                    grainId = GrainIdCodec.ReadValue(ref reader, wt);
                    break;
                case 2 when wt == WireType.Fixed32:
                    interfaceId = reader.ReadFixed32();
                    haveInterface = true;
                    break;
                case 3 when wt == WireType.VarInt:
                    copied = Int32Codec.Read(ref reader, wt);
                    break;
                default:
                    reader.SkipField(wt);
                    break;
            }
        }

        if (copied >= 0 && DeepCopyContext.References is { } references && copied < references.Count
            && references[copied] is TInterface same)
        {
            return same;
        }

        var runtime = SerializationContext.Runtime ?? throw new SerializationException(
            $"Read a reference to grain {grainId} ({typeof(TInterface).Name}) outside a runtime: " +
            "wrap the read in SerializationContext.Enter(runtime).");
        var descriptor = haveInterface && TryGetWireInterface(interfaceId, out var wire) ? wire : Descriptor();
        return descriptor.CreateReference(grainId, runtime) as TInterface
            ?? throw new SerializationException($"The proxy for {descriptor.InterfaceType} does not implement {typeof(TInterface)}.");
    }

    private static bool TryGetWireInterface(uint interfaceId, out GrainInterfaceDescriptor descriptor)
    {
        if (!GeneratedCodeRegistry.TryGetInterface(interfaceId, out descriptor))
        {
            GeneratedCodeLoader.EnsureLoaded();
            if (!GeneratedCodeRegistry.TryGetInterface(interfaceId, out descriptor))
            {
                return false;
            }
        }

        return typeof(TInterface).IsAssignableFrom(descriptor.InterfaceType);
    }

    private static GrainInterfaceDescriptor Descriptor()
    {
        if (GeneratedCodeRegistry.TryGetInterface(typeof(TInterface), out var descriptor))
        {
            return descriptor;
        }

        RuntimeHelpers.RunModuleConstructor(typeof(TInterface).Module.ModuleHandle);
        return GeneratedCodeRegistry.TryGetInterface(typeof(TInterface), out descriptor)
            ? descriptor
            : throw new SerializationException(
                $"{typeof(TInterface)} has no generated proxy; its project must set UseActorsCodeGen=true.");
    }
}

/// <summary>Set while <see cref="ActorSerializer.DeepCopy{T}"/> runs on this thread: grain references
/// are carried by identity instead of being rebuilt through a runtime.</summary>
internal static class DeepCopyContext
{
    [ThreadStatic]
    public static List<object>? References;
}
