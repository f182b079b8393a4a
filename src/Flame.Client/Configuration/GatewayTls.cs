using System.Net.Security;
using Flame.Channels;

namespace Flame.Client.Configuration;

/// <summary>The client configuration's TLS and token files, read as <see cref="GatewayCredentials"/> reads them, with its errors.</summary>
internal static class GatewayTls
{
    /// <summary>See <see cref="GatewayCredentials.TrustOnly"/>.</summary>
    /// <exception cref="FlameClientConfigurationException">The file cannot be read or holds no certificate.</exception>
    public static RemoteCertificateValidationCallback TrustOnly(string caFile)
    {
        try
        {
            return GatewayCredentials.TrustOnly(caFile);
        }
        catch (GatewayCredentialsException ex)
        {
            throw new FlameClientConfigurationException(ex.Message);
        }
    }

    /// <summary>See <see cref="GatewayCredentials.ReadTokenFile"/>.</summary>
    /// <exception cref="FlameClientConfigurationException">The file is missing, unreadable or empty.</exception>
    public static string ReadTokenFile(string path, string source, out string? warning)
    {
        try
        {
            return GatewayCredentials.ReadTokenFile(path, source, out warning);
        }
        catch (GatewayCredentialsException ex)
        {
            throw new FlameClientConfigurationException(ex.Message);
        }
    }
}
