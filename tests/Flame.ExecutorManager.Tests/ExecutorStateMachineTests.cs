using Flame.ExecutorManager.States;

namespace Flame.ExecutorManager.Tests;

public sealed class ExecutorStateMachineTests
{
    private static readonly (ExecutorWorkerState From, ExecutorWorkerState To)[] Legal =
    [
        (ExecutorWorkerState.Void, ExecutorWorkerState.Idle),
        (ExecutorWorkerState.Void, ExecutorWorkerState.Releasing),
        (ExecutorWorkerState.Idle, ExecutorWorkerState.Binding),
        (ExecutorWorkerState.Idle, ExecutorWorkerState.Releasing),
        (ExecutorWorkerState.Binding, ExecutorWorkerState.Bound),
        (ExecutorWorkerState.Binding, ExecutorWorkerState.Idle),
        (ExecutorWorkerState.Bound, ExecutorWorkerState.Unbinding),
        (ExecutorWorkerState.Bound, ExecutorWorkerState.Idle),
        (ExecutorWorkerState.Unbinding, ExecutorWorkerState.Idle),
        (ExecutorWorkerState.Releasing, ExecutorWorkerState.Released),
    ];

    [Fact]
    public void NewMachine_StartsVoid()
    {
        Assert.Equal(ExecutorWorkerState.Void, new ExecutorStateMachine().State);
    }

    [Fact]
    public void IsLegal_AllowsExactlyTheLifecycleMoves()
    {
        foreach (var from in Enum.GetValues<ExecutorWorkerState>())
        {
            foreach (var to in Enum.GetValues<ExecutorWorkerState>())
            {
                var expected = Legal.Contains((from, to));
                Assert.True(expected == ExecutorStateMachine.IsLegal(from, to), $"{from} -> {to} should be {(expected ? "legal" : "illegal")}");
            }
        }
    }

    [Fact]
    public void MoveTo_FollowsACompleteLife_WithTwoBindings()
    {
        var machine = new ExecutorStateMachine();
        ExecutorWorkerState[] path =
        [
            ExecutorWorkerState.Idle,
            ExecutorWorkerState.Binding, ExecutorWorkerState.Bound, ExecutorWorkerState.Unbinding, ExecutorWorkerState.Idle,
            ExecutorWorkerState.Binding, ExecutorWorkerState.Idle, // the second service failed to start
            ExecutorWorkerState.Releasing, ExecutorWorkerState.Released,
        ];
        var previous = ExecutorWorkerState.Void;
        foreach (var next in path)
        {
            Assert.Equal(previous, machine.MoveTo(next));
            Assert.Equal(next, machine.State);
            previous = next;
        }
    }

    [Theory]
    [InlineData("Void", "Bound")]
    [InlineData("Idle", "Unbinding")]
    [InlineData("Idle", "Idle")]
    [InlineData("Bound", "Binding")]
    [InlineData("Bound", "Releasing")]
    [InlineData("Releasing", "Idle")]
    [InlineData("Released", "Idle")]
    public void MoveTo_Throws_ForAnIllegalMove_AndStaysPut(string fromName, string toName)
    {
        var from = Enum.Parse<ExecutorWorkerState>(fromName);
        var to = Enum.Parse<ExecutorWorkerState>(toName);
        var machine = MachineIn(from);

        var error = Assert.Throws<InvalidOperationException>(() => machine.MoveTo(to));

        Assert.Equal($"an executor cannot move from {from} to {to}", error.Message);
        Assert.Equal(from, machine.State);
    }

    [Fact]
    public void Released_IsFinal()
    {
        Assert.All(Enum.GetValues<ExecutorWorkerState>(), to => Assert.False(ExecutorStateMachine.IsLegal(ExecutorWorkerState.Released, to)));
    }

    [Theory]
    [InlineData("Void", V1.ExecutorState.ExecutorVoid)]
    [InlineData("Idle", V1.ExecutorState.ExecutorIdle)]
    [InlineData("Binding", V1.ExecutorState.ExecutorBinding)]
    [InlineData("Bound", V1.ExecutorState.ExecutorBound)]
    [InlineData("Unbinding", V1.ExecutorState.ExecutorUnbinding)]
    [InlineData("Releasing", V1.ExecutorState.ExecutorReleasing)]
    [InlineData("Released", V1.ExecutorState.ExecutorReleased)]
    public void ToWire_NamesEachStateAsTheProtocolDoes(string state, V1.ExecutorState wire)
    {
        Assert.Equal(wire, ExecutorStateMachine.ToWire(Enum.Parse<ExecutorWorkerState>(state)));
    }

    private static ExecutorStateMachine MachineIn(ExecutorWorkerState state)
    {
        var machine = new ExecutorStateMachine();
        ExecutorWorkerState[] route = state switch
        {
            ExecutorWorkerState.Void => [],
            ExecutorWorkerState.Idle => [ExecutorWorkerState.Idle],
            ExecutorWorkerState.Binding => [ExecutorWorkerState.Idle, ExecutorWorkerState.Binding],
            ExecutorWorkerState.Bound => [ExecutorWorkerState.Idle, ExecutorWorkerState.Binding, ExecutorWorkerState.Bound],
            ExecutorWorkerState.Unbinding => [ExecutorWorkerState.Idle, ExecutorWorkerState.Binding, ExecutorWorkerState.Bound, ExecutorWorkerState.Unbinding],
            ExecutorWorkerState.Releasing => [ExecutorWorkerState.Releasing],
            ExecutorWorkerState.Released => [ExecutorWorkerState.Releasing, ExecutorWorkerState.Released],
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
        foreach (var step in route)
            machine.MoveTo(step);
        return machine;
    }
}
