using System.Globalization;

namespace Flame.EndToEnd.Tests.Observability;

/// <summary>Reads the Prometheus text a session manager serves at <c>/metrics</c>.</summary>
internal static class Scrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The text of <c>/metrics</c> at <paramref name="address"/>.</summary>
    public static Task<string> TextAsync(string address) => Http.GetStringAsync(address + "/metrics");

    /// <summary>
    /// The value of the series <paramref name="name"/> whose labels include every one of <paramref name="labels"/>
    /// (<c>state="succeeded"</c>); null when there is none.
    /// </summary>
    public static double? Value(string text, string name, params string[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal))
                continue;
            var close = line.LastIndexOf('}');
            var series = line[..close];
            if (labels.All(l => series.Contains(l, StringComparison.Ordinal)))
                return double.Parse(line[(close + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>The lines of <paramref name="text"/> that start with <paramref name="prefix"/>, for a failure's message.</summary>
    public static string Lines(string text, string prefix) =>
        string.Join("\n", text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)));
}
