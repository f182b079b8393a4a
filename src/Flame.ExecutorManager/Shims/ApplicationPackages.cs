using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Flame.ExecutorManager.Shims;

/// <summary>An application's package could not be fetched or unpacked; the message is shown to the session's users.</summary>
internal sealed class ApplicationInstallException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An unpacked application package: its files are in <see cref="Directory"/>.</summary>
internal sealed record InstalledPackage(string Directory)
{
    /// <summary>The directory of the package's files, for the service.</summary>
    public const string AppDirectoryVariable = "FLAME_APP_DIR";

    /// <summary>
    /// Flame's <c>binary</c> installer variables: <c>FLAME_APP_DIR</c> = the package; <c>PATH</c> = its <c>bin</c>,
    /// itself, the application's PATH, the inherited PATH; <c>LD_LIBRARY_PATH</c> = its <c>libs</c> (and <c>lib</c>
    /// if there is one), the application's, the inherited one.
    /// </summary>
    public void AddTo(IDictionary<string, string?> environment, IReadOnlyDictionary<string, string> inherited)
    {
        environment[AppDirectoryVariable] = Directory;
        environment["PATH"] = Join(
            Path.Combine(Directory, "bin"), Directory, ApplicationValue(environment, inherited, "PATH"), inherited.GetValueOrDefault("PATH"));
        var lib = Path.Combine(Directory, "lib");
        environment["LD_LIBRARY_PATH"] = Join(
            Path.Combine(Directory, "libs"), System.IO.Directory.Exists(lib) ? lib : null,
            ApplicationValue(environment, inherited, "LD_LIBRARY_PATH"), inherited.GetValueOrDefault("LD_LIBRARY_PATH"));
    }

    // The application's own value: what the environment holds, unless it is just the inherited one.
    private static string? ApplicationValue(IDictionary<string, string?> environment, IReadOnlyDictionary<string, string> inherited, string name) =>
        environment.TryGetValue(name, out var value) && value != inherited.GetValueOrDefault(name) ? value : null;

    private static string Join(params string?[] parts) => string.Join(':', parts.Where(p => !string.IsNullOrEmpty(p)));
}

/// <summary>
/// Flame's application installer for a <c>url</c>: the package (<c>file://</c>, <c>http://</c>, <c>https://</c>) is
/// fetched into <c>&lt;root&gt;/&lt;app&gt;/releases/&lt;hash&gt;/download/</c> and unpacked (<c>.tar.gz</c>,
/// <c>.tgz</c>, <c>.zip</c>) into <c>.../src</c>, once per (application, installer, url) for the life of this
/// process; a failure is tried again at the next binding. As in Flame, nothing is fetched without an
/// <c>installer</c>.
/// </summary>
internal sealed class ApplicationPackages(string root, HttpClient http, long maxBytes = 1L << 30)
{
    /// <summary>Flame's download timeout.</summary>
    public static readonly TimeSpan DownloadTimeout = TimeSpan.FromSeconds(300);

    private readonly ConcurrentDictionary<string, Lazy<Task<InstalledPackage>>> _installed = new(StringComparer.Ordinal);

    /// <summary>Where the packages go: <c>&lt;work-dir&gt;/apps</c>.</summary>
    public string Root { get; } = root;

