using System.Collections.Immutable;
using Actors.CodeGen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Actors.Runtime.Tests.CodeGen;

/// <summary>Runs the generator over small programs and checks its diagnostics and output.</summary>
public sealed class GeneratorDriverTests
{
    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Append(typeof(IGrain).Assembly.Location);
        return [.. paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static (ImmutableArray<Diagnostic> Generator, ImmutableArray<Diagnostic> Compilation, ImmutableArray<SyntaxTree> Generated) Run(string source)
    {
        var compilation = CSharpCompilation.Create(
            "GeneratorTest",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new ActorsGenerator());
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult();
        return (diagnostics, output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray(), result.GeneratedTrees);
    }

    [Theory]
    [InlineData("int Bad();", "ACT0001", "IBadGrain.Bad")]
    [InlineData("void Bad();", "ACT0001", "IBadGrain.Bad")]
    [InlineData("Task Bad(ref int x);", "ACT0002", "IBadGrain.Bad")]
    [InlineData("Task Bad(out int x);", "ACT0002", "IBadGrain.Bad")]
    [InlineData("Task<T> Bad<T>(T value);", "ACT0003", "IBadGrain.Bad")]
    [InlineData("[OneWay] Task<int> Bad();", "ACT0004", "IBadGrain.Bad")]
    [InlineData("Task Bad(object value);", "ACT0005", "IBadGrain.Bad")]
    [InlineData("Task Bad(CancellationToken ct, int x);", "ACT0012", "IBadGrain.Bad")]
    [InlineData("int Count { get; }", "ACT0011", "Count")]
    public void A_bad_grain_method_shape_is_an_error_naming_the_method(string member, string id, string named)
    {
        var source = $$"""
            using System.Threading;
            using System.Threading.Tasks;
            using Actors;
            namespace Sample;
            public interface IBadGrain : IGrainWithStringKey
            {
                Task<int> Good(int x);
                {{member}}
            }
            """;
        var (diagnostics, _, generated) = Run(source);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains(named, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(7, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Empty(generated);
    }

    [Fact]
    public void An_interface_inheriting_a_bad_method_is_reported_too()
    {
        const string source = """
            using System.Threading.Tasks;
            using Actors;
            namespace Sample;
            public interface IBase : IGrainWithStringKey { int Bad(); }
            public interface IDerived : IBase { Task Fine(); }
            """;
        var (diagnostics, _, generated) = Run(source);
        Assert.Contains(diagnostics, d => d.Id == "ACT0001" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("IBase.Bad", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Id == "ACT0009" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("IDerived", StringComparison.Ordinal));
        Assert.Empty(generated);
    }

    [Fact]
    public void A_valid_program_generates_code_that_compiles()
    {
        const string source = """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Actors;
            namespace Sample;

            [GenerateSerializer]
            public sealed record Item([property: Id(0)] string Name, [property: Id(1)] List<int> Values);

            public interface IStore : IGrainWithStringKey
            {
                Task<Item?> Get(string key, CancellationToken cancellationToken);
                ValueTask Put(Item item);
                [OneWay] ValueTask Touch();
            }

            public sealed class StoreGrain(IGrainContext context) : Grain, IStore
            {
                public Task<Item?> Get(string key, CancellationToken cancellationToken) => Task.FromResult<Item?>(null);
                public ValueTask Put(Item item) => default;
                public ValueTask Touch() => default;
            }
            """;
        var (diagnostics, errors, generated) = Run(source);
        Assert.Empty(diagnostics);
        Assert.Empty(errors);
        Assert.Equal(3, generated.Length);
        var text = string.Join("\n", generated.Select(t => t.ToString()));
        Assert.Contains("Sample_IStore_Proxy", text, StringComparison.Ordinal);
        Assert.Contains("Sample_IStore_Get_0_Invokable", text, StringComparison.Ordinal);
        Assert.Contains("\"store\"", text, StringComparison.Ordinal);
        Assert.Contains("Sample_Item_Codec", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Id(0)] public object? Value { get; set; }", "ACT0006")]
    [InlineData("[Id(0)] public int A { get; set; } [Id(0)] public int B { get; set; }", "ACT0008")]
    [InlineData("[Id(0)] public int A => 1;", "ACT0007")]
    [InlineData("[Id(0)] public int A { set { } }", "ACT0007")]
    public void A_bad_serializable_member_is_an_error(string members, string id)
    {
        var source = $$"""
            using Actors;
            namespace Sample;
            [GenerateSerializer]
            public sealed class Bad
            {
                {{members}}
                public int Use() => 0;
            }
            """;
        var (diagnostics, _, _) = Run(source);
        Assert.Contains(diagnostics, d => d.Id == id && d.Severity == DiagnosticSeverity.Error);
    }
}
