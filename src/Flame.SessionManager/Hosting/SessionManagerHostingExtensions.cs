using Flame.Client;
using Flame.ExecutorManager.Hosting;
using Flame.Grains.Hosting;
using Flame.SessionManager.Grpc;
using Flame.SessionManager.Options;
using Flame.SessionManager.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Flame.Storage;
using Flame.Storage.Memory;
using Flame.Storage.Postgres;
using Flame.Storage.Sqlite;
using Npgsql;
using Orleans.Configuration;

namespace Flame.SessionManager.Hosting;

/// <summary>The wiring of a session manager: silo, gateway, options. Program.cs stays a few lines.</summary>
public static class SessionManagerHostingExtensions
{
    /// <summary>Makes this process a silo of the Flame cluster and a flame.v1 gRPC gateway.</summary>
    public static WebApplicationBuilder AddFlameSessionManager(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var options = builder.Services.AddFlameOptions<FlameSessionManagerOptions>(configuration, FlameSessionManagerOptions.Section);
        var limits = builder.Services.AddFlameOptions<FlameLimitsOptions>(configuration, FlameLimitsOptions.Section);
        var execution = builder.Services.AddFlameOptions<FlameExecutionOptions>(configuration, FlameExecutionOptions.Section);
        var scheduling = builder.Services.AddFlameOptions<FlameSchedulingOptions>(configuration, FlameSchedulingOptions.Section);
        var cluster = builder.Services.AddFlameOptions<FlameClusterOptions>(configuration, FlameClusterOptions.Section);
        var endpoint = GatewayEndpoint.Parse(options.Endpoint, $"{FlameSessionManagerOptions.Section}:Endpoint");
        var securityOptions = builder.Services.AddFlameOptions<FlameSecurityOptions>(configuration, FlameSecurityOptions.Section);
        var backendPort = BackendPort.Resolve(options.BackendEndpoint, endpoint);
        var security = ResolvedSecurity.Resolve(securityOptions, endpoint, backendPort?.Endpoint);
        RefuseUnknownSections(configuration);
        var advertised = ValidateCluster(cluster);
        var posture = SecureDefaults.Decide(endpoint, securityOptions, security.Anonymous, cluster, advertised, backendPort?.Endpoint);
        // Read now: certificate files that cannot be used stop the start with their reason, before anything listens.
        var certificate = endpoint.Tls || posture.SiloTls
            ? GatewayCertificate.Load(securityOptions.Tls.CertificateFile!, securityOptions.Tls.KeyFile!)
            : null;
        var store = ResolveStorage(builder.Services.AddFlameOptions<FlameStorageOptions>(configuration, FlameStorageOptions.Section), cluster);
        // What the store's readers see is the store in use: Auto resolved, the data directory made absolute.
        builder.Services.PostConfigure<FlameStorageOptions>(o => (o.Provider, o.DataDirectory) = (store.Provider, store.DataDirectory));

        builder.Services.AddSingleton(posture);
        if (certificate is not null)
            builder.Services.AddSingleton(certificate);
        // Before AddFlameGrains, which falls back to an in-memory store.
        builder.Services.AddSingleton<ITaskStore>(services => store.Provider switch
        {
            StorageProvider.Sqlite => new SqliteTaskStore(
                Path.Combine(store.DataDirectory!, "flame.db"), logger: services.GetRequiredService<ILogger<SqliteTaskStore>>()),
            StorageProvider.Postgres => new PostgresTaskStore(
                cluster.ConnectionString!, logger: services.GetRequiredService<ILogger<PostgresTaskStore>>()),
            _ => new MemoryTaskStore(),
        });
        builder.Services.AddFlameGrains(limits, execution, scheduling);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            void Protocols(ListenOptions listen)
            {
                if (!endpoint.Tls)
                {
                    // Plaintext gRPC needs HTTP/2 only: with Http1AndHttp2, h2c clients are refused.
                    listen.Protocols = HttpProtocols.Http2;
                    return;
                }
                // Over TLS, ALPN picks h2 for gRPC clients; HTTP/1.1 stays for curl https://HOST:PORT/healthz.
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => certificate!.Current);
            }
            if (endpoint.Localhost)
                kestrel.ListenLocalhost(endpoint.Port, Protocols);
            else
                kestrel.Listen(endpoint.Address!, endpoint.Port, Protocols);
            backendPort?.Listen(kestrel, Protocols);
            // Watches are streams: one client may hold thousands on one connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
        });
        if (backendPort is not null)
            builder.Services.AddSingleton(backendPort);

        builder.UseOrleans(silo =>
        {
            ConfigureSilo(silo, options, cluster, advertised);
            if (posture.SiloTls)
                SiloTls.Use(silo, certificate!, securityOptions.Tls.CaFile!);
        });

        // After UseOrleans: the Flight server starts after the silo and stops before it.
        builder.AddSessionManagerObjectCache(store, cluster);
        builder.Services.AddSingleton(security);
        builder.Services.AddSingleton<TokenAuthenticator>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<Authorizer>();
        // After UseOrleans: it reads the token registry once the silo runs.
        builder.Services.AddHostedService<TokenRefresher>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<FlameErrorInterceptor>();
            // Inside the error interceptor: its refusals are statuses already; the services' FlameExceptions pass it.
            grpc.Interceptors.Add<AuthInterceptor>();
            grpc.Interceptors.Add<WatchStreamLimitInterceptor>();
            grpc.Interceptors.Add<IdempotencyKeyInterceptor>();
            // Room for the largest payload the limits allow plus the message around it;
            // anything bigger than that is refused by gRPC before it reaches us.
            grpc.MaxReceiveMessageSize = limits.LargestPayloadBytes + 1024 * 1024;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddGrpcReflection();
        // grpc.health.v1 and /healthz report the same check: this silo is an Active cluster member.
        builder.Services.AddGrpcHealthChecks().AddCheck<SiloHealthCheck>("silo");
        builder.Services.AddSingleton<OrleansFlameClient>();
        builder.Services.AddFlameSessionLists();
        builder.Services.AddSingleton(new WatchStreamCounter(limits.MaxWatchStreamsPerConnection));
        builder.Services.AddSingleton<ExecutorSessions>();
        // The one task exchange: every wire form of the executors' per-task calls goes through it.
        builder.Services.AddSingleton<TaskExchangeGateway>();
        if (options.RegisterBuiltInApplications)
            builder.Services.AddHostedService<BuiltInApplications>();
        // After UseOrleans: hosted services stop in reverse order, so the executors stop before the silo.
        if (options.EmbeddedExecutorManager)
        {
            var embedded = EmbeddedExecutorManagerOptions(builder.Configuration, endpoint, securityOptions);
            if (security.Anonymous != AnonymousAccess.Admin && embedded.Token is null)
                embedded.Token = MintEmbeddedNodeToken(builder.Services, embedded.EffectiveNodeName);
            builder.Services.AddFlameExecutorManager(embedded);
        }
        return builder;
    }

    /// <summary>The sections under <c>Flame</c> that something reads; a misspelt one would otherwise be ignored.</summary>
    private static readonly string[] KnownSections = ["SessionManager", "Cluster", "Storage", "Limits", "Execution", "Scheduling", "ExecutorManager", "Security", "ObjectCache", "Observability"];

    private static void RefuseUnknownSections(IConfiguration configuration)
    {
        foreach (var section in configuration.GetSection("Flame").GetChildren())
        {
            if (!KnownSections.Contains(section.Key, StringComparer.OrdinalIgnoreCase))
                throw new FlameConfigurationException(
                    $"configuration section 'Flame:{section.Key}' is unknown; known sections: {string.Join(", ", KnownSections.Select(k => "Flame:" + k))}");
        }
    }

    /// <summary>Checks the keys that depend on each other; returns the advertised address, if one is set.</summary>
    private static System.Net.IPAddress? ValidateCluster(FlameClusterOptions cluster)
    {
        const string section = FlameClusterOptions.Section;
        System.Net.IPAddress? advertised = null;
        if (cluster.AdvertisedAddress is { Length: > 0 } address && !System.Net.IPAddress.TryParse(address, out advertised))
            throw new FlameConfigurationException($"configuration key '{section}:AdvertisedAddress': '{address}' is not an IP address");
        if (cluster.Provider == ClusterProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(cluster.ConnectionString))
                throw new FlameConfigurationException(
                    $"configuration key '{section}:ConnectionString': required with Provider Postgres, e.g. Host=127.0.0.1;Port=5432;Username=flame;Password=...;Database=flame");
            try
            {
                _ = new NpgsqlConnectionStringBuilder(cluster.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                throw new FlameConfigurationException($"configuration key '{section}:ConnectionString': not an Npgsql connection string: {ex.Message}");
            }
        }
        else if (cluster.InitDatabase)
        {
            throw new FlameConfigurationException($"configuration key '{section}:InitDatabase' (--init-db): needs Provider Postgres; Localhost keeps nothing in a database");
        }
        return advertised;
    }

    /// <summary>The store to use, <c>Auto</c> resolved, with its data directory; refuses combinations that cannot work.</summary>
    private static FlameStorageOptions ResolveStorage(FlameStorageOptions storage, FlameClusterOptions cluster)
    {
        const string key = $"{FlameStorageOptions.Section}:Provider";
        var provider = storage.Provider != StorageProvider.Auto ? storage.Provider
            : cluster.Provider == ClusterProvider.Postgres ? StorageProvider.Postgres
            : StorageProvider.Sqlite;
        if (provider == StorageProvider.Postgres && cluster.Provider != ClusterProvider.Postgres)
            throw new FlameConfigurationException(
                $"configuration key '{key}': Postgres keeps the tasks in the cluster's database; set Flame:Cluster:Provider=Postgres and its ConnectionString");
        if (provider == StorageProvider.Sqlite && cluster.Provider == ClusterProvider.Postgres)
            throw new FlameConfigurationException(
                $"configuration key '{key}': Sqlite is a file of one machine; the silos of a Postgres cluster share their tasks in PostgreSQL");
        string? directory = null;
        if (provider == StorageProvider.Sqlite)
        {
            try
            {
                directory = Path.GetFullPath(string.IsNullOrWhiteSpace(storage.DataDirectory) ? FlameStorageOptions.DefaultDataDirectory : storage.DataDirectory);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new FlameConfigurationException($"configuration key '{FlameStorageOptions.Section}:DataDirectory': {ex.Message}");
            }
        }
        return new FlameStorageOptions { Provider = provider, DataDirectory = directory };
    }

    /// <summary>
    /// Membership, reminders and grain storage: in memory on one silo (Localhost), or in PostgreSQL for a cluster of
    /// silos, with membership tuned to declare a dead silo dead in seconds.
    /// </summary>
    private static void ConfigureSilo(ISiloBuilder silo, FlameSessionManagerOptions options, FlameClusterOptions cluster, System.Net.IPAddress? advertised)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.Configure<SiloOptions>(o => o.SiloName = options.Name ?? Environment.MachineName);
        // Failover (issue 21): the gateway's grain calls outlive a silo's death.
        silo.AddOutgoingGrainCallFilter<GatewayCallRetryFilter>();
        if (cluster.Provider == ClusterProvider.Localhost)
        {
            silo.UseLocalhostClustering(
                siloPort: options.SiloPort,
                gatewayPort: options.OrleansGatewayPort,
                serviceId: options.ServiceId,
                clusterId: options.ClusterId);
            silo.AddMemoryGrainStorage(StorageName);
            silo.UseInMemoryReminderService();
            return;
        }

        // Bound to one address, never every interface: the advertised one, else the address the host name resolves to.
        if (advertised is null)
            silo.ConfigureEndpoints(options.SiloPort, options.OrleansGatewayPort);
        else
            silo.ConfigureEndpoints(advertised, options.SiloPort, options.OrleansGatewayPort);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = cluster.ConnectionString;
        });
        silo.AddAdoNetGrainStorage(StorageName, o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = cluster.ConnectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = cluster.ConnectionString;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(cluster.ProbeTimeoutSeconds);
            o.NumMissedProbesLimit = cluster.MissedProbesLimit;
            // A joining silo pings every Active silo that wrote "I am alive" recently and waits until all answer.
            // After the whole cluster is killed, nobody votes the old entries dead, so a restarted silo waits until
            // they look stale: IAmAliveTablePublishTimeout x NumMissedTableIAmAliveLimit (Orleans: 30 s x 2).
            // 5 s x 2 lets a restarted cluster form in about 10 s, for one small UPDATE per silo every 5 s.
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            o.NumMissedTableIAmAliveLimit = 2;
            // Joiners learn of deaths by gossip or by reading the table: read it every 10 s (Orleans: 60 s).
            o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        });
    }

    /// <summary>The grain storage provider's name.</summary>
    public const string StorageName = "flame";

    private const string PostgresInvariant = "Npgsql";

    /// <summary>
    /// The embedded executor manager's options: section <c>Flame:ExecutorManager</c>, connecting to this gateway
    /// unless an endpoint is configured (a gateway on 0.0.0.0 is reached through 127.0.0.1); an https gateway is
    /// verified with <c>Flame:Security:Tls:CaFile</c> unless <c>Flame:ExecutorManager:CaFile</c> is set.
    /// </summary>
    private static FlameExecutorManagerOptions EmbeddedExecutorManagerOptions(IConfiguration configuration, GatewayEndpoint gateway,
        FlameSecurityOptions security)
    {
        // Bound, not registered: the embedded executors' options are these, with the endpoint filled in below.
        var options = FlameExecutorManagerOptions.FromConfiguration(configuration);
        if (configuration[$"{FlameExecutorManagerOptions.Section}:Endpoint"] is null)
        {
            var host = gateway.Localhost || gateway.Address is null || gateway.Address.Equals(System.Net.IPAddress.Any)
                ? "127.0.0.1"
                : gateway.Address.Equals(System.Net.IPAddress.IPv6Any) ? "[::1]"
                : gateway.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{gateway.Address}]"
                : gateway.Address.ToString();
            options.Endpoint = $"{(gateway.Tls ? "https" : "http")}://{host}:{gateway.Port}";
            if (gateway.Tls && options.CaFile is null)
            {
                options.CaFile = security.Tls.CaFile
                    ?? throw new FlameConfigurationException(
                        $"configuration key '{FlameSecurityOptions.Section}:Tls:CaFile': required with an https gateway and the embedded executor manager, which verifies its gateway's certificate with it");
                options.Validate();
            }
        }
        return options;
    }

    /// <summary>
    /// A node token for the embedded executor manager of a secured gateway: accepted by this gateway only, bound to the
    /// embedded node's name, held in memory and never stored, so it dies with the process.
    /// </summary>
    private static string MintEmbeddedNodeToken(IServiceCollection services, string nodeName)
    {
        var secret = TokenSecrets.NewSecret();
        services.AddSingleton(new LocalToken(secret, new Caller($"{Grains.Security.TokenRegistryGrain.EmbeddedPrefix}{nodeName}", FlameRole.Node, nodeName, Anonymous: false)));
        return secret;
    }

    /// <summary>Maps the gRPC services of the gateway.</summary>
    public static WebApplication MapFlameGateway(this WebApplication app)
    {
        app.Services.GetService<BackendPort>()?.Filter(app);
        app.MapGrpcService<FrontendService>();
        app.MapGrpcService<BackendService>();
        app.MapGrpcService<FrontendExtService>();
        app.MapGrpcService<BackendExtService>();
        app.MapGrpcService<ClusterExtService>();
        app.MapGrpcService<SecurityExtService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        // HTTP/2 like the rest of the endpoint: curl --http2-prior-knowledge http://127.0.0.1:8080/healthz
        app.MapHealthChecks("/healthz");
        return app;
    }
}
