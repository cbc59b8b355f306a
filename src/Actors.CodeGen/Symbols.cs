using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

/// <summary>Questions about symbols shared by the emitters.</summary>
internal static class Symbols
{
    public const string Ser = "global::Actors.Serialization";
    public const string Inv = "global::Actors.Invocation";

    /// <summary>Fully qualified, with nullable reference annotations (for signatures).</summary>
    public static readonly SymbolDisplayFormat Qualified = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Fully qualified without nullable reference annotations (for typeof and generic arguments).</summary>
    public static readonly SymbolDisplayFormat QualifiedPlain = SymbolDisplayFormat.FullyQualifiedFormat;

    private static readonly HashSet<string> MarkerInterfaces =
    [
        "IGrain", "IGrainWithStringKey", "IGrainWithIntegerKey", "IGrainWithGuidKey", "IAddressable",
    ];

    public static string Display(this ITypeSymbol type) => type.ToDisplayString(Qualified);

    /// <summary>The type without the outer nullable reference annotation, fully qualified.</summary>
    public static string Plain(this ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(Qualified);

    public static bool IsActorsMarker(INamedTypeSymbol type) =>
        MarkerInterfaces.Contains(type.Name) && type.ContainingNamespace?.ToDisplayString() == "Actors"
        && type.ContainingType is null;

    public static bool IsGrainInterface(ITypeSymbol type) =>
        type is INamedTypeSymbol { TypeKind: TypeKind.Interface } named
        && !IsActorsMarker(named)
        && named.AllInterfaces.Any(i => i.Name == "IGrain" && i.ContainingNamespace?.ToDisplayString() == "Actors");

    public static bool DerivesFromGrain(INamedTypeSymbol type)
    {
        for (var b = type.BaseType; b is not null; b = b.BaseType)
        {
            if (b.Name == "Grain" && b.ContainingNamespace?.ToDisplayString() == "Actors" && b.ContainingType is null)
            {
                return true;
            }
        }

        return false;
    }

    public static AttributeData? Attribute(this ISymbol symbol, string name) =>
        symbol.GetAttributes().FirstOrDefault(a =>
            a.AttributeClass is { } c && c.Name == name && c.ContainingNamespace?.ToDisplayString() == "Actors");

    public static bool HasAttribute(this ISymbol symbol, string name) => symbol.Attribute(name) is not null;

    /// <summary>"Namespace.Outer.Name" (dots between nesting levels), as hashed for interface ids.</summary>
    public static string FullName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (ISymbol? s = type; s is INamedTypeSymbol t; s = t.ContainingType)
        {
            parts.Insert(0, t.Name);
        }

        var ns = type.ContainingNamespace;
        var prefix = ns is null || ns.IsGlobalNamespace ? string.Empty : ns.ToDisplayString() + ".";
        return prefix + string.Join(".", parts);
    }

    /// <summary>A name usable as part of a C# identifier, unique per type.</summary>
    public static string FlatName(INamedTypeSymbol type)
    {
        var sb = new StringBuilder();
        foreach (var c in FullName(type))
        {
            sb.Append(char.IsLetterOrDigit(c) ? c : '_');
        }

        if (type.Arity > 0)
        {
            sb.Append("_T").Append(type.Arity);
        }

        return sb.ToString();
    }

    /// <summary>FNV-1a 32-bit over the UTF-8 bytes.</summary>
    public static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash = unchecked(hash * 16777619u);
        }

        return hash;
    }

    public static uint InterfaceId(INamedTypeSymbol type)
    {
        var alias = type.Attribute("AliasAttribute")?.ConstructorArguments.FirstOrDefault().Value as string;
        return Fnv1a(string.IsNullOrEmpty(alias) ? FullName(type) : alias!);
    }

    /// <summary>True if code outside the type, in the same assembly, can name the type.</summary>
    public static bool IsAccessibleFromAssembly(ITypeSymbol type)
    {
        for (ISymbol? s = type; s is INamedTypeSymbol t; s = t.ContainingType)
        {
            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected
                or Accessibility.ProtectedAndInternal)
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsAccessible(Accessibility accessibility) =>
        accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    public static string Escape(string identifier) => "@" + identifier;

    public static string Literal(string text) =>
        Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);

    public static bool IsCancellationToken(ITypeSymbol type) =>
        type.Name == "CancellationToken" && type.ContainingNamespace?.ToDisplayString() == "System.Threading";

    /// <summary>A C# expression for a parameter's explicit default value, or "default".</summary>
    public static string DefaultValue(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue || parameter.ExplicitDefaultValue is null)
        {
            return "default!";
        }

        var value = parameter.ExplicitDefaultValue;
        var literal = value switch
        {
            string s => Literal(s),
            bool b => b ? "true" : "false",
            char ch => "'" + (ch == '\'' ? "\\'" : ch == '\\' ? "\\\\" : ch.ToString()) + "'",
            float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f",
            double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "d",
            decimal m => m.ToString(System.Globalization.CultureInfo.InvariantCulture) + "m",
            _ => System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        };

        if (value is float or double && (literal.Contains("∞") || literal.Contains("NaN")))
        {
            return "default!";
        }

        return "(" + parameter.Type.Display() + ")(" + literal + ")";
    }
}
