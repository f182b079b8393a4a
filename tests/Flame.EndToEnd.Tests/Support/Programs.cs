using System.Reflection;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>The programs under test, built by the project references.</summary>
public static class Programs
{
    public const string SessionManager = "flame-session-manager";
    public const string ExecutorManager = "flame-executor-manager";
    public const string TestService = "flame-test-service";
    public const string Flmping = "flmping";

    /// <summary>The .NET host that runs the tests (set by the SDK for dotnet test), else dotnet on the PATH.</summary>
    public static string DotnetHost { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// The absolute path of <paramref name="program"/>'s dll: in the test output folder, except for the programs
    /// that run from their own output folder (the executor manager and flmping; see the project file for why).
    /// </summary>
    public static string PathOf(string program)
    {
        var path = typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == program)?.Value
            ?? Path.Combine(AppContext.BaseDirectory, program + ".dll");
        Assert.True(File.Exists(path), $"expected the program {path}: the project reference should have built it there");
        return path;
    }
}
