using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

/// <summary>
/// Emits the codec of one [GenerateSerializer] type (<c>Actors.Generated.{Flat}_Codec</c>) and a
/// module initializer registering it in <c>Codec&lt;T&gt;</c>.
/// </summary>
/// <remarks>
/// Wire format: a <c>TagDelimited</c> object; each [Id(n)] member is a field with id n; a
/// [GenerateSerializer] class deriving from another [GenerateSerializer] class writes the root base's
/// members at the top level and its own members in a nested object under the reserved field id
/// <c>uint.MaxValue</c> (recursively for deeper hierarchies), so ids are per class and never clash,
/// and a base-type reader reads a derived value's base members (skipping the derived ones).
/// Reading skips unknown ids and keeps defaults for missing ones. Construction: the accessible
/// constructor whose parameters all name serialized members (records' primary constructors) is called
/// with the values read (a parameter's declared default when the field is missing); remaining members
/// are set afterwards when present (settable members keep their initializer value when missing) or, for
/// init-only members, in the object initializer (missing gives default(T)).
/// Values are serialized by their declared member type (no polymorphism) and as trees (no cycles).
/// </remarks>
internal static class SerializerEmitter
{
    public const string BaseFieldId = "4294967295u";

    private enum Access
    {
        None,
        Direct,
        FieldAccessor,
        MethodAccessor,
    }

    private sealed class Member
    {
        public ISymbol Symbol = null!;
        public ITypeSymbol Type = null!;
        public uint Id;
        public int Level;
        public IParameterSymbol? ConstructorParameter;

        /// <summary>How the value is read from an instance.</summary>
        public Access Get;

        /// <summary>How the value is stored after construction (when not a constructor argument).</summary>
        public Access Set;

        /// <summary>The member is 'required': it must be set in the object initializer.</summary>
        public bool Required;

        /// <summary>The field (possibly a property's backing field) behind <see cref="Access.FieldAccessor"/>.</summary>
        public IFieldSymbol? Field;

        public bool Conditional => ConstructorParameter is null && !(Required && Set == Access.Direct);

        public string Local => $"m{Level}_{Id}";

        public string Has => $"h{Level}_{Id}";
    }

