using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// The gateway's certificate, read from a PEM certificate and key and read again when either file changes, so that a
/// renewed certificate is served to new connections without a restart (connections already open keep theirs).
/// </summary>
/// <remarks>
/// Kestrel asks <see cref="Current"/> at each TLS handshake. The files' modification times are compared at most once
/// per <see cref="CheckInterval"/>: a stat of two files, no watcher thread, and it works on volumes where inotify does
/// not (Kubernetes secrets, bind mounts). A replacement that cannot be used (a key written after its certificate, a
/// half-written file) keeps the old certificate until the pair is readable again.
/// </remarks>
public sealed partial class GatewayCertificate
{
    /// <summary>How often, at most, the files' modification times are compared: 1 s.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _certificateFile;
    private readonly string _keyFile;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private (DateTime Certificate, DateTime Key) _loadedTimes;
    private long _lastCheck;

    private GatewayCertificate(string certificateFile, string keyFile, X509Certificate2 current, (DateTime, DateTime) times)
    {
        _certificateFile = certificateFile;
        _keyFile = keyFile;
        _current = current;
        _loadedTimes = times;
        _lastCheck = Stopwatch.GetTimestamp();
    }

    /// <summary>Reads the pair now, so that files that cannot be used stop the start.</summary>
    /// <exception cref="FlameConfigurationException">A file is missing, or the pair is not a PEM certificate and its key.</exception>
    public static GatewayCertificate Load(string certificateFile, string keyFile)
    {
        var times = Times(certificateFile, keyFile);
        try
        {
            return new GatewayCertificate(certificateFile, keyFile, Read(certificateFile, keyFile), times);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new FlameConfigurationException(
                $"configuration keys 'Flame:Security:Tls:CertificateFile' and 'KeyFile': cannot use {certificateFile} with {keyFile}: {ex.Message}");
        }
    }

    /// <summary>Where reloads are logged; the certificate is read before the host's logging exists.</summary>
    public void UseLogger(ILogger logger) => _logger = logger;

    /// <summary>The certificate to present: the one last read, read again first if a file changed.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastCheck), now) >= CheckInterval)
                Refresh(now);
            return Volatile.Read(ref _current);
        }
    }

    private void Refresh(long now)
    {
        lock (_lock)
        {
            if (Stopwatch.GetElapsedTime(_lastCheck, now) < CheckInterval)
                return;
            Interlocked.Exchange(ref _lastCheck, now);
            try
            {
                var times = Times(_certificateFile, _keyFile);
                if (times == _loadedTimes)
                    return;
                var fresh = Read(_certificateFile, _keyFile);
                // The old certificate is not disposed: handshakes in progress may still hold it.
                Volatile.Write(ref _current, fresh);
                _loadedTimes = times;
                LogReloaded(_logger, _certificateFile, fresh.Subject, fresh.NotAfter);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException
                                           or FlameConfigurationException)
            {
                LogReloadFailed(_logger, _certificateFile, ex.Message);
            }
        }
    }

    private static (DateTime, DateTime) Times(string certificateFile, string keyFile)
    {
        foreach (var file in new[] { certificateFile, keyFile })
        {
            if (!File.Exists(file))
                throw new FlameConfigurationException($"configuration key 'Flame:Security:Tls:{(file == certificateFile ? "CertificateFile" : "KeyFile")}': the file '{file}' does not exist");
        }
        return (File.GetLastWriteTimeUtc(certificateFile), File.GetLastWriteTimeUtc(keyFile));
    }

    private static X509Certificate2 Read(string certificateFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // A certificate whose key came from PEM is ephemeral; exported and loaded again it is usable by SslStream on
        // every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
