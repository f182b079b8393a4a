namespace Flame.Cli.Control;

/// <summary>
/// Shell completion through System.CommandLine's <c>[suggest:POSITION]</c> directive: the shell passes the whole
/// command line and the cursor position, flmctl prints one candidate per line.
/// </summary>
/// <remarks>
/// Hook it into bash with <c>source &lt;(flmctl completion bash)</c> (e.g. in ~/.bashrc), or into zsh with
/// <c>source &lt;(flmctl completion zsh)</c>, which runs the bash script through zsh's bashcompinit.
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

    /// <summary>The zsh script printed by <c>flmctl completion zsh</c>: the bash one through zsh's bash emulation.</summary>
    public const string Zsh = "# flmctl zsh completion: source <(flmctl completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n" + Bash;
}
