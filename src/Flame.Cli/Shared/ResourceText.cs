using System.Globalization;

namespace Flame.Cli;

/// <summary>
/// Flame's text forms of resources, as <c>flmctl create -r</c> and <c>flmping -r</c> / <c>-m</c> take them.
/// A resource requirement is comma-separated <c>key=value</c> entries, keys in any case: <c>cpu</c> (whole cores),
/// <c>mem</c> or <c>memory</c> (a size), <c>gpu</c> (a count); a missing key is 0. A size is a whole number with an
/// optional binary unit in any case: <c>k</c>/<c>kb</c>/<c>ki</c>/<c>kib</c> = 1024, likewise <c>m</c>, <c>g</c>,
/// <c>t</c>, <c>p</c>; <c>b</c> or none = bytes. So <c>cpu=1,mem=1g</c> is 1 core and 1,073,741,824 bytes.
/// </summary>
public static class ResourceText
{
    /// <summary>Parses a resource requirement; <paramref name="option"/> names the option in the error.</summary>
    /// <exception cref="CliUsageException">The text breaks the grammar: empty, an empty entry, a missing value, a second '=', an unknown key.</exception>
    public static ResourceRequirement ParseRequirement(string text, string option)
    {
        CliUsageException Error(string problem) =>
            new($"{option}: '{text}' {problem}; give e.g. cpu=1,mem=1g,gpu=0");

        if (string.IsNullOrWhiteSpace(text))
            throw Error("is empty");
        var result = new ResourceRequirement();
        foreach (var entry in text.Split(','))
        {
            var parts = entry.Split('=');
            if (entry.Trim().Length == 0)
                throw Error("has an empty entry");
            if (parts.Length != 2 || parts[1].Trim().Length == 0)
                throw Error($"has an entry '{entry.Trim()}' that is not key=value");
            var value = parts[1].Trim();
            switch (parts[0].Trim().ToLowerInvariant())
            {
                case "cpu":
                    result = result with
                    {
                        Cpu = ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var cpu) ? cpu : throw Error($"has cpu '{value}', not a whole number of cores"),
                    };
                    break;
                case "mem" or "memory":
                    result = result with { Memory = TryParseSize(value, out var bytes) ? bytes : throw Error($"has memory '{value}', not a size like 512m or 4g") };
                    break;
                case "gpu":
                    result = result with
                    {
                        Gpu = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var gpu) ? gpu : throw Error($"has gpu '{value}', not a whole number"),
                    };
                    break;
                default:
                    throw Error($"has an unknown key '{parts[0].Trim()}' (known: cpu, mem, memory, gpu)");
            }
        }
        return result;
    }

    /// <summary>Parses a size such as <c>10MB</c>, <c>512k</c> or <c>1048576</c> into bytes.</summary>
    public static bool TryParseSize(string text, out ulong bytes)
    {
        bytes = 0;
        text = text.Trim();
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            digits++;
        if (digits == 0 || !ulong.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return false;
        int power = text[digits..].ToLowerInvariant() switch
        {
            "" or "b" => 0,
            "k" or "kb" or "ki" or "kib" => 1,
            "m" or "mb" or "mi" or "mib" => 2,
            "g" or "gb" or "gi" or "gib" => 3,
            "t" or "tb" or "ti" or "tib" => 4,
            "p" or "pb" or "pi" or "pib" => 5,
            _ => -1,
        };
        if (power < 0)
            return false;
        var scale = 1UL << (10 * power);
        if (number > ulong.MaxValue / scale)
            return false;
        bytes = number * scale;
        return true;
    }
}
