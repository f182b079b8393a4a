using System.Reflection;
using Npgsql;

namespace Flame.SessionManager.Storage;

/// <summary>
/// The versioned schema scripts of <c>deploy/postgres</c>, embedded in this assembly: checks that a database has
/// them, and applies the missing ones (what <c>deploy/postgres/apply.sh</c> does, without psql).
/// </summary>
public static class PostgresSchema
{
    private const string Prefix = "Flame.Schema.Postgres.";

    /// <summary>The scripts, by version, in order.</summary>
    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts { get; } = Load();

    /// <summary>
    /// Applies each script whose version is not recorded in <c>flame_schema_migrations</c>; returns their names.
    /// Scripts take an advisory lock, so silos starting together apply each script once.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var applied = await AppliedVersionsAsync(connection, cancellationToken);
        var done = new List<string>();
        foreach (var (version, name, sql) in Scripts)
        {
            if (applied.Contains(version))
                continue;
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
            await command.ExecuteNonQueryAsync(cancellationToken);
            done.Add(name);
        }
        return done;
    }

    /// <summary>The versions a database lacks (all of them for an empty database).</summary>
    public static async Task<IReadOnlyList<string>> MissingAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var applied = await AppliedVersionsAsync(connection, cancellationToken);
        return [.. Scripts.Where(s => !applied.Contains(s.Version)).Select(s => s.Name)];
    }

    private static async Task<HashSet<int>> AppliedVersionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('flame_schema_migrations') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
                return versions;
        }
        await using var command = new NpgsqlCommand("SELECT version FROM flame_schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            versions.Add(reader.GetInt32(0));
        return versions;
    }

    private static List<(int, string, string)> Load()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var scripts = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[Prefix.Length..];
            var digits = new string(name.TakeWhile(char.IsAsciiDigit).ToArray());
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add((int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), name, reader.ReadToEnd()));
        }
        if (scripts.Count == 0)
            throw new InvalidOperationException($"no embedded schema scripts in {assembly.GetName().Name}: the build did not embed deploy/postgres/*.sql");
        return scripts;
    }
}
