using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

namespace Flame.Client.Tests;

/// <summary>
/// The gRPC client SDK stays free of Orleans: every program built on it (flmctl, flmping, the samples, users' clients)
/// would otherwise carry the actor runtime along. The in-process transport is Flame.Client.Orleans.
/// </summary>
public sealed class ClientDependencyTests
{
    [Fact]
    public void FlameClient_ReferencesNoOrleansAssembly_EvenTransitively()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var orleans = new List<string>();
        var pending = new Stack<(Assembly Assembly, string Path)>();
        var root = typeof(GrpcFlameClient).Assembly;
        pending.Push((root, root.GetName().Name!));
        while (pending.TryPop(out var current))
        {
            foreach (var reference in current.Assembly.GetReferencedAssemblies())
            {
                var name = reference.Name!;
                if (IsFramework(name) || !seen.Add(name))
                    continue;
                var path = $"{current.Path} -> {name}";
                if (name.StartsWith("Orleans", StringComparison.OrdinalIgnoreCase))
                {
                    orleans.Add(path);
                    continue;
                }
                pending.Push((AssemblyLoadContext.Default.LoadFromAssemblyName(reference), path));
            }
        }
        Assert.True(orleans.Count == 0, "Flame.Client reaches Orleans: " + string.Join("; ", orleans));
        Assert.Contains("Flame.Model", seen);
    }

    [Fact]
    public void FlameClient_RestoresNoOrleansPackage_EvenTransitively()
    {
        // The restore's closure of Flame.Client, which `dotnet list package --include-transitive` prints.
        var assets = Path.Combine(RepositoryRoot(), "src", "Flame.Client", "obj", "project.assets.json");
        using var document = JsonDocument.Parse(File.ReadAllText(assets));
        var packages = document.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(library => library.Value.GetProperty("type").GetString() == "package")
            .Select(library => library.Name)
            .ToList();
        Assert.Contains(packages, p => p.StartsWith("Grpc.Net.Client/", StringComparison.Ordinal));
        Assert.DoesNotContain(packages, p => p.StartsWith("Microsoft.Orleans.", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsFramework(string name) =>
        name is "netstandard" or "mscorlib" || name.StartsWith("System", StringComparison.Ordinal)
        || name.StartsWith("Microsoft.", StringComparison.Ordinal) && !name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flame.Orleans.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Flame.Orleans.sln above {AppContext.BaseDirectory}");
    }
}
