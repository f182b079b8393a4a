using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// The packages as a user gets them: Flame.Client and Flame.Service (and the libraries they reference) as NuGet
/// packages, flmctl and flmping as .NET tools, packed from this configuration's build outputs (no second build) and
/// installed from that folder alone, as the README's Packages section says.
/// </summary>
public sealed class PackageTests
{
    private static readonly string[] Libraries = ["src/Flame.Client/Flame.Client.csproj", "src/Flame.Service/Flame.Service.csproj"];
    private static readonly string[] Tools = ["src/Flame.Cli/Flmctl/Flmctl.csproj", "src/Flame.Cli/Flmping/Flmping.csproj"];

    [Fact]
    public async Task Pack_MakesToolsThatInstallFromALocalFolderAndRun_AndClientPackagesWithTheirReadmeAndDependencies()
    {
        var work = Directory.CreateTempSubdirectory("flame-pack-");
        try
        {
            var feed = Path.Combine(work.FullName, "feed");
            var result = await ExternalCommand.RunAsync("dotnet",
                ["pack", WriteSolutionFilter(work.FullName), "--no-build", "-c", ExternalCommand.Configuration, "-o", feed, "--nologo"],
                TimeSpan.FromMinutes(5), "the .NET SDK is needed");
            Assert.True(result.ExitCode == 0, $"dotnet pack should succeed{result}");

            var client = Package(feed, "Flame.Client");
            AssertHasReadme(client);
            var dependencies = Dependencies(client);
            Assert.Contains("Grpc.Net.Client", dependencies.Keys);
            Assert.DoesNotContain(dependencies.Keys, id => id.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal));
            // Our own libraries that it depends on are packages of the same version in the same feed, so that it installs.
            var version = Version(client);
            foreach (var (id, range) in dependencies.Where(d => d.Key.StartsWith("Flame.", StringComparison.Ordinal)))
            {
                Assert.True(range == version, $"Flame.Client {version} should depend on {id} {version}, found {range}");
                Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), $"Flame.Client depends on {id}, which was not packed: is it IsPackable?");
            }
            Assert.True(File.Exists(Path.Combine(feed, $"Flame.Client.{version}.snupkg")), "Flame.Client's symbols should ship as a .snupkg");
            AssertHasReadme(Package(feed, "Flame.Service"));

            // Only the folder as a source: nothing is fetched from a registry.
            var config = Path.Combine(work.FullName, "nuget.config");
            await File.WriteAllTextAsync(config,
                $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="packed" value="{feed}" /></packageSources></configuration>""");
            var toolPath = Path.Combine(work.FullName, "tools");
            foreach (var tool in new[] { "flmctl", "flmping" })
            {
                var install = await ExternalCommand.RunAsync("dotnet",
                    ["tool", "install", tool, "--tool-path", toolPath, "--configfile", config, "--version", Version(Package(feed, tool))],
                    TimeSpan.FromMinutes(2), "the .NET SDK is needed");
                Assert.True(install.ExitCode == 0, $"dotnet tool install {tool} should succeed{install}");
                var help = await ExternalCommand.RunAsync(Path.Combine(toolPath, tool), ["--help"], TimeSpan.FromMinutes(1), "the tool was installed");
                Assert.True(help.ExitCode == 0 && help.StandardOutput.Any(l => l.StartsWith("Usage:", StringComparison.Ordinal)),
                    $"the installed {tool} --help should print its usage and exit 0{help}");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The packed projects: the libraries with every project they reference, and the tools.</summary>
    private static string WriteSolutionFilter(string folder)
    {
        var root = ExternalCommand.RepositoryRoot;
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(Libraries.Select(p => Path.Combine(root, p)));
        while (pending.TryPop(out var project))
        {
            if (!projects.Add(Path.GetRelativePath(root, project).Replace('\\', '/')))
                continue;
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
        }
        projects.UnionWith(Tools);
        var filter = Path.Combine(folder, "packages.slnf");
        File.WriteAllText(filter, JsonSerializer.Serialize(new { solution = new { path = Path.Combine(root, "Flame.Orleans.sln"), projects } }));
        return filter;
    }

    private static string Package(string feed, string id)
    {
        // The version is git's (MinVer), so the file is found by its id: "flmctl.0.0.0-alpha.0.12.nupkg".
        var matches = Directory.GetFiles(feed, $"{id}.*.nupkg")
            .Where(f => char.IsDigit(Path.GetFileName(f)[id.Length + 1]))
            .ToList();
        Assert.True(matches.Count == 1, $"expected one {id} package in {feed}, found: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
        return matches[0];
    }

    private static XElement Metadata(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Version(string package) => Value(Metadata(package), "version");

    private static Dictionary<string, string> Dependencies(string package) =>
        Metadata(package).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);

    private static void AssertHasReadme(string package)
    {
        var metadata = Metadata(package);
        foreach (var key in new[] { "description", "license", "repository" })
            Value(metadata, key);
        var readme = Value(metadata, "readme");
        using var zip = ZipFile.OpenRead(package);
        Assert.True(zip.GetEntry(readme) is { Length: > 0 }, $"{Path.GetFileName(package)} names the readme {readme} but does not contain it");
    }

    private static string Value(XElement metadata, string name)
    {
        var element = metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);
        Assert.True(element is not null && (element.Value.Length > 0 || element.HasAttributes), $"the .nuspec should have a {name}: {metadata}");
        return element.Value;
    }
}
