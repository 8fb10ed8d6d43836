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
    private AdminContext(NpgsqlDataSource dataSource, RabbitMqOptions rabbit, AdminApi? api)
    {
        DataSource = dataSource;
        Rabbit = rabbit;
        Api = api;
    }

    public NpgsqlDataSource DataSource { get; }
    public RabbitMqOptions Rabbit { get; }

    /// <summary>geo-primary's admin API when <c>--url</c> or <c>GEO_ADMIN_URL</c> is given; commands that have moved to it use it instead of the database and broker.</summary>
    public AdminApi? Api { get; }

    /// <summary>Set by <c>--url</c> (for this process only): geo-primary's URL for the admin API.</summary>
    public const string UrlVariable = "GEO_ADMIN_URL";

    public const string TokenVariable = "GEO_ADMIN_TOKEN";

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
        var api = Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url
            ? AdminApi.Create(url, Environment.GetEnvironmentVariable(TokenVariable))
            : null;
        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres (geo-primary's database) is not set: GEO_ConnectionStrings__Postgres");
        var rabbit = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        return new AdminContext(NpgsqlDataSource.Create(connectionString), rabbit, api);
    }

    public ValueTask DisposeAsync()
    {
        Api?.Dispose();
        return DataSource.DisposeAsync();
    }
}
