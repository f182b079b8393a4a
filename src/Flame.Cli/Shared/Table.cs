using System.Text;

namespace Flame.Cli;

/// <summary>
/// An aligned text table: upper-case headers, columns separated by two spaces, the last column not padded.
/// With <see cref="Color"/>, a column given a colouring function has its cells wrapped in ANSI colours;
/// widths are always computed on the plain text, so colours never break the alignment.
/// </summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];
    private readonly Dictionary<int, Func<string, string?>> _colors = [];

    /// <summary>Whether to write ANSI colours.</summary>
    public bool Color { get; init; }

    /// <summary>The column headers.</summary>
    public IReadOnlyList<string> Headers { get; } = headers;

    /// <summary>Adds a row; missing cells are empty, null cells are "-".</summary>
    public Table Add(params string?[] cells)
    {
        var row = new string[Headers.Count];
        for (var i = 0; i < row.Length; i++)
            row[i] = i < cells.Length ? cells[i] ?? "-" : "";
        _rows.Add(row);
        return this;
    }

    /// <summary>Colours the cells of <paramref name="column"/> with the ANSI code <paramref name="colorOf"/> returns (null: no colour).</summary>
    public Table ColorColumn(int column, Func<string, string?> colorOf)
    {
        _colors[column] = colorOf;
        return this;
    }

    /// <summary>Writes the table, one line per row after the header line.</summary>
    public void WriteTo(TextWriter writer, string indent = "") => WriteTo(writer, indent, header: true, atLeast: null);

    /// <summary>
    /// Writes the rows, after the header line if <paramref name="header"/>, with columns at least
    /// <paramref name="atLeast"/> wide; returns the widths used. A long list is written this way a piece at a time,
    /// each piece's widths given to the next, so that it is never held whole.
    /// </summary>
    public int[] WriteTo(TextWriter writer, string indent, bool header, int[]? atLeast)
    {
        var widths = new int[Headers.Count];
        for (var i = 0; i < widths.Length; i++)
            widths[i] = Math.Max(Math.Max(Headers[i].Length, atLeast?[i] ?? 0), _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length));
        if (header)
            WriteRow(writer, indent, [.. Headers], widths, header: true);
        foreach (var row in _rows)
            WriteRow(writer, indent, row, widths, header: false);
        return widths;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var writer = new StringWriter();
        WriteTo(writer);
        return writer.ToString();
    }

    private void WriteRow(TextWriter writer, string indent, string[] cells, int[] widths, bool header)
    {
        var line = new StringBuilder(indent);
        for (var i = 0; i < cells.Length; i++)
        {
            var cell = cells[i];
            var last = i == cells.Length - 1;
            var code = !header && Color && _colors.TryGetValue(i, out var colorOf) ? colorOf(cell) : null;
            if (header && Color)
                line.Append(Ansi.Bold);
            else if (code is not null)
                line.Append(code);
            line.Append(cell);
            if ((header && Color) || code is not null)
                line.Append(Ansi.Reset);
            if (!last)
                line.Append(' ', widths[i] - cell.Length + 2);
        }
        writer.WriteLine(line.ToString().TrimEnd());
    }
}

/// <summary>ANSI colour codes and the colours of Flame's states.</summary>
public static class Ansi
{
    public const string Reset = "\u001b[0m";
    public const string Bold = "\u001b[1m";
    public const string Red = "\u001b[31m";
    public const string Green = "\u001b[32m";
    public const string Yellow = "\u001b[33m";
    public const string Blue = "\u001b[34m";
    public const string Gray = "\u001b[90m";

    /// <summary>Whether to colour what goes to the console's stdout: it is a terminal and NO_COLOR is not set.</summary>
    public static bool ConsoleWantsColor() =>
        !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>The colour of a state's name (any of Flame's state enums), or null.</summary>
    public static string? OfState(string state) => state switch
    {
        "Open" or "Enabled" or "Ready" or "Succeed" or "Bound" => Green,
        "Running" or "Binding" or "Unbinding" or "Pending" => Yellow,
        "Failed" or "NotReady" or "Disabled" => Red,
        "Closed" or "Cancelled" or "Released" or "Releasing" or "Unknown" or "Void" => Gray,
        "Idle" => Blue,
        _ => null,
    };
}
