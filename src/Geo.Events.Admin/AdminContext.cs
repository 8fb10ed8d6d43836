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
    private readonly string? _connectionString;
    private NpgsqlDataSource? _dataSource;

    private readonly string? _url;
    private AdminApi? _api;

    private AdminContext(string? connectionString, RabbitMqOptions rabbit, string? url)
    {
        _connectionString = connectionString;
        Rabbit = rabbit;
        _url = url;
    }

    /// <summary>geo-primary's database, opened on first use: a command that goes through the admin API never needs it.</summary>
    public NpgsqlDataSource DataSource => _dataSource ??= NpgsqlDataSource.Create(
        _connectionString ?? throw new UsageException(
            "ConnectionStrings:Postgres (geo-primary's database) is not set: GEO_ConnectionStrings__Postgres (or give geo-primary's --url / GEO_ADMIN_URL to go through its admin API)"));
    public RabbitMqOptions Rabbit { get; }

    /// <summary>geo-primary's admin API when <c>--url</c> or <c>GEO_ADMIN_URL</c> is given; commands that have moved to it use it instead of the database and broker.</summary>
    /// <remarks>Made on first use, so a command that does not go through the API runs without its token.</remarks>
    public AdminApi? Api => _url is null ? null : _api ??= AdminApi.Create(_url, Environment.GetEnvironmentVariable(TokenVariable));

    /// <summary>Set by <c>--url</c> (for this process only): geo-primary's URL for the admin API.</summary>
    public const string UrlVariable = "GEO_ADMIN_URL";

    public const string TokenVariable = "GEO_ADMIN_TOKEN";

    /// <summary>Who is acting, for the audit trail: GEO_ADMIN_ACTOR, else user@host.</summary>
    public static string Actor => Environment.GetEnvironmentVariable("GEO_ADMIN_ACTOR") is { Length: > 0 } actor
        ? actor
        : $"{Environment.UserName}@{Environment.MachineName}";

    public static AdminContext Create()
    {
        var configuration = GeoConfiguration.ForCommand();
        var url = Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } given ? given : null;
        var connectionString = configuration.GetConnectionString("Postgres");
        var rabbit = RabbitMqOptions.From(configuration);
        return new AdminContext(string.IsNullOrWhiteSpace(connectionString) ? null : connectionString, rabbit, url);
    }

    public ValueTask DisposeAsync()
    {
        _api?.Dispose();
        return _dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
