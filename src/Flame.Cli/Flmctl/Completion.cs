namespace Flame.Cli.Control;

/// <summary>
/// Shell completion through System.CommandLine's <c>[suggest:POSITION]</c> directive: the shell passes the whole
/// command line and the cursor position, flmctl prints one candidate per line.
/// </summary>
/// <remarks>
/// Hook it into bash with <c>source &lt;(flmctl completion bash)</c> (e.g. in ~/.bashrc).
/// </remarks>
public static class Completion
{
    /// <summary>The bash script printed by <c>flmctl completion bash</c>.</summary>
    public const string Bash = """
        # flmctl bash completion: source <(flmctl completion bash)
        _flmctl_complete() {
            local IFS=$'\n'
            local candidates
            candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=($(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _flmctl_complete flmctl

        """;
}
