using Geo.Events.Core;
using Geo.Events.Core.Configuration;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Repositories;
using Geo.Events.Core.Storage;
using Geo.Events.Secondary.Keys;
using Geo.Events.Secondary.Registration;
using Geo.Events.Secondary.Repositories;
using Geo.Events.Secondary.Retries;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary;

/// <summary>The pieces of geo-secondary, each wired in one place so Program.cs reads as the service's story.</summary>
public static class SecondaryServices
{
    public static WebApplicationBuilder AddRegistry(this WebApplicationBuilder builder)
    {
        builder.AddGeoDatabase();
        builder.Services.AddSingleton<ProjectRegistry>();
        builder.Services.AddSingleton<Locking.AdvisoryLock>();
        builder.Services.AddSingleton<RepositoryLock>();
        builder.Services.AddSingleton<Files.FileLock>();
        builder.Services.AddSingleton<AppliedEvents>();
        return builder;
    }

    public static WebApplicationBuilder AddMirrors(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<SecondaryOptions, SecondaryOptions.Validator>(SecondaryOptions.Section);
        builder.Services.AddValidatedOptions<MirrorOptions, MirrorOptions.Validator>(MirrorOptions.Section);
        builder.Services.AddValidatedOptions<SyncOptions, SyncOptions.Validator>(SyncOptions.Section);
        builder.Services.AddOptions<Verification.VerificationOptions>().BindConfiguration(Verification.VerificationOptions.Section);
        builder.Services.AddOptions<Files.FileStoreOptions>().BindConfiguration(Files.FileStoreOptions.Section);
        builder.Services.AddSingleton<MirrorLayout>();
        builder.Services.AddSingleton<MirrorFetcher>();
        builder.Services.AddSingleton<MirrorRemover>();
        builder.Services.AddValidatedOptions<SafetyNet.SafetyNetOptions, SafetyNet.SafetyNetOptions.Validator>(SafetyNet.SafetyNetOptions.Section);
        builder.Services.AddSingleton<SafetyNet.MirrorTrash>();
        builder.Services.AddSingleton<SafetyNet.RestoredMirrors>();
        builder.Services.AddSingleton<SafetyNet.DestroyGuard>();
        builder.Services.AddSingleton<SafetyNet.SafetyNetState>();
        builder.Services.AddSingleton<SafetyNet.SafetyNetRequests>();
        builder.Services.AddSingleton<ProjectDestroyer>();
        builder.Services.AddSingleton<SafetyNet.AtticRefs>();
        builder.Services.AddHostedService<SafetyNet.SafetyNetPurger>();
        builder.Services.AddSingleton<SyncSlots>();
        builder.Services.AddSingleton<SyncCoordinator>();
        builder.Services.AddSingleton<RepositorySync>();
        builder.Services.AddSingleton<ProjectMover>();
        builder.Services.AddSingleton<Files.FileStore>();
        builder.Services.AddSingleton<Files.FileRegistry>();
        return builder;
    }

