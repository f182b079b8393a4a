using System.CommandLine;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.ObjectCache;

namespace Flame.Cli.Control;

/// <summary>An object of the cache, as <c>object list -o json|yaml</c> prints it.</summary>
public sealed record ObjectDocument(string Key, string Application, string Session, string Id, long Size);

/// <summary>One object, as <c>object view KEY -o json|yaml</c> prints it.</summary>
public sealed record ObjectDetailDocument(
    string Key, long Version, long BaseVersion, int Patches, long? Size, string Format, long Rows, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// <c>flmctl object list|view|delete</c>: the objects of Flame's object cache, through <see cref="ObjectCacheClient"/> (Arrow
/// Flight) at the cache's endpoint: <c>--cache-endpoint</c>, else <c>FLAME_CACHE_ENDPOINT</c>, else the context's
/// <c>cache.endpoint</c> in the client configuration file, else <see cref="ObjectCacheClient.DefaultEndpoint"/>, as Flame's
/// clients find it.
/// </summary>
internal static class ObjectCommand
{
    private const string Help = "The object cache, e.g. grpc://127.0.0.1:9090 (default: $FLAME_CACHE_ENDPOINT, else the context's cache.endpoint, else "
        + ObjectCacheClient.DefaultEndpoint + ")";

    public static Command Command(TextWriter stdout, TextWriter stderr, bool color, Option<string?> context, Option<string?> config, Option<int> timeout)
    {
        var endpoint = new Option<string?>("--cache-endpoint") { Description = Help, HelpName = "URI", Recursive = true };
        var command = new Command("object", "Lists, shows and deletes the objects of the object cache") { endpoint };

        Command Bind(Command sub, Func<ParseResult, ObjectCacheClient, CancellationToken, Task<int>> body)
        {
            sub.SetAction((parse, ct) => CliErrors.RunAsync("flmctl", stderr, async () =>
            {
                var cache = Resolve(parse.GetValue(endpoint), parse.GetValue(context), parse.GetValue(config), stderr);
                using var client = new ObjectCacheClient(cache);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
                try
                {
                    return await body(parse, client, deadline.Token);
                }
                catch (ArgumentException ex) when (ex.ParamName == "endpoint")
                {
                    throw new CliUsageException($"--cache-endpoint '{cache}' is not a cache endpoint: use grpc://, grpc+tls:// or grpcs://");
                }
                catch (Grpc.Core.RpcException ex) when (ex.StatusCode is Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded
                                                        || (ex.StatusCode == Grpc.Core.StatusCode.Cancelled && deadline.IsCancellationRequested))
                {
                    throw new FlameException(FlameErrorKind.Unavailable, $"the object cache {cache}: {ex.Status.Detail}");
                }
            }));
            return sub;
        }

        command.Subcommands.Add(List(stdout, color, Bind));
        command.Subcommands.Add(View(stdout, Bind));
        command.Subcommands.Add(Delete(stdout, Bind));
        return command;
    }

    /// <summary>The cache's endpoint, by Flame's precedence (the environment wins over the file).</summary>
    internal static string Resolve(string? given, string? context, string? configFile, TextWriter stderr)
    {
        if (!string.IsNullOrWhiteSpace(given))
            return given;
        if (Environment.GetEnvironmentVariable(ObjectCacheClient.EndpointVariable) is { Length: > 0 } fromEnv)
            return fromEnv;
        var file = FlameClientConfig.Load(configFile);
        foreach (var line in file.Warnings)
            stderr.WriteLine($"flmctl: warning: {line}");
        var name = !string.IsNullOrWhiteSpace(context) ? context
            : Environment.GetEnvironmentVariable(FlameClientConfig.ContextVariable) is { Length: > 0 } fromEnvContext ? fromEnvContext
            : file.CurrentContext;
        if (name is null)
            return ObjectCacheClient.DefaultEndpoint;
        var chosen = file.Contexts.FirstOrDefault(c => c.Name == name)
            ?? throw new FlameClientConfigurationException($"context '{name}' is not in {file.Path}");
        return chosen.CacheEndpoint ?? ObjectCacheClient.DefaultEndpoint;
    }

    private static Command List(TextWriter stdout, bool color, Func<Command, Func<ParseResult, ObjectCacheClient, CancellationToken, Task<int>>, Command> bind)
    {
        var app = new Option<string?>("--app", "--application", "-a") { Description = "Only the objects of this application", HelpName = "NAME" };
        var session = new Option<string?>("--session", "-s") { Description = "Only the objects of this session", HelpName = "ID" };
        var output = Output();
        var command = new Command("list", "Lists the cache's objects: key, application, session, id and size") { app, session, output };
        return bind(command, async (parse, client, ct) =>
        {
            var (a, s) = (Component(parse.GetValue(app), "--app"), Component(parse.GetValue(session), "--session"));
            var objects = (await client.ListObjectsAsync(ct))
                .Select(o => (o.Key, Parts: o.Key.Split('/'), o.Bytes))
                .Where(o => o.Parts.Length == 3 && (a is null || o.Parts[0] == a) && (s is null || o.Parts[1] == s))
                .OrderBy(o => o.Key, StringComparer.Ordinal)
                .Select(o => new ObjectDocument(o.Key, o.Parts[0], o.Parts[1], o.Parts[2], o.Bytes))
                .ToList();
            Flmctl.Print(stdout, parse.GetValue(output)!, objects, w =>
            {
                var table = new Table("KEY", "APPLICATION", "SESSION", "SIZE") { Color = color };
                foreach (var o in objects)
                    table.Add(o.Key, o.Application, o.Session, Units.Bytes((ulong)Math.Max(0, o.Size)));
                table.WriteTo(w);
            });
            return 0;
        });
    }

    private static Command View(TextWriter stdout, Func<Command, Func<ParseResult, ObjectCacheClient, CancellationToken, Task<int>>, Command> bind)
    {
        var key = new Argument<string>("KEY") { Description = "The object's key: app/session/object_id" };
        var output = Output();
        var command = new Command("view", "Shows one object: its version, patches, size and metadata") { key, output };
        return bind(command, async (parse, client, ct) =>
        {
            var k = parse.GetValue(key)!;
            if (ObjectKeys.Classify(k, forWrite: false) != ObjectKeyKind.Full)
                throw new CliUsageException($"object view: '{k}' is not a key: give app/session/object_id");
            var described = await client.DescribeObjectAsync(k, ct);
            // The size the server counts, as the list shows it; absent if the object went meanwhile.
            var size = (await client.ListObjectsAsync(ct)).Where(o => o.Key == k).Select(o => (long?)o.Bytes).FirstOrDefault();
            var document = new ObjectDetailDocument(k, described.Version, described.BaseVersion, described.Patches, size,
                described.Native ? "arrow-table" : "opaque", described.Rows, described.Metadata);
            Flmctl.Print(stdout, parse.GetValue(output)!, document, w =>
            {
                var table = new Table("KEY", "VERSION", "BASE VERSION", "PATCHES", "SIZE", "FORMAT", "ROWS")
                    .Add(k, document.Version.ToString(), document.BaseVersion.ToString(), document.Patches.ToString(),
                        size is { } n ? Units.Bytes((ulong)Math.Max(0, n)) : null, document.Format, document.Rows.ToString());
                table.WriteTo(w);
                foreach (var (name, value) in document.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                    w.WriteLine($"{name}: {value}");
            });
            return 0;
        });
    }

    private static Command Delete(TextWriter stdout, Func<Command, Func<ParseResult, ObjectCacheClient, CancellationToken, Task<int>>, Command> bind)
    {
        var key = new Argument<string?>("KEY") { Description = "An object (app/session/object_id), a session's (app/session) or an application's (app/*)", Arity = ArgumentArity.ZeroOrOne };
        var app = new Option<string?>("--app", "--application", "-a") { Description = "Every object of this application (with --session: of that session)", HelpName = "NAME" };
        var session = new Option<string?>("--session", "-s") { Description = "Every object of this session", HelpName = "ID" };
        var command = new Command("delete", "Deletes an object, a session's objects or an application's") { key, app, session };
        return bind(command, async (parse, client, ct) =>
        {
            var (k, a, s) = (parse.GetValue(key), Component(parse.GetValue(app), "--app"), Component(parse.GetValue(session), "--session"));
            if (k is not null && (a is not null || s is not null))
                throw new CliUsageException("object delete: give a KEY or --app/--session, not both");
            if (k is not null)
            {
                if (ObjectKeys.DeleteTarget(k) is null)
                    throw new CliUsageException($"object delete: '{k}' is not app/session/object_id, app/session or app/*");
                await client.DeleteObjectsAsync(k, ct);
                stdout.WriteLine($"objects {k} deleted");
                return 0;
            }
            if (a is null && s is null)
                throw new CliUsageException("object delete: give a KEY, --session ID or --app NAME");
            // A session id names one session: without --app, its objects are under whichever application holds them.
            var targets = a is not null
                ? [s is null ? a + "/*" : $"{a}/{s}"]
                : (await client.ListObjectsAsync(ct)).Select(o => o.Key.Split('/')).Where(p => p.Length == 3 && p[1] == s)
                    .Select(p => $"{p[0]}/{s}").Distinct().ToList();
            foreach (var target in targets)
                await client.DeleteObjectsAsync(target, ct);
            stdout.WriteLine(s is null ? $"objects of application {a} deleted" : $"objects of session {s} deleted");
            return 0;
        });
    }

    private static Option<string> Output()
    {
        var output = new Option<string>("--output", "-o") { Description = "Output format", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json", "yaml");
        return output;
    }

    /// <summary>An application or session as one key component, or a usage error.</summary>
    private static string? Component(string? value, string option) =>
        value is null || (ObjectKeys.IsValidComponent(value) && value != "*" && !value.Contains('/'))
            ? value
            : throw new CliUsageException($"{option} '{value}' cannot be part of an object key (empty, or holding '/', '*', '..' or '\\')");
}
