using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

/// <summary>
/// Decides whether a type can be serialized, whether it is immutable (no copy inside a silo), and
/// how generated code writes and reads it: built-in fast-path codecs are called statically, other
/// types go through <c>Codec&lt;T&gt;.Instance</c>, whose closed generic codecs the module initializer
/// registers (so no reflection is needed at run time).
/// </summary>
internal static class TypeSupport
{
    private static readonly Dictionary<string, (string Codec, bool Immutable)> FastPath = new()
    {
        ["bool"] = ("BooleanCodec", true),
        ["byte"] = ("ByteCodec", true),
        ["sbyte"] = ("SByteCodec", true),
        ["short"] = ("Int16Codec", true),
        ["ushort"] = ("UInt16Codec", true),
        ["int"] = ("Int32Codec", true),
        ["uint"] = ("UInt32Codec", true),
        ["long"] = ("Int64Codec", true),
        ["ulong"] = ("UInt64Codec", true),
        ["char"] = ("CharCodec", true),
        ["float"] = ("SingleCodec", true),
        ["double"] = ("DoubleCodec", true),
        ["decimal"] = ("DecimalCodec", true),
        ["string"] = ("StringCodec", true),
        ["byte[]"] = ("ByteArrayCodec", false),
        ["global::System.ReadOnlyMemory<byte>"] = ("ReadOnlyMemoryOfByteCodec", true),
        ["global::System.Memory<byte>"] = ("MemoryOfByteCodec", false),
        ["global::System.Guid"] = ("GuidCodec", true),
        ["global::System.DateTime"] = ("DateTimeCodec", true),
        ["global::System.DateTimeOffset"] = ("DateTimeOffsetCodec", true),
        ["global::System.TimeSpan"] = ("TimeSpanCodec", true),
        ["global::Actors.GrainId"] = ("GrainIdCodec", true),
        ["global::Actors.Membership.SiloAddress"] = ("SiloAddressCodec", true),
    };

    // Generic type definition (namespace.Name`arity) -> (codec, immutable when the arguments are).
    private static readonly Dictionary<string, (string Codec, bool Immutable)> Generics = new()
    {
        ["System.Nullable`1"] = ("NullableCodec", true),
        ["System.Collections.Generic.List`1"] = ("ListCodec", false),
        ["System.Collections.Generic.IReadOnlyList`1"] = ("ReadOnlyListCodec", false),
        ["System.Collections.Generic.IReadOnlyCollection`1"] = ("ReadOnlyCollectionCodec", false),
        ["System.Collections.Generic.IList`1"] = ("IListCodec", false),
        ["System.Collections.Generic.HashSet`1"] = ("HashSetCodec", false),
        ["System.Collections.Generic.Dictionary`2"] = ("DictionaryCodec", false),
        ["System.Collections.Generic.IReadOnlyDictionary`2"] = ("ReadOnlyDictionaryCodec", false),
        ["System.Collections.Generic.IDictionary`2"] = ("IDictionaryCodec", false),
        ["System.Collections.Generic.KeyValuePair`2"] = ("KeyValuePairCodec", true),
        ["System.Collections.Immutable.ImmutableArray`1"] = ("ImmutableArrayCodec", true),
        ["System.Collections.Immutable.ImmutableList`1"] = ("ImmutableListCodec", true),
        ["System.Collections.Immutable.ImmutableDictionary`2"] = ("ImmutableDictionaryCodec", true),
        ["System.ValueTuple`2"] = ("ValueTupleCodec", true),
        ["System.ValueTuple`3"] = ("ValueTupleCodec", true),
    };

    /// <summary>The result of <see cref="Analyze"/>.</summary>
    public readonly struct Shape
    {
        public Shape(bool supported, bool immutable, string? reason)
        {
            Supported = supported;
            Immutable = immutable;
            Reason = reason;
        }

        public bool Supported { get; }

        public bool Immutable { get; }

        public string? Reason { get; }
    }

    /// <summary>Analyzes <paramref name="type"/>, adding the codec registrations it needs to <paramref name="registrations"/>.</summary>
    public static Shape Analyze(ITypeSymbol type, ISet<string> registrations, bool allowTypeParameters = false)
    {
        var plain = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(Symbols.QualifiedPlain);
        if (FastPath.TryGetValue(plain, out var fast))
        {
            return new Shape(true, fast.Immutable, null);
        }

        switch (type)
        {
            case ITypeParameterSymbol:
                return allowTypeParameters
                    ? new Shape(true, false, null)
                    : new Shape(false, false, "type parameters are not supported; use a concrete type");
            case IArrayTypeSymbol array:
            {
                if (array.Rank != 1)
                {
                    return new Shape(false, false, "only one-dimensional arrays are supported");
                }

                var element = Analyze(array.ElementType, registrations, allowTypeParameters);
                if (!element.Supported)
                {
                    return element;
                }

                registrations.Add($"{Symbols.Ser}.Codec<{plain}>.TryRegister({Symbols.Ser}.ArrayCodec<{array.ElementType.ToDisplayString(Symbols.QualifiedPlain)}>.Instance);");
                return new Shape(true, false, null);
            }

            case INamedTypeSymbol named:
                return AnalyzeNamed(named, plain, registrations, allowTypeParameters);
            default:
                return new Shape(false, false, "this kind of type is not supported");
        }
    }

