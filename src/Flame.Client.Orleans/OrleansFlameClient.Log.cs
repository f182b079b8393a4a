using Microsoft.Extensions.Logging;

namespace Flame.Client;

public sealed partial class OrleansFlameClient
{
    [LoggerMessage(5000, LogLevel.Warning, "A grain call failed with an unexpected exception; reported as an internal error")]
    private partial void LogGrainCallFailed(Exception exception);
}
