using Flame.Client.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flame.Client.Tests;

/// <summary>
/// Where the client finds its CA and its token (FLAME_CA_FILE, FLAME_TOKEN, FLAME_TOKEN_FILE, flame.yaml, an explicit
/// file), what it says about a bad token file, and that the token reaches the server as authorization: Bearer.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flame-client-credentials-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private string Config(string tokenFile, string caFile) => Write("flame.yaml", $"""
        current-context: secured
        contexts:
          - name: secured
            cluster:
              endpoint: https://127.0.0.1:9443
              tls:
                ca_file: {caFile}
              token_file: {tokenFile}
        """);

    [Fact]
    public void Token_IsTakenFromTheOptionThenFlameTokenThenFlameTokenFileThenTheContext()
    {
        var ca = Write("ca.pem", "not read here");
        var config = Config(Write("context-token", "from-context\n"), ca);
        var envFile = Write("env-token", "from-env-file\n");
        var optionFile = Write("option-token", "from-option\n");

        string? Token(string? option, params (string, string)[] env) =>
            FlameClientConfig.ResolveConnection(environment: Env([(FlameClientConfig.FileVariable, config), .. env]), tokenFile: option).Token;

        Assert.Equal("from-context", Token(null));
        Assert.Equal("from-env-file", Token(null, (FlameClientConfig.TokenFileVariable, envFile)));
        Assert.Equal("from-env", Token(null, (FlameClientConfig.TokenFileVariable, envFile), (FlameClientConfig.TokenVariable, "from-env")));
        Assert.Equal("from-option", Token(optionFile, (FlameClientConfig.TokenVariable, "from-env")));
    }

    [Fact]
    public void FlameCaFile_IsUsedOnlyWhereTheContextSetsNoCaFile_AsInFlamesSdks()
    {
        var contextCa = Write("context-ca.pem", "x");
        var withCa = Config(Write("token", "t"), contextCa);
        var withoutCa = Write("no-ca.yaml", """
            current-context: plain
            contexts:
              - name: plain
                cluster:
                  endpoint: https://127.0.0.1:9443
            """);
        var envCa = Write("env-ca.pem", "y");

        string? CaFile(string config) => FlameClientConfig.ResolveConnection(environment: Env(
            (FlameClientConfig.FileVariable, config), (FlameClientConfig.CaFileVariable, envCa))).CaFile;

        Assert.Equal(contextCa, CaFile(withCa));
        Assert.Equal(envCa, CaFile(withoutCa));
    }

    [Fact]
    public void TokenFile_ThatIsMissingOrEmpty_IsRefusedInOneLineNamingIt()
    {
        var missing = Path.Combine(_dir, "nope");
        var empty = Write("empty", "\n");

        var noFile = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.ResolveConnection(
            environment: Env((FlameClientConfig.TokenFileVariable, missing), (FlameClientConfig.EndpointVariable, "http://127.0.0.1:1"))));
        var noToken = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.ResolveConnection(
            environment: Env((FlameClientConfig.EndpointVariable, "http://127.0.0.1:1")), tokenFile: empty));

        Assert.Equal($"FLAME_TOKEN_FILE: the token file '{missing}' does not exist", noFile.Message);
        Assert.Equal($"--token-file: the token file '{empty}' is empty", noToken.Message);
    }

    [Fact]
    public void TokenFile_ThatOthersMayRead_IsUsedWithAWarning()
    {
        var loose = Write("loose", "tok", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var tight = Write("tight", "tok");

        var looseConnection = FlameClientConfig.ResolveConnection(environment: Env((FlameClientConfig.EndpointVariable, "http://127.0.0.1:1")), tokenFile: loose);
        var tightConnection = FlameClientConfig.ResolveConnection(environment: Env((FlameClientConfig.EndpointVariable, "http://127.0.0.1:1")), tokenFile: tight);

        Assert.Equal("tok", looseConnection.Token);
        Assert.Equal($"--token-file: the token file '{loose}' can be read by group or others; chmod 600 it", looseConnection.Warning);
        Assert.Null(tightConnection.Warning);
        Assert.DoesNotContain("tok", looseConnection.ToString().Replace("token", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Token_IsSentAsBearerAuthorization_OnEveryCall_OverPlaintext()
    {
        // A bare HTTP/2 server that records the header and answers every call UNIMPLEMENTED: only what the client sent matters.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, l => l.Protocols = HttpProtocols.Http2));
        await using var server = builder.Build();
        server.Run(context =>
        {
            seen.Enqueue(context.Request.Headers.Authorization.ToString());
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "12");
            return Task.CompletedTask;
        });
        await server.StartAsync();

        var connection = new FlameConnection([new Uri($"http://localhost:{port}")], null, "test") { Token = "s3cret" };
        await using var client = new GrpcFlameClient(connection);
        await Assert.ThrowsAsync<FlameException>(() => client.GetSessionAsync("a"));
        await Assert.ThrowsAsync<FlameException>(() => client.GetApplicationAsync("b"));

        Assert.Equal(["Bearer s3cret", "Bearer s3cret"], seen.ToArray());
    }
}
