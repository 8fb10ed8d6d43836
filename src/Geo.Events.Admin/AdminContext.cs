using Geo.Events.Core.Configuration;
using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Geo.Events.Admin;

/// <summary>
/// What geo-admin talks to: geo-primary's PostgreSQL (dead letters, history) and the broker. Read like the
/// services' settings: appsettings.json beside the binary, then GEO_ environment variables.
/// </summary>
public sealed class AdminContext : IAsyncDisposable
{
    private AdminContext(NpgsqlDataSource dataSource, RabbitMqOptions rabbit)
    {
        DataSource = dataSource;
        Rabbit = rabbit;
    }

    public NpgsqlDataSource DataSource { get; }
    public RabbitMqOptions Rabbit { get; }

    /// <summary>Who is acting, for the audit trail: GEO_ADMIN_ACTOR, else user@host.</summary>
    public static string Actor => Environment.GetEnvironmentVariable("GEO_ADMIN_ACTOR") is { Length: > 0 } actor
        ? actor
        : $"{Environment.UserName}@{Environment.MachineName}";

    public static AdminContext Create()
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddGeoSources([])
            .Build();
        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres (geo-primary's database) is not set: GEO_ConnectionStrings__Postgres");
        var rabbit = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        return new AdminContext(NpgsqlDataSource.Create(connectionString), rabbit);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
