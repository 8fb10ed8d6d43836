using FluentValidation;
using Geo.Events.Core.Configuration;
using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Outbox;
using Geo.Events.Core.Secondaries;
using Geo.Events.Core.Storage;
using Geo.Events.Primary.DeadLetters;
using Geo.Events.Primary.Hooks;
using Geo.Events.Primary.Outbox;
using Geo.Events.Primary.Secondaries;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary;

/// <summary>The pieces of geo-primary, each wired in one place so Program.cs reads as the service's story.</summary>
public static class PrimaryServices
{
    public static WebApplicationBuilder AddEventStore(this WebApplicationBuilder builder)
    {
        builder.AddGeoDatabase();
        builder.Services.AddSingleton<EventLog>();
        return builder;
    }

    public static WebApplicationBuilder AddMessaging(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RabbitMqOptions, RabbitMqOptions.Validator>(RabbitMqOptions.Section).PostConfigure<IConfiguration>((rabbit, configuration) => rabbit.TakePlainHosts(configuration));
        builder.Services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry(); // MassTransit would report usage to its vendor over the Internet
            bus.UsingRabbitMq((context, cfg) => cfg.ConfigureHost(context.GetRequiredService<IOptions<RabbitMqOptions>>().Value));
        });
        builder.Services.AddSingleton<SecondaryStore>();
        builder.Services.AddSingleton<Admin.AdminTokenStore>();
        builder.Services.AddSingleton<Inventory.ProjectInventory>();
        builder.Services.AddSingleton<SecondaryQueues>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SecondaryQueues>());
        builder.Services.AddSingleton<DeadLetterStore>();
        builder.Services.AddHostedService<DeadLetterIngest>();
        return builder;
    }

    public static WebApplicationBuilder AddHookIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<PrimaryOptions, PrimaryOptions.Validator>(PrimaryOptions.Section);
        builder.Services.AddSingleton<HookToken>();
        builder.Services.AddSingleton<IValidator<SystemHookPayload>>(sp =>
            new SystemHookValidator(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<PrimaryOptions>>().Value.FileRoots()));
        builder.Services.AddSingleton<StoredPaths>();
        builder.Services.AddSingleton<IngestQueue>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<Leadership.LeaderLease>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Leadership.LeaderLease>());
        builder.Services.AddHostedService<OutboxDispatcher>();
        builder.Services.AddHostedService<Files.StorageWatcher>();
        builder.Services.AddHostedService<Repositories.RepositoryScanner>();
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>Applies infra/sql/primary before the service takes traffic; waits for PostgreSQL rather than failing.</summary>
    public static Task MigrateAsync(this WebApplication app) => app.MigrateGeoDatabaseAsync(typeof(PrimaryServices).Assembly);

    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapGeoHealthAndMetrics(
            services => services.GetRequiredService<SecondaryQueues>().IsDeclared
                ? []
                : ["rabbitmq: the secondaries' queues are not declared yet"],
            services => services.GetRequiredService<Leadership.LeaderLease>().IsLeader ? "leader" : "standby");

        var eventLog = app.Services.GetRequiredService<EventLog>();
        var deadLetters = app.Services.GetRequiredService<DeadLetterStore>();
        var secondaries = app.Services.GetRequiredService<SecondaryStore>();
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(async cancellationToken =>
        {
            var (backlog, oldest) = await eventLog.BacklogAsync(cancellationToken);
            GeoMetrics.OutboxBacklog.Set(backlog);
            GeoMetrics.OutboxOldestAge.Set(oldest?.TotalSeconds ?? 0);
            foreach (var (secondary, state, count) in await deadLetters.CountsAsync(cancellationToken))
            {
                GeoMetrics.DeadLetters.WithLabels(secondary, state).Set(count);
            }

            foreach (var row in await secondaries.RowsAsync(null, cancellationToken))
            {
                if (row.HeartbeatAgeSeconds is { } age)
                {
                    GeoMetrics.SecondaryHeartbeatAge.WithLabels(row.Name).Set(age);
                }
            }

            foreach (var lag in await secondaries.LagAsync(null, cancellationToken))
            {
                GeoMetrics.SecondaryUnapplied.WithLabels(lag.Name).Set(lag.Unapplied);
                GeoMetrics.SecondaryOldestUnappliedAge.WithLabels(lag.Name).Set(lag.OldestUnappliedSeconds ?? 0);
            }
        });
    }
}
