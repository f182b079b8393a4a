using System.Globalization;

namespace Flame;

/// <summary>
/// Flame's resource requirement strings, as <c>cluster.resreq</c>, <c>flmctl create -r</c> and the SDKs read them:
/// <c>cpu=2,mem=4g,gpu=1</c>.
/// </summary>
/// <remarks>
/// Comma-separated <c>key=value</c> entries, whitespace trimmed, keys case-insensitive: <c>cpu</c> (whole cores),
/// <c>mem</c> or <c>memory</c> (a size), <c>gpu</c> (a count); a key not given is 0. A size is an integer with an optional
/// binary unit, case-insensitive: <c>k</c>/<c>kb</c>/<c>ki</c>/<c>kib</c> = 1024, <c>m…</c> = 1024², <c>g…</c> = 1024³,
/// <c>t…</c> = 1024⁴, <c>p…</c> = 1024⁵, <c>b</c> or none = bytes. An empty string, an empty entry, a missing value, a
/// second <c>=</c> or an unknown key is an error, as in Flame.
/// </remarks>
public static class ResourceRequirements
{
    /// <summary>Flame's default for a session that names none: one core and 1 GiB.</summary>
    public const string FlameDefault = "cpu=1,mem=1g";

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The text is not a resource requirement; the message says what is wrong.</exception>
    public static ResourceRequirement Parse(string text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out ResourceRequirement value, out string error)
    {
        value = new ResourceRequirement();
        error = "";
        if (string.IsNullOrWhiteSpace(text))
            return Fail("a resource requirement is empty; write it like cpu=1,mem=1g,gpu=0", out error);
        ulong cpu = 0, memory = 0;
        var gpu = 0;
        foreach (var rawEntry in text.Split(','))
        {
            var entry = rawEntry.Trim();
            if (entry.Length == 0)
                return Fail($"'{text}' has an empty entry; write it like cpu=1,mem=1g,gpu=0", out error);
            var parts = entry.Split('=');
            if (parts.Length != 2 || parts[1].Trim().Length == 0)
                return Fail($"'{entry}' in '{text}' is not key=value", out error);
            var key = parts[0].Trim().ToLowerInvariant();
            var raw = parts[1].Trim();
            switch (key)
            {
                case "cpu":
                    if (!ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out cpu))
                        return Fail($"cpu '{raw}' in '{text}' is not a whole number of cores", out error);
                    break;
                case "mem" or "memory":
                    if (ParseSize(raw) is not { } bytes)
                        return Fail($"memory '{raw}' in '{text}' is not a size like 512m or 4g", out error);
                    memory = bytes;
                    break;
                case "gpu":
                    if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out gpu))
                        return Fail($"gpu '{raw}' in '{text}' is not a whole number", out error);
                    break;
                default:
                    return Fail($"unknown key '{parts[0].Trim()}' in '{text}'; the keys are cpu, mem (or memory) and gpu", out error);
            }
        }
        value = new ResourceRequirement { Cpu = cpu, Memory = memory, Gpu = gpu };
        return true;
    }

    /// <summary>
    /// <paramref name="value"/> as Flame's flmctl shows it: <c>cpu=1,mem=1Gi,gpu=0</c> (memory in the largest of Gi, Mi,
    /// Ki that divides it, else bytes with B); parsed back by <see cref="Parse"/>.
    /// </summary>
    public static string Format(ResourceRequirement value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return string.Create(CultureInfo.InvariantCulture, $"cpu={value.Cpu},mem={FormatSize(value.Memory)},gpu={value.Gpu}");
    }

    private static string FormatSize(ulong bytes)
    {
        string[] units = ["Gi", "Mi", "Ki"];
        for (var i = 0; i < units.Length; i++)
        {
            var unit = 1UL << (10 * (units.Length - i));
            if (bytes != 0 && bytes % unit == 0)
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / unit}{units[i]}");
        }
        return string.Create(CultureInfo.InvariantCulture, $"{bytes}B");
    }

    /// <summary>
    /// Parses a size as a resource requirement's memory takes it (<c>10MB</c>, <c>512k</c>, <c>1048576</c>; see the
    /// remarks of <see cref="ResourceRequirements"/>) into bytes; null if it is not one or does not fit 64 bits.
    /// </summary>
    public static ulong? ParseSize(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var digits = 0;
        while (digits < raw.Length && char.IsAsciiDigit(raw[digits]))
            digits++;
        if (digits == 0 || !ulong.TryParse(raw.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return null;
        int? shift = raw[digits..].Trim().ToLowerInvariant() switch
        {
            "" or "b" => 0,
            "k" or "kb" or "ki" or "kib" => 10,
            "m" or "mb" or "mi" or "mib" => 20,
            "g" or "gb" or "gi" or "gib" => 30,
            "t" or "tb" or "ti" or "tib" => 40,
            "p" or "pb" or "pi" or "pib" => 50,
            _ => null,
        };
        if (shift is not { } s || (s > 0 && number > ulong.MaxValue >> s))
            return null;
        return number << s;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