    public static GeneratedFile? Build(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var name = type.ToDisplayString();
        var flat = Symbols.FlatName(type);
        var typeText = type.ToDisplayString(Symbols.QualifiedPlain);
        var generic = type.IsGenericType;
        if (generic && type.ContainingType is { IsGenericType: true })
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.Unsupported, type, name, "a generic [GenerateSerializer] type must not be nested in a generic type"));
            return Done(null, null, diagnostics);
        }

        if (!Symbols.IsAccessibleFromAssembly(type))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.Unsupported, type, name, "a [GenerateSerializer] type must be public or internal (also its containing types)"));
            return Done(null, null, diagnostics);
        }

        var registrations = new SortedSet<string>(StringComparer.Ordinal);
        if (type.TypeKind == TypeKind.Enum)
        {
            registrations.Add($"{Symbols.Ser}.Codec<{typeText}>.Register({Symbols.Ser}.EnumCodec<{typeText}>.Instance);");
            return Done($"{flat}.Codec.g.cs", Registration(flat, registrations, null), diagnostics);
        }

        if (type.IsStatic || type.IsAbstract || type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
        {
            // Abstract bases are serialized as part of their derived types.
            return null;
        }

        // Levels: the type itself, then each [GenerateSerializer] base class.
        var levels = new List<INamedTypeSymbol> { type };
        for (var b = type.BaseType; b is not null && b.HasAttribute("GenerateSerializerAttribute"); b = b.BaseType)
        {
            levels.Add(b);
        }

        // The root base class is written at the top level and each derived class's members in a nested
        // object, so a base-type reader of a derived value's bytes reads the base members correctly.
        levels.Reverse();
        var members = new List<Member>();
        for (var level = 0; level < levels.Count; level++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CollectMembers(levels[level], level, compilation, members, diagnostics, generic ? new HashSet<string>() : registrations, generic);
        }

        if (diagnostics.Count > 0)
        {
            return Done(null, null, diagnostics);
        }

        var constructor = ChooseConstructor(type, members, compilation);
        if (constructor is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                Diagnostics.NoConstructor, type, name,
                "add an accessible parameterless constructor, or one whose parameters are named after the [Id] members"));
            return Done(null, null, diagnostics);
        }

        foreach (var p in constructor.Parameters)
        {
            var member = members.FirstOrDefault(m => string.Equals(m.Symbol.Name, p.Name, StringComparison.OrdinalIgnoreCase));
            if (member is not null)
            {
                member.ConstructorParameter = p;
            }
        }

        foreach (var m in members.Where(m => m.ConstructorParameter is null && m.Set == Access.None))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                Diagnostics.UnsettableMember, m.Symbol, name, m.Symbol.Name,
                $"it is a computed read-only property and no constructor parameter is named '{m.Symbol.Name}'; add a setter or init accessor, or a constructor parameter"));
        }

        if (generic)
        {
            foreach (var m in members.Where(m => m.Get != Access.Direct || (m.Conditional && m.Set != Access.Direct)))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Diagnostics.UnsettableMember, m.Symbol, name, m.Symbol.Name,
                    "members of generic [GenerateSerializer] types must be readable and settable by generated code (public or internal, with a setter), or constructor parameters"));
            }
        }

        if (diagnostics.Count > 0)
        {
            return Done(null, null, diagnostics);
        }

        var codecName = generic ? $"{flat}_Codec<{string.Join(", ", type.TypeParameters.Select(t => t.Name))}>" : $"{flat}_Codec";
        var sb = new StringBuilder();
        sb.AppendLine($"    /// <summary>Codec of <see cref=\"{typeText}\"/>.</summary>");
        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Actors.CodeGen\", \"1.0\")]");
        sb.AppendLine($"    internal sealed class {codecName} : {Symbols.Ser}.IFieldCodec<{typeText}>");
        foreach (var constraint in Constraints(type))
        {
            sb.AppendLine("        " + constraint);
        }

        sb.AppendLine("    {");
        sb.AppendLine($"        public static readonly {codecName} Instance = new();");
        sb.AppendLine();
        sb.AppendLine($"        public {Symbols.Ser}.WireType WireType => {Symbols.Ser}.WireType.TagDelimited;");
        sb.AppendLine();
        sb.AppendLine($"        public void Write(ref {Symbols.Ser}.ActorWriter writer, {typeText} value)");
        sb.AppendLine("        {");
        EmitWriteLevel(sb, members, levels.Count, 0, "            ");
        sb.AppendLine("            writer.WriteEndObject();");
        sb.AppendLine("        }");
        sb.AppendLine();
        sb.AppendLine($"        public {typeText} Read(ref {Symbols.Ser}.ActorReader reader, {Symbols.Ser}.WireType wireType)");
        sb.AppendLine("        {");
        sb.AppendLine($"            {Symbols.Ser}.FieldCodec.Expect(wireType, {Symbols.Ser}.WireType.TagDelimited, {Symbols.Literal(type.Name)});");
        sb.AppendLine("            reader.EnterObject();");
        foreach (var m in members)
        {
            var initial = m.ConstructorParameter is { HasExplicitDefaultValue: true } p ? Symbols.DefaultValue(p) : "default!";
            sb.AppendLine($"            {m.Type.ToDisplayString(Symbols.Qualified)} {m.Local} = {initial};");
            if (m.Conditional)
            {
                sb.AppendLine($"            bool {m.Has} = false;");
            }
        }

        EmitReadLoop(sb, members, levels.Count, 0, "            ");
        sb.AppendLine("            reader.ExitObject();");
        var args = constructor.Parameters.Select(p =>
        {
            var member = members.FirstOrDefault(m => m.ConstructorParameter is not null && SymbolEqualityComparer.Default.Equals(m.ConstructorParameter, p));
            return member is null ? Symbols.DefaultValue(p) : member.Local;
        });
        var inits = members.Where(m => m.ConstructorParameter is null && !m.Conditional).Select(m => $"{Symbols.Escape(m.Symbol.Name)} = {m.Local}").ToList();
        var creation = type.TypeKind == TypeKind.Struct && constructor.Parameters.Length == 0 && constructor.IsImplicitlyDeclared
            ? $"new {typeText}()"
            : $"new {typeText}({string.Join(", ", args)})";
        if (inits.Count > 0)
        {
            creation += " { " + string.Join(", ", inits) + " }";
        }

        sb.AppendLine($"            var result = {creation};");
        var byRef = type.TypeKind == TypeKind.Struct ? "ref " : string.Empty;
        foreach (var m in members.Where(m => m.Conditional))
        {
            var store = m.Set switch
            {
                Access.Direct => $"result.{Symbols.Escape(m.Symbol.Name)} = {m.Local};",
                Access.FieldAccessor => $"FieldOf_{m.Local}({byRef}result) = {m.Local};",
                _ => $"Set_{m.Local}({byRef}result, {m.Local});",
            };
            sb.AppendLine($"            if ({m.Has}) {store}");
        }

        sb.AppendLine("            return result;");
        sb.AppendLine("        }");
        EmitAccessors(sb, type, members);
        sb.AppendLine("    }");

        if (generic)
        {
            var commas = new string(',', type.TypeParameters.Length - 1);
            registrations.Add($"{Symbols.Ser}.GenericCodecs.Register(typeof({type.ConstructUnboundGenericType().ToDisplayString(Symbols.QualifiedPlain)}), typeof({flat}_Codec<{commas}>));");
        }
        else
        {
            registrations.Add($"{Symbols.Ser}.Codec<{typeText}>.Register({flat}_Codec.Instance);");
        }
        return Done($"{flat}.Codec.g.cs", Registration(flat, registrations, sb.ToString()), diagnostics);
    }

    private static void CollectMembers(
        INamedTypeSymbol level, int index, Compilation compilation, List<Member> members, List<DiagnosticInfo> diagnostics, ISet<string> registrations, bool generic)
    {
        var typeName = level.ToDisplayString();
        var byId = new Dictionary<uint, Member>();
        var candidates = new List<(ISymbol Symbol, uint Id)>();
        foreach (var symbol in level.GetMembers())
        {
            if (symbol.IsStatic || symbol.IsImplicitlyDeclared && symbol is IFieldSymbol)
            {
                continue;
            }

            if (symbol is IFieldSymbol { IsConst: false } or IPropertySymbol { IsIndexer: false } && IdOf(symbol) is { } id)
            {
                candidates.Add((symbol, id));
            }
        }

        // Positional record parameters annotated [Id(n)] (on the parameter) map to the property of that name.
        foreach (var ctor in level.InstanceConstructors)
        {
            foreach (var p in ctor.Parameters)
            {
                if (IdOf(p) is { } id && level.GetMembers(p.Name).FirstOrDefault(s => s is IPropertySymbol or IFieldSymbol) is { } target
                    && !candidates.Any(c => SymbolEqualityComparer.Default.Equals(c.Symbol, target)))
                {
                    candidates.Add((target, id));
                }
            }
        }

        foreach (var (symbol, id) in candidates)
        {
            var memberType = symbol is IFieldSymbol f ? f.Type : ((IPropertySymbol)symbol).Type;
            if (id == uint.MaxValue)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.Unsupported, symbol, $"{typeName}.{symbol.Name}", "[Id(4294967295)] is reserved for base-class members"));
                continue;
            }

            if (byId.TryGetValue(id, out var existing))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateId, symbol, typeName, id.ToString(System.Globalization.CultureInfo.InvariantCulture), existing.Symbol.Name, symbol.Name));
                continue;
            }

            var shape = TypeSupport.Analyze(memberType, registrations, generic);
            if (!shape.Supported)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnserializableMember, symbol, typeName, symbol.Name, memberType.ToDisplayString(), shape.Reason ?? string.Empty));
                continue;
            }

            var member = new Member { Symbol = symbol, Type = memberType, Id = id, Level = index };
            if (!Symbols.IsAccessibleFromAssembly(memberType))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsettableMember, symbol, typeName, symbol.Name, "its type is not accessible to generated code; make the type public or internal"));
                continue;
            }

            if (symbol is IFieldSymbol field)
            {
                var accessible = compilation.IsSymbolAccessibleWithin(field, compilation.Assembly);
                member.Field = field;
                member.Get = accessible ? Access.Direct : Access.FieldAccessor;
                member.Set = accessible && !field.IsReadOnly ? Access.Direct : Access.FieldAccessor;
                member.Required = field.IsRequired;
            }
            else
            {
                var property = (IPropertySymbol)symbol;
                var backing = level.GetMembers().OfType<IFieldSymbol>()
                    .FirstOrDefault(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, property));
                member.Field = backing;
                member.Required = property.IsRequired;
                if (property.GetMethod is { } getter)
                {
                    member.Get = compilation.IsSymbolAccessibleWithin(getter, compilation.Assembly) ? Access.Direct : Access.MethodAccessor;
                }
                else if (backing is not null)
                {
                    member.Get = Access.FieldAccessor;
                }
                else
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsettableMember, symbol, typeName, symbol.Name, "it has no getter"));
                    continue;
                }

                if (property.SetMethod is { } setter)
                {
                    // Init-only setters are called through an accessor after construction, so a missing
                    // field keeps the member's initializer value ('required' members use the object initializer).
                    member.Set = compilation.IsSymbolAccessibleWithin(setter, compilation.Assembly) && (!setter.IsInitOnly || property.IsRequired)
                        ? Access.Direct
                        : Access.MethodAccessor;
                }
                else
                {
                    member.Set = backing is not null ? Access.FieldAccessor : Access.None;
                }
            }

            byId[id] = member;
            members.Add(member);
        }
    }

    /// <summary>UnsafeAccessor methods for members generated code cannot name directly (private,
    /// read-only or init-only): no reflection, checked by the runtime when first called.</summary>
    private static void EmitAccessors(StringBuilder sb, INamedTypeSymbol type, List<Member> members)
    {
        const string Attr = "global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.";
        foreach (var m in members)
        {
            var owner = m.Symbol.ContainingType;
            var target = (owner.TypeKind == TypeKind.Struct ? "ref " : string.Empty) + owner.ToDisplayString(Symbols.QualifiedPlain) + " target";
            var memberType = m.Type.ToDisplayString(Symbols.Qualified);
            if ((m.Get == Access.FieldAccessor || (m.Conditional && m.Set == Access.FieldAccessor)) && m.Field is not null)
            {
                sb.AppendLine();
                sb.AppendLine($"        [{Attr}Field, Name = {Symbols.Literal(m.Field.Name)})]");
                sb.AppendLine($"        private static extern ref {m.Field.Type.ToDisplayString(Symbols.Qualified)} FieldOf_{m.Local}({target});");
            }

            if (m.Get == Access.MethodAccessor)
            {
                sb.AppendLine();
                sb.AppendLine($"        [{Attr}Method, Name = {Symbols.Literal("get_" + m.Symbol.Name)})]");
                sb.AppendLine($"        private static extern {memberType} Get_{m.Local}({target});");
            }

            if (m.Conditional && m.Set == Access.MethodAccessor)
            {
                sb.AppendLine();
                sb.AppendLine($"        [{Attr}Method, Name = {Symbols.Literal("set_" + m.Symbol.Name)})]");
                sb.AppendLine($"        private static extern void Set_{m.Local}({target}, {memberType} value);");
            }
        }
    }

    /// <summary>The type's type-parameter constraints, for the generic codec class.</summary>
    private static IEnumerable<string> Constraints(INamedTypeSymbol type)
    {
        foreach (var t in type.TypeParameters)
        {
            var parts = new List<string>();
            if (t.HasUnmanagedTypeConstraint)
            {
                parts.Add("unmanaged");
            }
            else if (t.HasValueTypeConstraint)
            {
                parts.Add("struct");
            }
            else if (t.HasReferenceTypeConstraint)
            {
                parts.Add("class");
            }
            else if (t.HasNotNullConstraint)
            {
                parts.Add("notnull");
            }

            parts.AddRange(t.ConstraintTypes.Select(c => c.ToDisplayString(Symbols.Qualified)));
            if (t.HasConstructorConstraint && !t.HasValueTypeConstraint)
            {
                parts.Add("new()");
            }

            if (parts.Count > 0)
            {
                yield return $"where {t.Name} : {string.Join(", ", parts)}";
            }
        }
    }

    private static uint? IdOf(ISymbol symbol)
    {
        var attribute = symbol.Attribute("IdAttribute");
        if (attribute is null || attribute.ConstructorArguments.Length != 1)
        {
            return null;
        }

        return attribute.ConstructorArguments[0].Value switch
        {
            uint u => u,
            int i when i >= 0 => (uint)i,
            _ => null,
        };
    }

    private static IMethodSymbol? ChooseConstructor(INamedTypeSymbol type, List<Member> members, Compilation compilation)
    {
        IMethodSymbol? best = null;
        var bestMatched = -1;
        foreach (var ctor in type.InstanceConstructors)
        {
            if (!compilation.IsSymbolAccessibleWithin(ctor, compilation.Assembly))
            {
                continue;
            }

            if (ctor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(ctor.Parameters[0].Type, type))
            {
                continue; // a record's copy constructor
            }

            var matched = 0;
            var usable = true;
            foreach (var p in ctor.Parameters)
            {
                var member = members.FirstOrDefault(m => string.Equals(m.Symbol.Name, p.Name, StringComparison.OrdinalIgnoreCase));
                if (member is not null && compilation.ClassifyCommonConversion(member.Type, p.Type).IsImplicit && p.RefKind == RefKind.None)
                {
                    matched++;
                }
                else if (!p.HasExplicitDefaultValue)
                {
                    usable = false;
                    break;
                }
            }

            if (usable && matched > bestMatched)
            {
                best = ctor;
                bestMatched = matched;
            }
        }

        return best;
    }

    private static void EmitWriteLevel(StringBuilder sb, List<Member> members, int levelCount, int level, string indent)
    {
        foreach (var m in members.Where(m => m.Level == level).OrderBy(m => m.Id))
        {
            var byRef = m.Symbol.ContainingType.TypeKind == TypeKind.Struct ? "ref " : string.Empty;
            var read = m.Get switch
            {
                Access.FieldAccessor => $"FieldOf_{m.Local}({byRef}value)",
                Access.MethodAccessor => $"Get_{m.Local}({byRef}value)",
                _ => "value." + Symbols.Escape(m.Symbol.Name),
            };
            sb.AppendLine(indent + TypeSupport.WriteField(m.Type, m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) + "u", read));
        }

        if (level + 1 < levelCount)
        {
            sb.AppendLine($"{indent}writer.WriteFieldHeader({BaseFieldId}, {Symbols.Ser}.WireType.TagDelimited);");
            EmitWriteLevel(sb, members, levelCount, level + 1, indent);
            sb.AppendLine($"{indent}writer.WriteEndObject();");
        }
    }

    private static void EmitReadLoop(StringBuilder sb, List<Member> members, int levelCount, int level, string indent)
    {
        var id = "id" + level;
        var wt = "wt" + level;
        sb.AppendLine($"{indent}while (true)");
        sb.AppendLine($"{indent}{{");
        sb.AppendLine($"{indent}    var ({id}, {wt}) = reader.ReadFieldHeader();");
        sb.AppendLine($"{indent}    if ({wt} == {Symbols.Ser}.WireType.EndTagDelimited) break;");
        sb.AppendLine($"{indent}    switch ({id})");
        sb.AppendLine($"{indent}    {{");
        foreach (var m in members.Where(m => m.Level == level).OrderBy(m => m.Id))
        {
            var has = m.Conditional ? $" {m.Has} = true;" : string.Empty;
            sb.AppendLine($"{indent}        case {m.Id}u: {m.Local} = {TypeSupport.ReadValue(m.Type, wt)};{has} break;");
        }

        if (level + 1 < levelCount)
        {
            sb.AppendLine($"{indent}        case {BaseFieldId} when {wt} == {Symbols.Ser}.WireType.TagDelimited:");
            sb.AppendLine($"{indent}        {{");
            sb.AppendLine($"{indent}            reader.EnterObject();");
            EmitReadLoop(sb, members, levelCount, level + 1, indent + "            ");
            sb.AppendLine($"{indent}            reader.ExitObject();");
            sb.AppendLine($"{indent}            break;");
            sb.AppendLine($"{indent}        }}");
        }

        sb.AppendLine($"{indent}        default: reader.SkipField({wt}); break;");
        sb.AppendLine($"{indent}    }}");
        sb.AppendLine($"{indent}}}");
    }

    private static string Registration(string flat, IEnumerable<string> registrations, string? codec)
    {
        var sb = new StringBuilder();
        sb.AppendLine("// <auto-generated/> by Actors.CodeGen");
        sb.AppendLine("#nullable enable annotations");
        sb.AppendLine("#nullable disable warnings");
        sb.AppendLine("#pragma warning disable CS0618, CS0612");
        sb.AppendLine("namespace Actors.Generated");
        sb.AppendLine("{");
        if (codec is not null)
        {
            sb.Append(codec);
            sb.AppendLine();
        }

        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Actors.CodeGen\", \"1.0\")]");
        sb.AppendLine($"    internal static class {flat}_CodecRegistration");
        sb.AppendLine("    {");
        sb.AppendLine("        [global::System.Runtime.CompilerServices.ModuleInitializer]");
        sb.AppendLine("        internal static void Register()");
        sb.AppendLine("        {");
        foreach (var r in registrations)
        {
            sb.AppendLine("            " + r);
        }

        sb.AppendLine("        }");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static GeneratedFile Done(string? hint, string? source, List<DiagnosticInfo> diagnostics) =>
        new(hint, source, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutableArray()));
}
