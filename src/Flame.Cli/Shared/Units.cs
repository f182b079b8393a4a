using System.Globalization;
using System.Text;

namespace Flame.Cli;

/// <summary>Numbers, sizes and times the way people read them.</summary>
public static class Units
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>Bytes in binary units: "512 B", "1.5 KiB", "3.2 GiB".</summary>
    public static string Bytes(ulong bytes)
    {
        if (bytes < 1024)
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < ByteUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var text = value >= 100 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.#", CultureInfo.InvariantCulture);
        return $"{text} {ByteUnits[unit]}";
    }

    /// <summary>CPU in whole cores (the wire's unit, as Flame's): "4".</summary>
    public static string Cpu(ulong cores) => cores.ToString(CultureInfo.InvariantCulture);

    /// <summary>Unix epoch milliseconds as local time "yyyy-MM-dd HH:mm:ss"; "-" for 0.</summary>
    public static string LocalTime(long epochMs, TimeZoneInfo? zone = null)
    {
        if (epochMs <= 0)
            return "-";
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(epochMs);
        var local = TimeZoneInfo.ConvertTime(utc, zone ?? TimeZoneInfo.Local);
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    /// <summary>Unix epoch milliseconds as ISO 8601 UTC, e.g. "2026-11-29T18:06:58.123Z" (for json and yaml).</summary>
    public static string IsoTime(long epochMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>How long ago <paramref name="epochMs"/> was: "5s ago", "3m ago", "2h ago", "4d ago"; "never" for 0.</summary>
    public static string Ago(long epochMs, DateTimeOffset now)
    {
        if (epochMs <= 0)
            return "never";
        var span = now - DateTimeOffset.FromUnixTimeMilliseconds(epochMs);
        if (span < TimeSpan.Zero)
            span = TimeSpan.Zero;
        return Duration(span) + " ago";
    }

    /// <summary>A duration in its largest whole unit: "850ms", "5s", "3m", "2h", "4d".</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 1 ? $"{(long)span.TotalMilliseconds}ms"
        : span.TotalMinutes < 1 ? $"{(long)span.TotalSeconds}s"
        : span.TotalHours < 1 ? $"{(long)span.TotalMinutes}m"
        : span.TotalDays < 1 ? $"{(long)span.TotalHours}h"
        : $"{(long)span.TotalDays}d";

    /// <summary>The bytes as text when they are valid UTF-8 without control characters (other than tab and newlines), else null.</summary>
    public static string? PrintableText(byte[]? bytes)
    {
        if (bytes is null || bytes.Length == 0)
            return null;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        foreach (var c in text)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
                return null;
        }
        return text;
    }
}