    private static Shape AnalyzeNamed(INamedTypeSymbol named, string plain, ISet<string> registrations, bool allowTypeParameters)
    {
        if (named.TypeKind == TypeKind.Enum)
        {
            registrations.Add($"{Symbols.Ser}.Codec<{plain}>.TryRegister({Symbols.Ser}.EnumCodec<{plain}>.Instance);");
            return new Shape(true, true, null);
        }

        if (Symbols.IsGrainInterface(named))
        {
            if (named.IsGenericType)
            {
                return new Shape(false, false, "generic grain interfaces are not supported");
            }

            registrations.Add($"{Symbols.Ser}.Codec<{plain}>.TryRegister({Symbols.Ser}.GrainReferenceCodec<{plain}>.Instance);");
            return new Shape(true, true, null);
        }

        if (named.IsGenericType)
        {
            var definition = named.OriginalDefinition;
            var key = definition.ContainingNamespace.ToDisplayString() + "." + definition.MetadataName;
            if (Generics.TryGetValue(key, out var generic))
            {
                var immutable = generic.Immutable;
                foreach (var argument in named.TypeArguments)
                {
                    var shape = Analyze(argument, registrations, allowTypeParameters);
                    if (!shape.Supported)
                    {
                        return shape;
                    }

                    immutable &= shape.Immutable;
                }

                var args = string.Join(", ", named.TypeArguments.Select(a => a.ToDisplayString(Symbols.QualifiedPlain)));
                registrations.Add($"{Symbols.Ser}.Codec<{plain}>.TryRegister({Symbols.Ser}.{generic.Codec}<{args}>.Instance);");
                return new Shape(true, immutable, null);
            }
        }

        if (IsException(named))
        {
            if (plain != "global::System.Exception")
            {
                registrations.Add($"{Symbols.Ser}.Codec<{plain}>.TryRegister({Symbols.Ser}.ExceptionCodec<{plain}>.Instance);");
            }

            return new Shape(true, false, null);
        }

        if (named.HasAttribute("GenerateSerializerAttribute"))
        {
            var immutable = named.HasAttribute("ImmutableAttribute");
            if (named.IsGenericType)
            {
                // A closed generic [GenerateSerializer] type: its generic codec is found at first use.
                foreach (var argument in named.TypeArguments)
                {
                    var shape = Analyze(argument, registrations, allowTypeParameters);
                    if (!shape.Supported)
                    {
                        return shape;
                    }

                    immutable &= shape.Immutable;
                }
            }

            if (named.IsAbstract && named.TypeKind == TypeKind.Class)
            {
                return new Shape(false, false, "values are serialized by their declared type, so an abstract class cannot be a member or argument type; use a concrete type");
            }

            return new Shape(true, immutable, null);
        }

        return new Shape(
            false,
            false,
            "mark it [GenerateSerializer] with [Id(n)] on its members (supported built-ins: primitives, string, byte[], " +
            "ReadOnlyMemory<byte>, Guid, DateTime(Offset), TimeSpan, decimal, enums, Nullable<T>, arrays, List, " +
            "IReadOnlyList, IList, Dictionary, IReadOnlyDictionary, HashSet, immutable collections, KeyValuePair, " +
            "ValueTuple of 2-3, GrainId, SiloAddress, grain interfaces, exceptions)");
    }

    private static bool IsException(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
        {
            if (t.Name == "Exception" && t.ContainingNamespace?.ToDisplayString() == "System")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A statement writing field <paramref name="fieldId"/> with <paramref name="value"/>.</summary>
    public static string WriteField(ITypeSymbol type, string fieldId, string value)
    {
        var plain = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(Symbols.QualifiedPlain);
        return FastPath.TryGetValue(plain, out var fast)
            ? $"{Symbols.Ser}.{fast.Codec}.WriteField(ref writer, {fieldId}, {value});"
            : $"{Symbols.Ser}.FieldCodec.WriteField<{plain}>(ref writer, {fieldId}, {value});";
    }

    /// <summary>An expression reading a value whose header (wire type in <paramref name="wireType"/>) was read.</summary>
    public static string ReadValue(ITypeSymbol type, string wireType)
    {
        var plain = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(Symbols.QualifiedPlain);
        return FastPath.TryGetValue(plain, out var fast)
            ? $"{Symbols.Ser}.{fast.Codec}.ReadValue(ref reader, {wireType})"
            : $"{Symbols.Ser}.FieldCodec.ReadValue<{plain}>(ref reader, {wireType})";
    }
}
