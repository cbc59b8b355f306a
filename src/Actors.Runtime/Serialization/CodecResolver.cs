using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>
/// Finds the codec of a type on its first use: built-in codecs by type, and closed generic
/// collection/tuple codecs and enum codecs built once with MakeGenericType. Generated module
/// initializers register the closed types they use beforehand, so this is a fallback for types
/// first seen at run time.
/// </summary>
/// <remarks>Thread-safe; runs once per type (the result is kept in <see cref="Codec{T}"/>).</remarks>
internal static class CodecResolver
{
    private static readonly Dictionary<Type, object> BuiltIns = new()
    {
        [typeof(bool)] = BooleanCodec.Instance,
        [typeof(byte)] = ByteCodec.Instance,
        [typeof(sbyte)] = SByteCodec.Instance,
        [typeof(short)] = Int16Codec.Instance,
        [typeof(ushort)] = UInt16Codec.Instance,
        [typeof(int)] = Int32Codec.Instance,
        [typeof(uint)] = UInt32Codec.Instance,
        [typeof(long)] = Int64Codec.Instance,
        [typeof(ulong)] = UInt64Codec.Instance,
        [typeof(char)] = CharCodec.Instance,
        [typeof(float)] = SingleCodec.Instance,
        [typeof(double)] = DoubleCodec.Instance,
        [typeof(decimal)] = DecimalCodec.Instance,
        [typeof(string)] = StringCodec.Instance,
        [typeof(byte[])] = ByteArrayCodec.Instance,
        [typeof(ReadOnlyMemory<byte>)] = ReadOnlyMemoryOfByteCodec.Instance,
        [typeof(Memory<byte>)] = MemoryOfByteCodec.Instance,
        [typeof(Guid)] = GuidCodec.Instance,
        [typeof(DateTime)] = DateTimeCodec.Instance,
        [typeof(DateTimeOffset)] = DateTimeOffsetCodec.Instance,
        [typeof(TimeSpan)] = TimeSpanCodec.Instance,
        [typeof(GrainId)] = GrainIdCodec.Instance,
        [typeof(Membership.SiloAddress)] = SiloAddressCodec.Instance,
        [typeof(Exception)] = ExceptionCodec.Instance,
    };

    private static readonly Dictionary<Type, Type> BuiltInGenerics = new()
    {
        [typeof(Nullable<>)] = typeof(NullableCodec<>),
        [typeof(List<>)] = typeof(ListCodec<>),
        [typeof(IReadOnlyList<>)] = typeof(ReadOnlyListCodec<>),
        [typeof(IReadOnlyCollection<>)] = typeof(ReadOnlyCollectionCodec<>),
        [typeof(IList<>)] = typeof(IListCodec<>),
        [typeof(HashSet<>)] = typeof(HashSetCodec<>),
        [typeof(ImmutableArray<>)] = typeof(ImmutableArrayCodec<>),
        [typeof(ImmutableList<>)] = typeof(ImmutableListCodec<>),
        [typeof(Dictionary<,>)] = typeof(DictionaryCodec<,>),
        [typeof(IReadOnlyDictionary<,>)] = typeof(ReadOnlyDictionaryCodec<,>),
        [typeof(IDictionary<,>)] = typeof(IDictionaryCodec<,>),
        [typeof(ImmutableDictionary<,>)] = typeof(ImmutableDictionaryCodec<,>),
        [typeof(KeyValuePair<,>)] = typeof(KeyValuePairCodec<,>),
        [typeof(ValueTuple<,>)] = typeof(ValueTupleCodec<,>),
        [typeof(ValueTuple<,,>)] = typeof(ValueTupleCodec<,,>),
    };

    private static readonly ConcurrentDictionary<Module, bool> InitializedModules = new();

    /// <summary>Runs the module initializer of the assembly declaring <paramref name="type"/> (idempotent).</summary>
    public static void EnsureModuleInitialized(Type type)
    {
        var module = type.Module;
        if (module == typeof(object).Module || module == typeof(CodecResolver).Module)
        {
            return;
        }

        if (InitializedModules.TryAdd(module, true))
        {
            RuntimeHelpers.RunModuleConstructor(module.ModuleHandle);
        }
    }

    public static object? Create(Type type)
    {
        if (BuiltIns.TryGetValue(type, out var builtIn))
        {
            return builtIn;
        }

        Type? codecType = null;
        if (type.IsEnum)
        {
            codecType = typeof(EnumCodec<>).MakeGenericType(type);
        }
        else if (type.IsSZArray)
        {
            codecType = typeof(ArrayCodec<>).MakeGenericType(type.GetElementType()!);
        }
        else if (type.IsGenericType && BuiltInGenerics.TryGetValue(type.GetGenericTypeDefinition(), out var open))
        {
            codecType = open.MakeGenericType(type.GetGenericArguments());
        }
        else if (type.IsGenericType && GenericCodecs.TryGet(type.GetGenericTypeDefinition(), out var generated))
        {
            codecType = generated.MakeGenericType(type.GetGenericArguments());
        }
        else if (typeof(Exception).IsAssignableFrom(type))
        {
            codecType = typeof(ExceptionCodec<>).MakeGenericType(type);
        }
        else if (type.IsInterface && typeof(IGrain).IsAssignableFrom(type))
        {
            codecType = typeof(GrainReferenceCodec<>).MakeGenericType(type);
        }

        return codecType is null ? null : Activator.CreateInstance(codecType);
    }
}
