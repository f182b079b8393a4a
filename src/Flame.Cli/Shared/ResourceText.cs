namespace Flame.Cli;

/// <summary>
/// Flame's text forms of resources, as <c>flmctl create -r</c> and <c>flmping -r</c> / <c>-m</c> take them: the grammar
/// of <see cref="ResourceRequirements"/> (one parser for the cluster, the SDK and the CLI), its errors as usage errors.
/// </summary>
public static class ResourceText
{
    /// <summary>Parses a resource requirement; <paramref name="option"/> names the option in the error.</summary>
    /// <exception cref="CliUsageException">The text breaks the grammar: empty, an empty entry, a missing value, a second '=', an unknown key.</exception>
    public static ResourceRequirement ParseRequirement(string text, string option)
    {
        try
        {
            return ResourceRequirements.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new CliUsageException($"{option}: {ex.Message}");
        }
    }

    /// <summary>Parses a size such as <c>10MB</c>, <c>512k</c> or <c>1048576</c> into bytes.</summary>
    public static bool TryParseSize(string text, out ulong bytes)
    {
        var parsed = ResourceRequirements.ParseSize(text.Trim());
        bytes = parsed ?? 0;
        return parsed is not null;
    }
}
