using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

internal sealed partial class ExecutorRegistry
{
    [LoggerMessage(4200, LogLevel.Debug, "Deleted {Count} directories of ended executors (the newest {Keep} are kept)")]
    private partial void LogPruned(int count, int keep);

    [LoggerMessage(4201, LogLevel.Warning, "Cannot delete the executor directory {Path}: {Reason}")]
    private partial void LogPruneFailed(string path, string reason);
}
