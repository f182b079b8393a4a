using Flame.Service;

return await FlameServiceHost.RunAsync(new PingService(), args);

/// <summary>Answers every task with its own input: measures Flame's overhead and nothing else.</summary>
internal sealed class PingService : FlameService
{
    public override Task<byte[]?> OnTaskInvokeAsync(TaskContext context, CancellationToken cancellationToken) =>
        Task.FromResult(context.Input);
}
