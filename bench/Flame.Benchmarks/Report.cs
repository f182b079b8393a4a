using System.Globalization;

namespace Flame.Benchmarks;

/// <summary>Plain aligned text: one figure per line, label, value, unit.</summary>
internal static class Report
{
    private const int LabelWidth = 44;
    private const int ValueWidth = 14;

    public static void Title(string text)
    {
        Console.WriteLine();
        Console.WriteLine(text);
        Console.WriteLine(new string('-', text.Length));
    }

    public static void Figure(string label, double value, string unit, int decimals = 0) =>
        Console.WriteLine($"  {label.PadRight(LabelWidth)} {Format(value, decimals).PadLeft(ValueWidth)} {unit}".TrimEnd());

    public static void Text(string label, string text) =>
        Console.WriteLine($"  {label.PadRight(LabelWidth)} {text}");

    public static string Format(double value, int decimals = 0) =>
        value.ToString("N" + decimals, CultureInfo.InvariantCulture);

    public static string Mb(long bytes) => Format(bytes / (1024.0 * 1024.0), 1);
}
