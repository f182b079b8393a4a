using Microsoft.Extensions.Logging;

namespace Flame.Storage;

public abstract partial class GroupCommitTaskStore
{
    [LoggerMessage(3000, LogLevel.Error, "A batch of {Writes} writes ({Rows} rows) failed; its callers get the error")]
    private partial void LogBatchFailed(Exception exception, int writes, int rows);

    [LoggerMessage(3001, LogLevel.Warning, "A batch failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    private partial void LogBatchRetrying(Exception exception, int attempt, double delayMs);

    [LoggerMessage(3002, LogLevel.Information, "A batch committed at attempt {Attempt}, after {Seconds:F1} s of failures")]
    private partial void LogBatchRecovered(int attempt, double seconds);
}
