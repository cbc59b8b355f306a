using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Actors.CodeGen;

/// <summary>
/// The Actors source generator. For the compilation it runs in it emits grain proxies and
/// invokables (grain interfaces), grain factories (grain classes) and binary codecs
/// ([GenerateSerializer] types), each registered from a module initializer; no reflection is
/// needed on the call path.
/// </summary>
/// <remarks>Each declaration is turned into its generated source text (and diagnostics) in the
/// transform step, so the output step only re-runs when that text changes.</remarks>
[Generator(LanguageNames.CSharp)]
public sealed class ActorsGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var interfaces = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is InterfaceDeclarationSyntax { BaseList: not null },
                static (ctx, ct) =>
                    ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct) is INamedTypeSymbol symbol && IsFirstDeclaration(symbol, ctx.Node)
                        ? GrainInterfaceEmitter.Build(symbol, ct)
                        : null)
            .Where(static f => f is not null);

        var classes = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null },
                static (ctx, ct) =>
                    ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct) is INamedTypeSymbol symbol && IsFirstDeclaration(symbol, ctx.Node)
                        ? GrainClassEmitter.Build(symbol)
                        : null)
            .Where(static f => f is not null);

        var serializers = context.SyntaxProvider.ForAttributeWithMetadataName(
                "Actors.GenerateSerializerAttribute",
                static (node, _) => node is BaseTypeDeclarationSyntax,
                static (ctx, ct) =>
                    ctx.TargetSymbol is INamedTypeSymbol symbol && IsFirstDeclaration(symbol, ctx.TargetNode)
                        ? SerializerEmitter.Build(symbol, ctx.SemanticModel.Compilation, ct)
                        : null)
            .Where(static f => f is not null);

        context.RegisterSourceOutput(interfaces, static (spc, file) => Emit(spc, file!));
        context.RegisterSourceOutput(classes, static (spc, file) => Emit(spc, file!));
        context.RegisterSourceOutput(serializers, static (spc, file) => Emit(spc, file!));
    }

    private static bool IsFirstDeclaration(INamedTypeSymbol symbol, SyntaxNode node)
    {
        var first = symbol.DeclaringSyntaxReferences.FirstOrDefault();
        return first is not null && first.SyntaxTree == node.SyntaxTree && first.Span == node.Span;
    }

    private static void Emit(SourceProductionContext context, GeneratedFile file)
    {
        foreach (var diagnostic in file.Diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }

        if (file.HintName is not null && file.Source is not null)
        {
            context.AddSource(file.HintName, file.Source);
        }
    }
}
