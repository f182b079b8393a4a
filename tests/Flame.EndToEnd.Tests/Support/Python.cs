namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// Python for the services and clients written like Flame's own (samples/python, samples/echo-python,
/// samples/Pi/python): an interpreter with grpcio and protobuf (Debian's python3-grpcio and python3-protobuf, which
/// .ci/run installs), and the flame.v1 modules generated from protos/ into a folder of the test's.
/// </summary>
public static class Python
{
    /// <summary>Where the interpreter is looked for, in order: <c>FLAME_TEST_PYTHON</c>, Debian's, the PATH's.</summary>
    private static readonly string[] Candidates =
        [.. new[] { Environment.GetEnvironmentVariable("FLAME_TEST_PYTHON"), "/usr/bin/python3", "python3" }.OfType<string>().Where(c => c.Length > 0)];

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<Task<string>> Found = new(FindAsync);

    /// <summary>The first interpreter of <see cref="Candidates"/> that imports grpc and google.protobuf.</summary>
    public static Task<string> InterpreterAsync() => Found.Value;

    /// <summary>The absolute path of a file under samples/.</summary>
    public static string Sample(params string[] path) => Path.Combine([ExternalCommand.RepositoryRoot, "samples", .. path]);

    /// <summary>
    /// Generates the flame.v1 modules into <paramref name="directory"/> (samples/python/flame_protos.py), for
    /// services and clients started with <c>FLAME_PY_STUBS</c> set to it: each then imports them as they are.
    /// </summary>
    public static async Task GenerateModulesAsync(string directory)
    {
        var python = await InterpreterAsync();
        var generated = await ExternalCommand.RunAsync(python, [Sample("python", "flame_protos.py"), directory], CommandTimeout, MissingHint);
        Assert.True(generated.ExitCode == 0, $"expected the flame.v1 Python modules to be generated{generated}");
    }

    private const string MissingHint =
        "the Python tests need python3 with grpcio and protobuf, and protoc with grpc_python_plugin "
        + "(Debian: python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc; .ci/run installs them)";

    private static async Task<string> FindAsync()
    {
        var seen = new List<string>();
        foreach (var candidate in Candidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                seen.Add($"{candidate}: absent");
                continue;
            }
            var probe = await ExternalCommand.RunAsync(candidate, ["-c", "import grpc, google.protobuf"], CommandTimeout, MissingHint);
            if (probe.ExitCode == 0)
                return candidate;
            seen.Add($"{candidate}: {probe.StandardError.LastOrDefault() ?? $"exit code {probe.ExitCode}"}");
        }
        Assert.Fail($"no Python interpreter imports grpc and google.protobuf ({string.Join("; ", seen)}): {MissingHint}");
        return "";
    }
}
