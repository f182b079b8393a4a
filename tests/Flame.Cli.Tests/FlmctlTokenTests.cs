using Flame.Cli.Control;
using Flame.Client;
using Flame.Client.Configuration;

namespace Flame.Cli.Tests;

/// <summary>flmctl token create|list|revoke against a real gateway (loopback: the anonymous caller is admin).</summary>
[Collection(GatewayCollection.Name)]
public sealed class FlmctlTokenTests(GatewayFixture gateway)
{
    private sealed record Result(int Code, string Out, string Err);

    private async Task<Result> Run(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Flmctl.RunAsync([.. args, "--endpoint", gateway.Endpoint], stdout, stderr, color: false);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    private GrpcFlameClient ClientWith(string token) =>
        new(new FlameConnection([new Uri(gateway.Endpoint)], null, "test") { Token = token });

    private static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task TokenCreate_PrintsTheTokenAloneOnOneLine_AndTheTokenCarriesItsRole()
    {
        var name = UniqueName("alice");
        var created = await Run("token", "create", "--name", name, "--role", "user");
        Assert.Equal((0, ""), (created.Code, created.Err));
        var token = created.Out.TrimEnd('\n');
        Assert.DoesNotContain('\n', token);
        Assert.StartsWith(TokenSecrets.Prefix, token);

        await using var client = ClientWith(token);
        var error = await Assert.ThrowsAsync<FlameException>(() =>
            client.RegisterApplicationAsync(UniqueName("evil"), new ApplicationSpec { Command = "/usr/bin/touch" }));
        Assert.Equal(FlameErrorKind.PermissionDenied, error.Kind);
        Assert.Equal($"user '{name}' may not RegisterApplication (admin only)", error.Message);
    }

    [Fact]
    public async Task TokenList_ShowsNameRoleAndNode_NeverTheSecret()
    {
        var name = UniqueName("em");
        var token = (await Run("token", "create", "--name", name, "--role", "node", "--node", "em-7")).Out.Trim();

        var list = await Run("token", "list");
        Assert.Equal(0, list.Code);
        var line = Assert.Single(list.Out.Split('\n'), l => l.StartsWith(name + " ", StringComparison.Ordinal));
        Assert.Matches($@"^{name}\s+node\s+em-7\s+\d{{4}}-", line);
        Assert.DoesNotContain(token, list.Out);
    }

    [Fact]
    public async Task TokenRevoke_MakesTheGatewayRefuseTheToken()
    {
        var name = UniqueName("bob");
        var token = (await Run("token", "create", "--name", name, "--role", "user")).Out.Trim();
        await using var client = ClientWith(token);
        await client.ListSessionsAsync().ToListAsync();

        var revoked = await Run("token", "revoke", name);
        Assert.Equal((0, $"token {name} revoked"), (revoked.Code, revoked.Out.Trim()));

        var error = await Assert.ThrowsAsync<FlameException>(async () => await client.ListSessionsAsync().ToListAsync());
        Assert.Equal(FlameErrorKind.Unauthenticated, error.Kind);
        Assert.Equal("invalid or revoked token", error.Message);
    }

    [Fact]
    public async Task TokenCreate_OfANodeWithoutItsNode_IsAUsageErrorInOneLine()
    {
        var result = await Run("token", "create", "--name", UniqueName("em"), "--role", "node");
        Assert.Equal((2, ""), (result.Code, result.Out));
        Assert.Equal("flmctl: --role node needs --node NODE: a node token is bound to one node", result.Err.Trim());
    }

    [Fact]
    public async Task TokenCreate_WithATakenName_FailsInOneLine()
    {
        var name = UniqueName("dup");
        Assert.Equal(0, (await Run("token", "create", "--name", name, "--role", "admin")).Code);
        var again = await Run("token", "create", "--name", name, "--role", "admin");
        Assert.Equal((1, ""), (again.Code, again.Out));
        Assert.Equal($"flmctl: token '{name}' already exists", again.Err.Trim());
    }
}
