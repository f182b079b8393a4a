namespace Flame.Cli;

/// <summary>Where the tools connect: the --endpoint option, else FLAME_ENDPOINT, else Flame's default.</summary>
public static class Endpoints
{
    /// <summary>Flame's default gateway address.</summary>
    public const string Default = "http://127.0.0.1:8080";

    /// <summary>The endpoint to use.</summary>
    public static string Resolve(string? option) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : Environment.GetEnvironmentVariable("FLAME_ENDPOINT") is { Length: > 0 } env ? env
        : Default;
}
