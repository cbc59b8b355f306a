using System.Xml.Linq;

namespace Actors.Integration.Tests.Architecture;

/// <summary>
/// Dependencies point one way (DESIGN.md, "Layout"): Log knows nothing of actors; the runtime knows
/// nothing of the broker or the log; nothing depends on the silo host; the client never references
/// silo-side code. Checked from the project files themselves.
/// </summary>
public sealed class ProjectLayeringTests
{
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Actors.CodeGen"] = [],
        ["Actors.Log"] = [],
        ["Actors.Runtime"] = [],
        ["Actors.Runtime.Testing"] = ["Actors.Runtime"],
        ["Actors.Broker.Abstractions"] = ["Actors.Runtime"],
        ["Actors.Broker"] = ["Actors.Broker.Abstractions", "Actors.Log", "Actors.Runtime"],
        ["Actors.Client"] = ["Actors.Broker.Abstractions", "Actors.Runtime", "Actors.Log"],
        ["Actors.Kafka"] = ["Actors.Broker", "Actors.Broker.Abstractions", "Actors.Log", "Actors.Runtime"],
    };

    [Fact]
    public void SourceProjectsReferenceOnlyLowerLayers()
    {
        var root = FindRepositoryRoot();
        var checkedProjects = 0;
        foreach (var project in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            Assert.True(Allowed.TryGetValue(name, out var allowed),
                $"{name} is a new source project: add its allowed references to {nameof(ProjectLayeringTests)}.");
            foreach (var reference in ReferencedProjects(project))
            {
                Assert.True(allowed!.Contains(reference),
                    $"{name} references {reference}, which breaks the layering (allowed: {string.Join(", ", allowed!)}).");
            }

            checkedProjects++;
        }

        Assert.True(checkedProjects >= 5, $"expected the source projects under src/, found {checkedProjects}");
    }

    [Fact]
    public void NothingReferencesTheSiloHostExceptTests()
    {
        var root = FindRepositoryRoot();
        foreach (var folder in new[] { "src", "clients" })
        {
            var path = Path.Combine(root, folder);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (var project in Directory.EnumerateFiles(path, "*.csproj", SearchOption.AllDirectories))
            {
                Assert.DoesNotContain("Actors.Silo", ReferencedProjects(project));
            }
        }
    }

    private static IEnumerable<string> ReferencedProjects(string projectFile) =>
        XDocument.Load(projectFile)
            .Descendants("ProjectReference")
            .Where(e => (string?)e.Attribute("OutputItemType") != "Analyzer")
            .Select(e => Path.GetFileNameWithoutExtension((string)e.Attribute("Include")!.Value.Replace('\\', '/')));

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException(
            $"Actors.sln not found above {AppContext.BaseDirectory}; run the tests from the repository.");
    }
}
