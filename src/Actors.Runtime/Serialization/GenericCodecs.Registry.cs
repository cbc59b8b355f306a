using System.Collections.Concurrent;

namespace Actors.Serialization;

/// <summary>
/// Codecs of generic [GenerateSerializer] types, registered as open definitions by generated module
/// initializers (<c>Box&lt;T&gt;</c> → <c>Box_T1_Codec&lt;T&gt;</c>); a closed type's codec is built once,
/// on its first use, by <see cref="Codec{T}"/>.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public static class GenericCodecs
{
    private static readonly ConcurrentDictionary<Type, Type> ByDefinition = new();

    /// <summary>Registers <paramref name="codecDefinition"/> (an open generic IFieldCodec with the same
    /// type parameters) as the codec of every closed <paramref name="typeDefinition"/>.</summary>
    public static void Register(Type typeDefinition, Type codecDefinition)
    {
        ArgumentNullException.ThrowIfNull(typeDefinition);
        ArgumentNullException.ThrowIfNull(codecDefinition);
        if (!typeDefinition.IsGenericTypeDefinition || !codecDefinition.IsGenericTypeDefinition
            || typeDefinition.GetGenericArguments().Length != codecDefinition.GetGenericArguments().Length)
        {
            throw new ArgumentException(
                $"{codecDefinition} cannot serve {typeDefinition}: both must be open generic types with the same arity.", nameof(codecDefinition));
        }

        ByDefinition[typeDefinition] = codecDefinition;
    }

    internal static bool TryGet(Type typeDefinition, out Type codecDefinition) =>
        ByDefinition.TryGetValue(typeDefinition, out codecDefinition!);
}
