using System.CommandLine;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.Wire;

namespace Flame.Cli.Control;

/// <summary>
/// <c>flmctl token create|list|revoke</c>: the gateway's access tokens (flame.v1.SecurityExt, admin only).
/// <c>create</c> prints the token alone on one line, so that scripts can write it to a file; nothing else ever shows a secret.
/// </summary>
internal static class TokenCommand
{
    public static Command Command(TextWriter stdout,
        Func<Command, Func<ParseResult, FlameConnection, CancellationToken, Task<int>>, Command> connected)
    {
        var token = new Command("token", "Issues, lists and revokes access tokens (admin only)");

        var name = new Option<string>("--name") { Description = "The token's unique name: the caller's name in audit lines and the owner of its sessions", Required = true };
        var role = new Option<string>("--role") { Description = "What it may do: admin, user or node", Required = true };
        role.AcceptOnlyFromAmong("admin", "user", "node");
        var node = new Option<string?>("--node") { Description = "For --role node: the node name it may act for (required)" };
        var create = new Command("create", "Issues a token and prints it alone on one line (it is never shown again)") { name, role, node };
        token.Subcommands.Add(connected(create, async (parse, connection, ct) =>
        {
            var roleValue = parse.GetValue(role)!;
            var nodeValue = parse.GetValue(node);
            if (roleValue == "node" && string.IsNullOrEmpty(nodeValue))
                throw new CliUsageException("--role node needs --node NODE: a node token is bound to one node");
            if (roleValue != "node" && !string.IsNullOrEmpty(nodeValue))
                throw new CliUsageException($"--node is for --role node only; a {roleValue} token is bound to no node");
            var reply = await CallAsync(connection, (client, c) => client.CreateTokenAsync(
                new V1.CreateTokenRequest { Name = parse.GetValue(name)!, Role = roleValue, Node = nodeValue ?? "" }, cancellationToken: c).ResponseAsync, ct);
            stdout.WriteLine(reply.Token);
            return 0;
        }));

        var list = new Command("list", "Lists the tokens: name, role, node, creation time (never their secrets)");
        token.Subcommands.Add(connected(list, async (parse, connection, ct) =>
        {
            var reply = await CallAsync(connection, (client, c) => client.ListTokensAsync(new V1.ListTokensRequest(), cancellationToken: c).ResponseAsync, ct);
            var table = new Table("NAME", "ROLE", "NODE", "CREATED");
            foreach (var t in reply.Tokens)
                table.Add(t.Name, t.Role, t.Node.Length > 0 ? t.Node : null, Units.LocalTime(t.CreationTime));
            table.WriteTo(stdout);
            return 0;
        }));

        var revokeName = new Argument<string>("NAME") { Description = "The token to revoke" };
        var revoke = new Command("revoke", "Revokes a token: every gateway refuses it within about a second") { revokeName };
        token.Subcommands.Add(connected(revoke, async (parse, connection, ct) =>
        {
            var revoked = parse.GetValue(revokeName)!;
            await CallAsync(connection, (client, c) => client.RevokeTokenAsync(new V1.RevokeTokenRequest { Name = revoked }, cancellationToken: c).ResponseAsync, ct);
            stdout.WriteLine($"token {revoked} revoked");
            return 0;
        }));
        return token;
    }

    private static async Task<T> CallAsync<T>(FlameConnection connection, Func<V1.SecurityExt.SecurityExtClient, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var channel = GrpcFlameClient.CreateChannel(connection);
        try
        {
            return await call(new V1.SecurityExt.SecurityExtClient(channel), ct);
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unimplemented)
        {
            throw new FlameException(FlameErrorKind.Internal, "the gateway does not serve flame.v1.SecurityExt (a server older than this flmctl?)");
        }
        catch (Grpc.Core.RpcException ex)
        {
            throw FlameStatus.FromRpcException(ex);
        }
    }
}
