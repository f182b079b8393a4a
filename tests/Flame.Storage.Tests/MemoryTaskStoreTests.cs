using Flame.Storage.Memory;

namespace Flame.Storage.Tests;

public sealed class MemoryTaskStoreTests : TaskStoreContractTests
{
    protected override bool Durable => false;

    protected override Task<ITaskStore> OpenAsync() => Task.FromResult<ITaskStore>(new MemoryTaskStore());
}
