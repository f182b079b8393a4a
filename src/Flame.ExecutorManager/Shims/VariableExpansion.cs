using System.Text;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// Flame's <c>${VAR}</c> expansion of an application's command, arguments and environment values (the syntax of the
/// shellexpand crate Flame uses): <c>$NAME</c>, <c>${NAME}</c> and <c>${NAME:-default}</c>, where a name is letters,
/// digits and <c>_</c>, and the default is itself expanded. No <c>~</c>, no command substitution, no quoting: a
/// <c>$</c> that starts no reference is kept as it is.
/// </summary>
internal static class VariableExpansion
{
    /// <summary>
    /// <paramref name="text"/> with every reference whose variable <paramref name="lookup"/> knows replaced by its
    /// value; unknown references stay as written. <paramref name="unknown"/> is the first unknown name, or null.
    /// </summary>
    public static string Expand(string text, Func<string, string?> lookup, out string? unknown)
    {
        unknown = null;
        if (!text.Contains('$', StringComparison.Ordinal))
            return text;
        var result = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                i++;
                continue;
            }
            if (text[i + 1] == '{')
            {
                var end = ClosingBrace(text, i + 2);
                if (end < 0)
                {
                    // An unclosed "${": nothing more to expand.
                    result.Append(text, i, text.Length - i);
                    break;
                }
                var body = text[(i + 2)..end];
                var separator = body.IndexOf(":-", StringComparison.Ordinal);
                var name = separator < 0 ? body : body[..separator];
                if (name.Length > 0 && name.All(IsNameChar))
                {
                    if (lookup(name) is { } value)
                    {
                        result.Append(value);
                    }
                    else if (separator >= 0)
                    {
                        result.Append(Expand(body[(separator + 2)..], lookup, out var inner));
                        unknown ??= inner;
                    }
                    else
                    {
                        unknown ??= name;
                        result.Append(text, i, end + 1 - i);
                    }
                }
                else
                {
                    result.Append(text, i, end + 1 - i);
                }
                i = end + 1;
                continue;
            }
            var start = i + 1;
            var stop = start;
            while (stop < text.Length && IsNameChar(text[stop]))
                stop++;
            if (stop == start)
            {
                result.Append(c);
                i++;
                continue;
            }
            var bare = text[start..stop];
            if (lookup(bare) is { } found)
            {
                result.Append(found);
            }
            else
            {
                unknown ??= bare;
                result.Append(text, i, stop - i);
            }
            i = stop;
        }
        return result.ToString();
    }

    /// <summary>
    /// Flame's rule for environment values: expanded against the executor manager's own environment, and left
    /// unchanged as a whole when any variable is unknown.
    /// </summary>
    public static string ExpandAllOrNothing(string text, Func<string, string?> lookup)
    {
        var expanded = Expand(text, lookup, out var unknown);
        return unknown is null ? expanded : text;
    }

    // The "}" that closes the reference opened before "from", counting nested "${" of a default value.
    private static int ClosingBrace(string text, int from)
    {
        var depth = 0;
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                depth++;
                i++;
            }
            else if (text[i] == '}')
            {
                if (depth == 0)
                    return i;
                depth--;
            }
        }
        return -1;
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