    /// <summary>
    /// The installed package of <paramref name="application"/>, or null when it needs none (no <c>installer</c>, or
    /// an installer without <c>url</c>).
    /// </summary>
    /// <exception cref="ApplicationInstallException">The installer is unknown or unsupported, or the package cannot be fetched or unpacked.</exception>
    public async Task<InstalledPackage?> InstallAsync(V1.Application application, CancellationToken cancellationToken)
    {
        var spec = application.Spec ?? new V1.ApplicationSpec();
        if (!spec.HasInstaller || string.IsNullOrEmpty(spec.Installer))
            return null;
        switch (spec.Installer.ToLowerInvariant())
        {
            case "binary":
                break;
            case "python":
                throw new ApplicationInstallException(
                    "installer 'python' is not supported by this executor manager yet (it does not install a package's Python dependencies); use 'binary'");
            default:
                throw new ApplicationInstallException($"Unknown installer type: {spec.Installer}. Supported types: binary, python");
        }
        if (!spec.HasUrl || string.IsNullOrEmpty(spec.Url))
            return null;

        var (key, release) = ReleaseOf(application);
        var url = spec.Url;
        var lazy = _installed.GetOrAdd(key, _ => new Lazy<Task<InstalledPackage>>(() => FetchAndUnpackAsync(url, release)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ApplicationInstallException)
        {
            // Flame retries a download or an unpacking that failed: the next binding tries again.
            _installed.TryRemove(new KeyValuePair<string, Lazy<Task<InstalledPackage>>>(key, lazy));
            throw;
        }
    }

    /// <summary>
    /// Where the package of <paramref name="application"/> would be unpacked, before anything is fetched; null when it
    /// has no <c>url</c> or its installer is not <c>binary</c>.
    /// </summary>
    public string? DirectoryOf(V1.Application application)
    {
        var spec = application.Spec ?? new V1.ApplicationSpec();
        // Other installers fail in InstallAsync without fetching anything.
        if (!string.Equals(spec.Installer, "binary", StringComparison.OrdinalIgnoreCase) || !spec.HasUrl || string.IsNullOrEmpty(spec.Url))
            return null;
        return Path.Combine(ReleaseOf(application).Release, "src");
    }

    private (string Key, string Release) ReleaseOf(V1.Application application)
    {
        var spec = application.Spec ?? new V1.ApplicationSpec();
        var name = application.Metadata?.Name ?? "";
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{name}\0{spec.Installer}\0{spec.Url}")));
        return (key, Path.Combine(Root, SafeName(name), "releases", key));
    }

    private async Task<InstalledPackage> FetchAndUnpackAsync(string url, string release)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new ApplicationInstallException($"url '{url}' is not an absolute URL");
        var fileName = Path.GetFileName(Uri.UnescapeDataString(uri.AbsolutePath));
        if (string.IsNullOrEmpty(fileName) || fileName is "." or "..")
            throw new ApplicationInstallException($"url '{url}' does not name a file");
        var format = fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? "tar.gz"
            : fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "zip"
            : throw new ApplicationInstallException($"cannot unpack '{fileName}' of url '{url}': the package must be a .tar.gz, .tgz or .zip file");

        var download = Path.Combine(release, "download");
        var source = Path.Combine(release, "src");
        try
        {
            Directory.CreateDirectory(download);
            var package = Path.Combine(download, fileName);
            await FetchAsync(uri, package).ConfigureAwait(false);
            await CheckUnpackedSizeAsync(package, format, url).ConfigureAwait(false);

            // Unpacked beside, then moved into place: a half-unpacked package is never used.
            var unpacking = Path.Combine(release, $"src.{Guid.NewGuid():N}");
            Directory.CreateDirectory(unpacking);
            try
            {
                if (format == "zip")
                {
                    ZipFile.ExtractToDirectory(package, unpacking, overwriteFiles: true);
                }
                else
                {
                    await using var file = File.OpenRead(package);
                    await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                    await TarFile.ExtractToDirectoryAsync(gzip, unpacking, overwriteFiles: true).ConfigureAwait(false);
                }
                if (Directory.Exists(source))
                    Directory.Delete(source, recursive: true);
                Directory.Move(unpacking, source);
            }
            catch
            {
                TryDelete(unpacking);
                throw;
            }
            return new InstalledPackage(source);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or HttpRequestException or TaskCanceledException)
        {
            throw new ApplicationInstallException($"cannot install the package of url '{url}': {ex.Message}", ex);
        }
    }

    private async Task FetchAsync(Uri uri, string destination)
    {
        switch (uri.Scheme)
        {
            case "file":
                await using (var from = File.OpenRead(uri.LocalPath))
                await using (var to = File.Create(destination))
                    await CopyCappedAsync(from, to, uri, CancellationToken.None).ConfigureAwait(false);
                return;
            case "http" or "https":
                using (var timeout = new CancellationTokenSource(DownloadTimeout))
                {
                    using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode)
                        throw new ApplicationInstallException($"cannot fetch url '{uri}': HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                    await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                    await using var to = File.Create(destination);
                    await CopyCappedAsync(body, to, uri, timeout.Token).ConfigureAwait(false);
                }
                return;
            default:
                throw new ApplicationInstallException($"url '{uri}' has scheme '{uri.Scheme}'; this executor manager fetches file://, http:// and https:// only");
        }
    }

    // A package larger than the cap is refused while it arrives, not once it has filled the disk.
    private async Task CopyCappedAsync(Stream from, Stream to, Uri uri, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > maxBytes)
                throw new ApplicationInstallException($"the package of url '{uri}' is larger than {maxBytes} bytes (Flame:ExecutorManager:MaxPackageBytes)");
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    // The sizes the archive declares, summed before anything is unpacked (a small archive may unpack to a huge tree).
    private async Task CheckUnpackedSizeAsync(string package, string format, string url)
    {
        long total = 0;
        if (format == "zip")
        {
            using var archive = ZipFile.OpenRead(package);
            foreach (var entry in archive.Entries)
            {
                total += entry.Length;
                if (total > maxBytes)
                    break;
            }
        }
        else
        {
            await using var file = File.OpenRead(package);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var reader = new TarReader(gzip);
            while (await reader.GetNextEntryAsync().ConfigureAwait(false) is { } entry)
            {
                total += entry.Length;
                if (total > maxBytes)
                    break;
            }
        }
        if (total > maxBytes)
            throw new ApplicationInstallException(
                $"the package of url '{url}' unpacks to more than {maxBytes} bytes (Flame:ExecutorManager:MaxPackageBytes)");
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the operator; the next attempt unpacks into a new directory.
        }
    }

    // Application names come from the gateway: keep them from escaping the packages' root.
    private static string SafeName(string name) =>
        name.Length == 0 || name is "." or ".." || name.AsSpan().IndexOfAny(['/', '\\', '\0']) >= 0
            ? "_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16]
            : name;
}
