using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

/// <summary>
/// Emits, for one grain interface: a proxy (<c>Actors.Generated.{Flat}_Proxy</c>), an invokable per
/// method (<c>Actors.Generated.{Flat}_{Method}_{Id}_Invokable</c>), private invokables for inherited
/// methods, and a module initializer registering the interface with GeneratedCodeRegistry.
/// </summary>
internal static class GrainInterfaceEmitter
{
    private enum ReturnKind
    {
        Task,
        TaskOfT,
        ValueTask,
        ValueTaskOfT,
    }

    private sealed class MethodModel
    {
        public IMethodSymbol Symbol = null!;
        public INamedTypeSymbol Declaring = null!;
        public int Id;
        public ReturnKind Kind;
        public ITypeSymbol? Result;
        public List<IParameterSymbol> Args = [];
        public IParameterSymbol? Cancellation;
        public bool OneWay;
        public bool AlwaysInterleave;
        public bool ReadOnly;
        public bool ArgsImmutable;
        public bool ResultImmutable;
        public string InvokableName = string.Empty;
    }

    public static GeneratedFile? Build(INamedTypeSymbol iface, CancellationToken cancellationToken)
    {
        if (!Symbols.IsGrainInterface(iface))
        {
            return null;
        }

        var diagnostics = new List<DiagnosticInfo>();
        var name = iface.ToDisplayString();
        if (iface.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.Unsupported, iface, name, "generic grain interfaces are not supported"));
            return Done(null, null, diagnostics);
        }

        if (!Symbols.IsAccessibleFromAssembly(iface))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.Unsupported, iface, name, "a grain interface must be public or internal"));
            return Done(null, null, diagnostics);
        }

        var flat = Symbols.FlatName(iface);
        var registrations = new SortedSet<string>(System.StringComparer.Ordinal);
        var own = new List<MethodModel>();
        var inherited = new List<MethodModel>();
        var ok = true;
        var declaring = new List<INamedTypeSymbol> { iface };
        declaring.AddRange(iface.AllInterfaces.Where(Symbols.IsGrainInterface));
        foreach (var d in declaring)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var isOwn = SymbolEqualityComparer.Default.Equals(d, iface);
            var id = 0;
            foreach (var member in d.GetMembers())
            {
                if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false, IsAbstract: true } method)
                {
                    var model = BuildMethod(method, d, id++, isOwn ? diagnostics : null, registrations);
                    if (model is null)
                    {
                        if (!isOwn)
                        {
                            diagnostics.Add(DiagnosticInfo.Create(
                                Diagnostics.Unsupported, iface, name,
                                $"it inherits the grain method '{d.Name}.{method.Name}', whose shape is not supported (see the errors on '{d.ToDisplayString()}')"));
                        }

                        ok = false;
                        continue;
                    }

                    model.InvokableName = isOwn
                        ? $"{flat}_{method.Name}_{model.Id}_Invokable"
                        : $"{flat}__{Symbols.FlatName(d)}_{method.Name}_{model.Id}_Invokable";
                    (isOwn ? own : inherited).Add(model);
                }
                else if (isOwn && member is IPropertySymbol { IsStatic: false, IsAbstract: true } or IEventSymbol { IsStatic: false, IsAbstract: true })
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.NonMethodMember, member, name, member is IPropertySymbol ? "property" : "event", member.Name));
                    ok = false;
                }
            }
        }

        if (!ok)
        {
            return Done(null, null, diagnostics);
        }

        registrations.Add($"{Symbols.Ser}.Codec<{iface.ToDisplayString(Symbols.QualifiedPlain)}>.TryRegister({Symbols.Ser}.GrainReferenceCodec<{iface.ToDisplayString(Symbols.QualifiedPlain)}>.Instance);");
        var source = Emit(iface, flat, own, inherited, registrations);
        return Done($"{flat}.Grain.g.cs", source, diagnostics);
    }

    private static GeneratedFile Done(string? hint, string? source, List<DiagnosticInfo> diagnostics) =>
        new(hint, source, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutableArray()));

    private static MethodModel? BuildMethod(
        IMethodSymbol method, INamedTypeSymbol declaring, int id, List<DiagnosticInfo>? diagnostics, ISet<string> registrations)
    {
        var display = declaring.Name + "." + method.Name;
        var valid = true;
        var model = new MethodModel { Symbol = method, Declaring = declaring, Id = id };
        if (method.IsGenericMethod)
        {
            diagnostics?.Add(DiagnosticInfo.Create(Diagnostics.GenericMethod, method, display));
            return null;
        }

        var returnType = method.ReturnType as INamedTypeSymbol;
        var returnKey = returnType is null || returnType.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks"
            ? string.Empty
            : returnType.OriginalDefinition.MetadataName;
        switch (returnKey)
        {
            case "Task":
                model.Kind = ReturnKind.Task;
                break;
            case "Task`1":
                model.Kind = ReturnKind.TaskOfT;
                model.Result = returnType!.TypeArguments[0];
                break;
            case "ValueTask":
                model.Kind = ReturnKind.ValueTask;
                break;
            case "ValueTask`1":
                model.Kind = ReturnKind.ValueTaskOfT;
                model.Result = returnType!.TypeArguments[0];
                break;
            default:
                diagnostics?.Add(DiagnosticInfo.Create(Diagnostics.BadReturnType, method, display, method.ReturnType.ToDisplayString()));
                valid = false;
                break;
        }

        model.OneWay = method.HasAttribute("OneWayAttribute");
        model.AlwaysInterleave = method.HasAttribute("AlwaysInterleaveAttribute");
        model.ReadOnly = method.HasAttribute("ReadOnlyAttribute");
        if (valid && model.OneWay && model.Result is not null)
        {
            diagnostics?.Add(DiagnosticInfo.Create(Diagnostics.OneWayWithResult, method, display, method.ReturnType.ToDisplayString()));
            valid = false;
        }

        model.ArgsImmutable = true;
        for (var i = 0; i < method.Parameters.Length; i++)
        {
            var p = method.Parameters[i];
            if (p.RefKind != RefKind.None)
            {
                diagnostics?.Add(DiagnosticInfo.Create(Diagnostics.RefParameter, p, display, p.Name));
                valid = false;
                continue;
            }

            if (Symbols.IsCancellationToken(p.Type))
            {
                if (i != method.Parameters.Length - 1)
                {
                    diagnostics?.Add(DiagnosticInfo.Create(Diagnostics.CancellationNotLast, p, display));
                    valid = false;
                }

                model.Cancellation = p;
                continue;
            }

            var shape = TypeSupport.Analyze(p.Type, registrations);
            if (!shape.Supported)
            {
                diagnostics?.Add(DiagnosticInfo.Create(
                    Diagnostics.UnserializableParameter, p, display, p.Name, p.Type.ToDisplayString(), shape.Reason ?? string.Empty));
                valid = false;
                continue;
            }

            model.ArgsImmutable &= shape.Immutable || p.HasAttribute("ImmutableAttribute");
            model.Args.Add(p);
        }

        model.ResultImmutable = true;
        if (model.Result is not null)
        {
            var shape = TypeSupport.Analyze(model.Result, registrations);
            if (!shape.Supported)
            {
                diagnostics?.Add(DiagnosticInfo.Create(
                    Diagnostics.UnserializableParameter, method, display, "return value", model.Result.ToDisplayString(), shape.Reason ?? string.Empty));
                valid = false;
            }

            model.ResultImmutable = shape.Immutable || method.GetReturnTypeAttributes().Any(a => a.AttributeClass?.Name == "ImmutableAttribute");
        }

        return valid ? model : null;
    }

    private static string Emit(
        INamedTypeSymbol iface, string flat, List<MethodModel> own, List<MethodModel> inherited, IEnumerable<string> registrations)
    {
        var ifaceType = iface.ToDisplayString(Symbols.QualifiedPlain);
        var sb = new StringBuilder();
        sb.AppendLine("// <auto-generated/> by Actors.CodeGen");
        sb.AppendLine("#nullable enable annotations");
        sb.AppendLine("#nullable disable warnings");
        sb.AppendLine("#pragma warning disable CS0618, CS0612");
        sb.AppendLine("namespace Actors.Generated");
        sb.AppendLine("{");

        // Proxy.
        sb.AppendLine($"    /// <summary>Grain reference implementing <see cref=\"{ifaceType}\"/>.</summary>");
        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Actors.CodeGen\", \"1.0\")]");
        sb.AppendLine($"    internal sealed class {flat}_Proxy : {Symbols.Inv}.GrainReference, {ifaceType}");
        sb.AppendLine("    {");
        sb.AppendLine($"        public {flat}_Proxy(global::Actors.GrainId grainId, {Symbols.Inv}.IGrainCallRuntime runtime) : base(grainId, runtime) {{ }}");
        sb.AppendLine();
        sb.AppendLine($"        public override uint InterfaceId => 0x{Symbols.InterfaceId(iface):x8}u;");
        sb.AppendLine();
        sb.AppendLine($"        public override global::System.Type InterfaceType => typeof({ifaceType});");
        foreach (var m in own.Concat(inherited))
        {
            sb.AppendLine();
            EmitProxyMethod(sb, m);
        }

        sb.AppendLine("    }");

        foreach (var m in own.Concat(inherited))
        {
            sb.AppendLine();
            EmitInvokable(sb, m);
        }

        // Registration.
        sb.AppendLine();
        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Actors.CodeGen\", \"1.0\")]");
        sb.AppendLine($"    internal static class {flat}_Registration");
        sb.AppendLine("    {");
        sb.AppendLine("        [global::System.Runtime.CompilerServices.ModuleInitializer]");
        sb.AppendLine("        internal static void Register()");
        sb.AppendLine("        {");
        sb.AppendLine($"            {Symbols.Inv}.GeneratedCodeRegistry.RegisterInterface(new {Symbols.Inv}.GrainInterfaceDescriptor(");
        sb.AppendLine($"                typeof({ifaceType}),");
        sb.AppendLine($"                0x{Symbols.InterfaceId(iface):x8}u,");
        sb.AppendLine($"                static (grainId, runtime) => new {flat}_Proxy(grainId, runtime),");
        sb.AppendLine("                static methodId => methodId switch");
        sb.AppendLine("                {");
        foreach (var m in own)
        {
            sb.AppendLine($"                    {m.Id} => new {m.InvokableName}(),");
        }

        sb.AppendLine("                    _ => null,");
        sb.AppendLine("                }));");
        foreach (var r in registrations)
        {
            sb.AppendLine("            " + r);
        }

        sb.AppendLine("        }");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string ReturnTypeText(MethodModel m) => m.Symbol.ReturnType.ToDisplayString(Symbols.Qualified);

    private static void EmitProxyMethod(StringBuilder sb, MethodModel m)
    {
        var parameters = string.Join(", ", m.Symbol.Parameters.Select(p => $"{p.Type.ToDisplayString(Symbols.Qualified)} {Symbols.Escape(p.Name)}"));
        var declaring = m.Declaring.ToDisplayString(Symbols.QualifiedPlain);
        var init = new List<string>();
        for (var i = 0; i < m.Args.Count; i++)
        {
            init.Add($"Arg{i} = {Symbols.Escape(m.Args[i].Name)}");
        }

        if (m.Cancellation is not null)
        {
            init.Add($"CancellationToken = {Symbols.Escape(m.Cancellation.Name)}");
        }

        var create = $"var __call = new {m.InvokableName} {{ {string.Join(", ", init)} }};";
        if (m.OneWay)
        {
            sb.AppendLine($"        {ReturnTypeText(m)} {declaring}.{Symbols.Escape(m.Symbol.Name)}({parameters})");
            sb.AppendLine("        {");
            sb.AppendLine($"            {create}");
            sb.AppendLine("            Runtime.InvokeOneWay(this, __call);");
            sb.AppendLine(m.Kind == ReturnKind.Task
                ? "            return global::System.Threading.Tasks.Task.CompletedTask;"
                : "            return default;");
            sb.AppendLine("        }");
            return;
        }

        sb.AppendLine($"        async {ReturnTypeText(m)} {declaring}.{Symbols.Escape(m.Symbol.Name)}({parameters})");
        sb.AppendLine("        {");
        sb.AppendLine($"            {create}");
        sb.AppendLine("            await Runtime.InvokeAsync(this, __call).ConfigureAwait(false);");
        if (m.Result is not null)
        {
            sb.AppendLine("            return __call.Result;");
        }

        sb.AppendLine("        }");
    }

    private static void EmitInvokable(StringBuilder sb, MethodModel m)
    {
        var declaring = m.Declaring.ToDisplayString(Symbols.QualifiedPlain);
        var baseType = m.Result is null
            ? $"{Symbols.Inv}.GrainInvokable"
            : $"{Symbols.Inv}.GrainInvokable<{m.Result.ToDisplayString(Symbols.Qualified)}>";
        var flags = new List<string>();
        if (m.OneWay)
        {
            flags.Add($"{Symbols.Inv}.InvokeFlags.OneWay");
        }

        if (m.AlwaysInterleave)
        {
            flags.Add($"{Symbols.Inv}.InvokeFlags.AlwaysInterleave");
        }

        if (m.ReadOnly)
        {
            flags.Add($"{Symbols.Inv}.InvokeFlags.ReadOnly");
        }

        if (flags.Count == 0)
        {
            flags.Add($"{Symbols.Inv}.InvokeFlags.None");
        }

        sb.AppendLine($"    /// <summary>A call of <see cref=\"{declaring}.{m.Symbol.Name}\"/>.</summary>");
        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Actors.CodeGen\", \"1.0\")]");
        sb.AppendLine($"    internal sealed class {m.InvokableName} : {baseType}");
        sb.AppendLine("    {");
        for (var i = 0; i < m.Args.Count; i++)
        {
            sb.AppendLine($"        public {m.Args[i].Type.ToDisplayString(Symbols.Qualified)} Arg{i};");
        }

        sb.AppendLine();
        sb.AppendLine($"        public override uint InterfaceId => 0x{Symbols.InterfaceId(m.Declaring):x8}u;");
        sb.AppendLine($"        public override ushort MethodId => {m.Id};");
        sb.AppendLine($"        public override string InterfaceName => {Symbols.Literal(m.Declaring.Name)};");
        sb.AppendLine($"        public override string MethodName => {Symbols.Literal(m.Symbol.Name)};");
        sb.AppendLine($"        public override {Symbols.Inv}.InvokeFlags Flags => {string.Join(" | ", flags)};");
        sb.AppendLine($"        public override bool ArgumentsAreImmutable => {(m.ArgsImmutable ? "true" : "false")};");
        sb.AppendLine($"        public override bool ResultIsImmutable => {(m.ResultImmutable ? "true" : "false")};");
        sb.AppendLine($"        public override bool AcceptsCancellation => {(m.Cancellation is not null ? "true" : "false")};");
        sb.AppendLine();

        sb.AppendLine($"        public override void WriteArguments(ref {Symbols.Ser}.ActorWriter writer)");
        sb.AppendLine("        {");
        for (var i = 0; i < m.Args.Count; i++)
        {
            sb.AppendLine("            " + TypeSupport.WriteField(m.Args[i].Type, i + "u", "Arg" + i));
        }

        sb.AppendLine("            writer.WriteEndObject();");
        sb.AppendLine("        }");
        sb.AppendLine();

        sb.AppendLine($"        public override void ReadArguments(ref {Symbols.Ser}.ActorReader reader)");
        sb.AppendLine("        {");
        sb.AppendLine("            while (true)");
        sb.AppendLine("            {");
        sb.AppendLine("                var (id, wireType) = reader.ReadFieldHeader();");
        sb.AppendLine($"                if (wireType == {Symbols.Ser}.WireType.EndTagDelimited) break;");
        sb.AppendLine("                switch (id)");
        sb.AppendLine("                {");
        for (var i = 0; i < m.Args.Count; i++)
        {
            sb.AppendLine($"                    case {i}u: Arg{i} = {TypeSupport.ReadValue(m.Args[i].Type, "wireType")}; break;");
        }

        sb.AppendLine("                    default: reader.SkipField(wireType); break;");
        sb.AppendLine("                }");
        sb.AppendLine("            }");
        sb.AppendLine("        }");
        sb.AppendLine();

        var args = new List<string>();
        for (var i = 0; i < m.Args.Count; i++)
        {
            args.Add("Arg" + i);
        }

        if (m.Cancellation is not null)
        {
            args.Add("CancellationToken");
        }

        var call = $"(({declaring})grain).{Symbols.Escape(m.Symbol.Name)}({string.Join(", ", args)})";
        sb.AppendLine("        public override global::System.Threading.Tasks.ValueTask InvokeAsync(object grain)");
        sb.AppendLine("        {");
        switch (m.Kind)
        {
            case ReturnKind.Task:
                sb.AppendLine($"            return new global::System.Threading.Tasks.ValueTask({call});");
                break;
            case ReturnKind.ValueTask:
                sb.AppendLine($"            return {call};");
                break;
            default:
                sb.AppendLine($"            var task = {call};");
                sb.AppendLine("            if (task.IsCompletedSuccessfully)");
                sb.AppendLine("            {");
                sb.AppendLine("                Result = task.Result;");
                sb.AppendLine("                return default;");
                sb.AppendLine("            }");
                sb.AppendLine();
                sb.AppendLine("            return AwaitResult(task);");
                break;
        }

        sb.AppendLine("        }");
        if (m.Result is not null)
        {
            sb.AppendLine();
            sb.AppendLine($"        private async global::System.Threading.Tasks.ValueTask AwaitResult({ReturnTypeText(m)} task)");
            sb.AppendLine("        {");
            sb.AppendLine("            Result = await task.ConfigureAwait(false);");
            sb.AppendLine("        }");
        }

        sb.AppendLine();
        sb.AppendLine($"        public override void WriteResult(ref {Symbols.Ser}.ActorWriter writer)");
        sb.AppendLine("        {");
        if (m.Result is not null)
        {
            sb.AppendLine("            " + TypeSupport.WriteField(m.Result, "0u", "Result"));
        }

        sb.AppendLine("        }");
        sb.AppendLine();
        sb.AppendLine($"        public override void ReadResult(ref {Symbols.Ser}.ActorReader reader)");
        sb.AppendLine("        {");
        if (m.Result is not null)
        {
            sb.AppendLine("            var (_, wireType) = reader.ReadFieldHeader();");
            sb.AppendLine($"            Result = {TypeSupport.ReadValue(m.Result, "wireType")};");
        }

        sb.AppendLine("        }");
        sb.AppendLine();
        sb.AppendLine($"        public override {Symbols.Inv}.GrainInvokable CreateEmpty() => new {m.InvokableName}();");
        sb.AppendLine("    }");
    }
}
