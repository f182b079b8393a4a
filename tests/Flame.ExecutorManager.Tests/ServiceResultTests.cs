using Flame.ExecutorManager.Executors;

namespace Flame.ExecutorManager.Tests;

public sealed class ServiceResultTests
{
    [Fact]
    public void AResultFromTheService_NeverCarriesSystemFailure_SoAServiceCannotRetryItsOwnErrors()
    {
        var result = TaskRunner.FromService(new V1.TaskResult { ReturnCode = 1, Message = "mine", SystemFailure = true });

        Assert.False(result.SystemFailure);
        Assert.Equal((1, "mine"), (result.ReturnCode, result.Message));
    }
}
