using System.Globalization;

namespace Flame.ObjectCache.Hosting;

/// <summary>Flame's size notation (<c>cache.eviction.max_memory</c>): a byte count with an optional binary-unit suffix.</summary>
public static class ByteSize
{
    /// <summary>
    /// Parses <c>512</c>, <c>64K</c>, <c>512M</c>, <c>1G</c>, <c>1GiB</c>, <c>2tb</c>…: K/M/G/T/P are powers of 1024 with an
    /// optional <c>B</c> or <c>iB</c>, case-insensitive; a bare number is bytes.
    /// </summary>
    /// <exception cref="FormatException">Not such a size.</exception>
    public static long Parse(string text)
    {
        var s = text.Trim();
        if (s.EndsWith("ib", StringComparison.OrdinalIgnoreCase))
            s = s[..^2];
        else if (s.Length > 1 && s.EndsWith('b') || s.EndsWith('B'))
            s = s[..^1];
        var shift = s.Length == 0 ? -1 : char.ToUpperInvariant(s[^1]) switch
        {
            'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, 'P' => 50, _ => 0,
        };
        if (shift > 0)
            s = s[..^1];
        if (shift < 0 || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > (long.MaxValue >> Math.Max(shift, 0)))
            throw new FormatException($"'{text}' is not a size: use a number of bytes, or one with K, M, G, T or P (binary units), e.g. 512M");
        return number << shift;
    }
}
