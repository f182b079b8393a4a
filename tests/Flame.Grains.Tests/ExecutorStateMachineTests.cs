using Flame.Grains.Executors;

namespace Flame.Grains.Tests;

public sealed class ExecutorStateMachineTests
{
    public static TheoryData<ExecutorState, ExecutorState> Legal => new()
    {
        { ExecutorState.Void, ExecutorState.Idle },
        { ExecutorState.Idle, ExecutorState.Binding },
        { ExecutorState.Binding, ExecutorState.Bound },
        { ExecutorState.Binding, ExecutorState.Idle },
        { ExecutorState.Bound, ExecutorState.Unbinding },
        { ExecutorState.Unbinding, ExecutorState.Idle },
        { ExecutorState.Idle, ExecutorState.Releasing },
        { ExecutorState.Releasing, ExecutorState.Released },
        { ExecutorState.Bound, ExecutorState.Released },
        { ExecutorState.Released, ExecutorState.Idle },
    };

    [Theory, MemberData(nameof(Legal))]
    public void LegalMoves_AreAllowed(ExecutorState from, ExecutorState to)
    {
        Assert.True(ExecutorStateMachine.CanMove(from, to));
        Assert.Equal(to, ExecutorStateMachine.Move("e1", from, to, "test"));
    }

    public static TheoryData<ExecutorState, ExecutorState> Illegal => new()
    {
        { ExecutorState.Void, ExecutorState.Bound },
        { ExecutorState.Idle, ExecutorState.Bound },
        { ExecutorState.Idle, ExecutorState.Unbinding },
        { ExecutorState.Bound, ExecutorState.Binding },
        { ExecutorState.Bound, ExecutorState.Idle },
        { ExecutorState.Unbinding, ExecutorState.Bound },
        { ExecutorState.Releasing, ExecutorState.Idle },
        { ExecutorState.Released, ExecutorState.Released },
        { ExecutorState.Released, ExecutorState.Bound },
    };

    [Theory, MemberData(nameof(Illegal))]
    public void IllegalMoves_AreRefused_WithBothStatesNamed(ExecutorState from, ExecutorState to)
    {
        Assert.False(ExecutorStateMachine.CanMove(from, to));
        var ex = Assert.Throws<FlameException>(() => ExecutorStateMachine.Move("e1", from, to, "UnbindExecutor"));
        Assert.Equal(FlameErrorKind.FailedPrecondition, ex.Kind);
        Assert.Contains(from.ToString(), ex.Message);
        Assert.Contains(to.ToString(), ex.Message);
        Assert.Contains("UnbindExecutor", ex.Message);
    }
}
