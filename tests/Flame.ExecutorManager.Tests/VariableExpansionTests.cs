using Flame.ExecutorManager.Shims;

namespace Flame.ExecutorManager.Tests;

public sealed class VariableExpansionTests
{
    private static readonly Dictionary<string, string> Variables = new()
    {
        ["FLAME_HOME"] = "/opt/flame",
        ["EMPTY"] = "",
        ["A_1"] = "a",
    };

    [Theory]
    [InlineData("${FLAME_HOME}/bin/flmping-service", "/opt/flame/bin/flmping-service")]
    [InlineData("$FLAME_HOME/bin", "/opt/flame/bin")]
    [InlineData("x${A_1}y$A_1", "xaya")]
    [InlineData("${MISSING:-/usr/local}/bin", "/usr/local/bin")]
    [InlineData("${MISSING:-${FLAME_HOME}}", "/opt/flame")]
    [InlineData("${FLAME_HOME:-/usr/local}", "/opt/flame")]
    [InlineData("${EMPTY:-x}", "")]
    [InlineData("cost: 5$ or $", "cost: 5$ or $")]
    [InlineData("no variables", "no variables")]
    [InlineData("${unclosed", "${unclosed")]
    [InlineData("${bad-name}", "${bad-name}")]
    public void Expand_ReplacesKnownReferences_AsFlameDoes(string text, string expected)
    {
        Assert.Equal(expected, VariableExpansion.Expand(text, Variables.GetValueOrDefault, out var unknown));
        Assert.Null(unknown);
    }

    [Theory]
    [InlineData("${MISSING}/bin:$FLAME_HOME", "${MISSING}/bin:/opt/flame", "MISSING")]
    [InlineData("$MISSING", "$MISSING", "MISSING")]
    [InlineData("${MISSING:-$OTHER}", "$OTHER", "OTHER")]
    public void Expand_LeavesUnknownReferences_AsWritten_AndNamesTheFirst(string text, string expected, string name)
    {
        Assert.Equal(expected, VariableExpansion.Expand(text, Variables.GetValueOrDefault, out var unknown));
        Assert.Equal(name, unknown);
    }

    [Fact]
    public void ExpandAllOrNothing_LeavesAValueUnchanged_WhenOneOfItsVariablesIsUnknown()
    {
        Assert.Equal("${FLAME_HOME}:${MISSING}", VariableExpansion.ExpandAllOrNothing("${FLAME_HOME}:${MISSING}", Variables.GetValueOrDefault));
        Assert.Equal("/opt/flame:a", VariableExpansion.ExpandAllOrNothing("${FLAME_HOME}:$A_1", Variables.GetValueOrDefault));
    }
}
