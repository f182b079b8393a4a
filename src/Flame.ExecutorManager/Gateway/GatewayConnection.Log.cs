using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Gateway;

internal sealed partial class GatewayConnection
{
    [LoggerMessage(4300, LogLevel.Warning, "{Warning}")]
    private static partial void LogTokenWarning(ILogger logger, string warning);
}
