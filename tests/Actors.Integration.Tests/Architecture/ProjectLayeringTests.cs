using System.Xml.Linq;

namespace Actors.Integration.Tests.Architecture;

/// <summary>
/// Dependencies point one way (DESIGN.md, "Layout"): Log knows nothing of actors; the grain interfaces know only
/// Orleans' abstractions; the SQLite providers know only Orleans; nothing depends on the silo host; the client never
/// references silo-side code; and no actor runtime of our own is left (the broker runs on Orleans). Checked from the
/// project files themselves.
/// </summary>
public sealed class ProjectLayeringTests
{
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Actors.Log"] = [],
        ["Actors.Broker.Abstractions"] = [],
        ["Actors.Broker"] = ["Actors.Broker.Abstractions", "Actors.Log"],
        ["Actors.Orleans.Sqlite"] = [],
        ["Actors.Client"] = ["Actors.Broker.Abstractions", "Actors.Log"],
        ["Actors.Streams"] = ["Actors.Client", "Actors.Broker.Abstractions", "Actors.Log"],
        ["Actors.Kafka"] = ["Actors.Broker", "Actors.Broker.Abstractions", "Actors.Log"],
        // The console sits beside the Kafka listener in the silo and asks the listener's authorizer (one per silo) and
        // reads its traffic counters, so it may reference it; the listener never references the console.
        ["Actors.Console"] = ["Actors.Kafka", "Actors.Broker", "Actors.Broker.Abstractions", "Actors.Log"],
    };

    /// <summary>Packages each project may take; a project not listed may take any.</summary>
    private static readonly Dictionary<string, string[]> AllowedPackages = new(StringComparer.Ordinal)
    {
        ["Actors.Log"] = ["Microsoft.Extensions.Logging.Abstractions"],
        ["Actors.Broker.Abstractions"] = ["Microsoft.Orleans.Sdk"],
    };

    [Fact]
    public void No_actor_runtime_of_our_own_is_left()
    {
        var root = FindRepositoryRoot();
        var projects = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => n is "Actors.Runtime" or "Actors.CodeGen" or "Actors.Runtime.Testing" or "Actors.Runtime.Tests")
            .ToArray();
        Assert.Empty(projects);
        Assert.False(File.Exists(Path.Combine(root, "Directory.Build.targets")) && File.ReadAllText(Path.Combine(root, "Directory.Build.targets")).Contains("CodeGen", StringComparison.Ordinal),
            "Directory.Build.targets still wires a code generator of our own; Orleans' (Microsoft.Orleans.Sdk) generates grain code.");
    }

    [Fact]
    public void Projects_take_only_the_packages_of_their_layer()
    {
        var root = FindRepositoryRoot();
        foreach (var project in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            if (!AllowedPackages.TryGetValue(name, out var allowed))
            {
                continue;
            }

            foreach (var package in XDocument.Load(project).Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!))
            {
                Assert.True(allowed.Contains(package), $"{name} takes the package {package} (allowed: {string.Join(", ", allowed)}).");
            }
        }
    }

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

        Assert.True(checkedProjects >= 4, $"expected the source projects under src/, found {checkedProjects}");
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
