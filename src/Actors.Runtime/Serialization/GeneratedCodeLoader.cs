using System.Reflection;
using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>
/// Makes sure the code generated into application assemblies is registered. Generated code registers
/// itself (grain interfaces, grain classes, codecs) from module initializers, which the CLR runs only
/// when something in the assembly is first used; a silo that has never touched a grain assembly would
/// not know its grains. <see cref="EnsureLoaded"/> loads every assembly reachable from the entry
/// assembly and the loaded ones that references Actors.Runtime, and runs its module initializer.
/// </summary>
/// <remarks>Thread-safe and idempotent; the walk is repeated only for assemblies not seen before.
/// Hosts call it at start; lookups that miss call it before giving up.</remarks>
public static class GeneratedCodeLoader
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Visited = new(StringComparer.Ordinal);
    private static readonly string RuntimeName = typeof(GeneratedCodeLoader).Assembly.GetName().Name!;

    // Set when an assembly loads, so repeated calls cost one volatile read until something new loads.
    private static volatile bool dirty = Subscribe();

    private static bool Subscribe()
    {
        AppDomain.CurrentDomain.AssemblyLoad += static (_, _) => dirty = true;
        return true;
    }

    /// <summary>Runs the module initializers of all assemblies that use Actors (loading referenced ones).</summary>
    public static void EnsureLoaded()
    {
        if (!dirty)
        {
            return;
        }

        lock (Gate)
        {
            dirty = false;
            var pending = new Stack<Assembly>();
            if (Assembly.GetEntryAssembly() is { } entry)
            {
                pending.Push(entry);
            }

            foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies())
            {
                pending.Push(loaded);
            }

            while (pending.Count > 0)
            {
                var assembly = pending.Pop();
                if (assembly.IsDynamic || !Visited.Add(assembly.FullName ?? assembly.GetName().Name!))
                {
                    continue;
                }

                var references = assembly.GetReferencedAssemblies();
                if (!references.Any(r => r.Name == RuntimeName))
                {
                    continue;
                }

                RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
                foreach (var reference in references)
                {
                    if (reference.Name is { } name && IsCandidate(name) && !Visited.Contains(reference.FullName))
                    {
                        try
                        {
                            pending.Push(Assembly.Load(reference));
                        }
                        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                        {
                            // A reference that is not deployed cannot hold grains used here.
                            Visited.Add(reference.FullName);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Runs the module initializer of the assembly that declares <paramref name="type"/>.</summary>
    public static void EnsureLoaded(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        RuntimeHelpers.RunModuleConstructor(type.Module.ModuleHandle);
    }

    private static bool IsCandidate(string name) =>
        !name.StartsWith("System.", StringComparison.Ordinal)
        && !name.StartsWith("Microsoft.", StringComparison.Ordinal)
        && name is not ("System" or "mscorlib" or "netstandard");
}