    public static WebApplicationBuilder AddKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<KeysOptions, KeysOptions.Validator>(KeysOptions.Section);
        builder.Services.AddSingleton<KeyRegistry>();
        builder.Services.AddSingleton<AuthorizedKeysWriter>();
        builder.Services.AddSingleton<KeyBatchApplier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuthorizedKeysWriter>());
        builder.Services.AddHostedService<KeyChangeListener>();
        return builder;
    }

    /// <summary>Self-registration with geo-primary and the status heartbeat, when Secondary:PrimaryUrl is set.</summary>
    public static WebApplicationBuilder AddRegistration(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PrimaryAccess>();
        builder.Services.AddHttpClient<PrimaryApi>((services, http) =>
        {
            // No overall timeout: downloads take long (FileStore stops one that stalls); other calls have PrimaryApi.RequestTimeout.
            http.Timeout = Timeout.InfiniteTimeSpan;
            var primaryUrl = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SecondaryOptions>>().Value.PrimaryUrl;
            if (!string.IsNullOrWhiteSpace(primaryUrl))
            {
                http.BaseAddress = new Uri(primaryUrl.TrimEnd('/') + "/");
            }
        });
        builder.Services.AddSingleton<RegistrationStore>();
        builder.Services.AddSingleton<SiteStatus>();
        builder.Services.AddSingleton<Verification.ReconcileRuns>();
        builder.Services.AddSingleton<Verification.Reconciler>();
        builder.Services.AddSingleton<PrimaryRegistration>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PrimaryRegistration>());
        builder.Services.AddHostedService<StatusHeartbeat>();
        builder.Services.AddHostedService<Verification.ReconcilerService>();
        return builder;
    }

    /// <summary>
    /// Serving the mirrors at the site: smart HTTP on Secondary:ServeUrls (besides Urls, which keeps the API, health and
    /// metrics), access decided by the primary and cached in PostgreSQL for Secondary:AuthCacheTtl.
    /// </summary>
    public static WebApplicationBuilder AddServing(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<Serving.ServeOptions, Serving.ServeOptions.Validator>(Serving.ServeOptions.Section);
        var serveUrls = builder.Configuration[$"{Serving.ServeOptions.Section}:{nameof(Serving.ServeOptions.ServeUrls)}"];
        if (!string.IsNullOrWhiteSpace(serveUrls))
        {
            var urls = (builder.Configuration["Urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            builder.WebHost.UseUrls([.. urls, .. serveUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
        }

        builder.Services.AddOptions<MirrorApiOptions>().BindConfiguration(MirrorApiOptions.Section);
        builder.Services.AddSingleton<Serving.AccessCache>();
        builder.Services.AddSingleton<Serving.ServableMirrors>();
        builder.Services.AddHttpClient(nameof(Serving.PrimaryGitAccess), (services, http) =>
                http.Timeout = services.GetRequiredService<IOptions<Serving.ServeOptions>>().Value.AuthTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        builder.Services.AddSingleton(services =>
        {
            var serve = services.GetRequiredService<IOptions<Serving.ServeOptions>>().Value;
            var primaryGitUrl = services.GetRequiredService<IOptions<MirrorOptions>>().Value.PrimaryGitUrl;
            return new Serving.PrimaryGitAccess(
                services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(Serving.PrimaryGitAccess)),
                services.GetRequiredService<Serving.AccessCache>(),
                serve.PrimaryBase(primaryGitUrl) ?? "",
                serve.AuthCacheTtl,
                services.GetRequiredService<ILogger<Serving.PrimaryGitAccess>>());
        });
        builder.Services.AddSingleton<Serving.GitHttpServing>();
        builder.Services.AddHostedService<Serving.ServeOutcomeDrain>(); // what git-shell (SSH) served, into geo_serve_* and the log
        return builder;
    }

    /// <summary>Every request to a port of Secondary:ServeUrls goes to git's smart HTTP, and nothing else answers there.</summary>
    public static void MapGitServing(this WebApplication app)
    {
        var ports = app.Services.GetRequiredService<IOptions<Serving.ServeOptions>>().Value.ServePorts();
        if (ports.Count == 0)
        {
            return;
        }

        var serving = app.Services.GetRequiredService<Serving.GitHttpServing>();
        app.UseWhen(context => ports.Contains(context.Connection.LocalPort), branch => branch.Run(serving.HandleAsync));
    }

    /// <summary>Consumes this secondary's own durable quorum queue, geo.secondary.&lt;name&gt;.</summary>
    public static WebApplicationBuilder AddConsumers(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RabbitMqOptions, RabbitMqOptions.Validator>(RabbitMqOptions.Section).PostConfigure<IConfiguration>((rabbit, configuration) => rabbit.TakePlainHosts(configuration));
        builder.Services.AddValidatedOptions<RetryOptions, RetryOptions.Validator>(RetryOptions.Section);
        builder.Services.AddSingleton<DelayQueues>();
        builder.Services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry(); // MassTransit would report usage to its vendor over the Internet
            bus.AddConsumer<RepositorySyncConsumer, QuickRetryDefinition<RepositorySyncConsumer>>();
            bus.AddConsumer<SshKeyConsumer, QuickRetryDefinition<SshKeyConsumer>>();
            bus.AddConsumer<ProjectLifecycleConsumer, QuickRetryDefinition<ProjectLifecycleConsumer>>();
            bus.AddConsumer<Files.FileConsumer, QuickRetryDefinition<Files.FileConsumer>>();
            bus.UsingRabbitMq((context, cfg) =>
            {
                // Read when the bus is built, after the settings were checked at start.
                var rabbit = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                var secondary = context.GetRequiredService<IOptions<SecondaryOptions>>().Value;
                cfg.ConfigureHost(rabbit);
                cfg.ReceiveEndpoint(GeoTopology.QueueName(secondary.Name), endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    endpoint.PrefetchCount = (ushort)(secondary.ConcurrentMessages * 2);
                    endpoint.ConcurrentMessageLimit = secondary.ConcurrentMessages;
                    // Outer: redelivery through the delay queues. Inner, per consumer: quick retries in process.
                    endpoint.UseConsumeFilter(typeof(DelayedRedeliveryFilter<>), context);
                    endpoint.ConfigureConsumers(context); // each with its definition's quick retries
                });
            });
        });
        return builder;
    }

    /// <summary>Registry figures for /metrics, read from PostgreSQL when Prometheus scrapes.</summary>
    public static void CollectRegistryMetrics(this WebApplication app)
    {
        var registry = app.Services.GetRequiredService<ProjectRegistry>();
        var safetyNet = app.Services.GetRequiredService<SafetyNet.SafetyNetState>();
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(async cancellationToken =>
        {
            var (states, oldest) = await registry.SummaryAsync(cancellationToken);
            foreach (var state in new[] { ProjectState.Pending, ProjectState.Synced, ProjectState.Failed })
            {
                GeoMetrics.Projects.WithLabels(state).Set(states.GetValueOrDefault(state));
            }

            GeoMetrics.OldestPendingAge.Set(oldest);
            await safetyNet.ObserveAsync(cancellationToken);
            var differing = await registry.DifferingAsync(cancellationToken);
            foreach (var kind in RepositoryLayout.All)
            {
                GeoMetrics.MirrorsDiffering.WithLabels(RepositoryLayout.Label(kind)).Set(differing.GetValueOrDefault(kind));
            }
        });
    }

    /// <summary>
    /// Before the first sync: libgit2's network timeouts (process-wide, so set once here), and the mirror root's
    /// temp folder, without what a killed clone or deletion left there.
    /// </summary>
    public static void PrepareMirrors(this WebApplication app)
    {
        var mirrors = app.Services.GetRequiredService<IOptions<MirrorOptions>>().Value;
        GitNetworkTimeouts.Apply(mirrors.GitConnectTimeout, mirrors.GitTimeout);
        app.Services.GetRequiredService<MirrorRemover>().RemoveAbandonedTemps();
    }

    /// <summary>Applies infra/sql/secondary before consuming; waits for PostgreSQL rather than failing.</summary>
    public static Task MigrateAsync(this WebApplication app) => app.MigrateGeoDatabaseAsync(typeof(SecondaryServices).Assembly);
}
