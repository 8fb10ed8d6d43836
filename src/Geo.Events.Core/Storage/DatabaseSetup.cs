using System.Reflection;
using Geo.Events.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Core.Storage;

/// <summary>How each service reaches its own PostgreSQL database: ConnectionStrings:Postgres, pooled.</summary>
public static class DatabaseSetup
{
    public static void AddGeoDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<DatabaseOptions, DatabaseOptions.Validator>(DatabaseOptions.Section);
        builder.Services.AddSingleton(services => CreateDataSource(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Postgres));
    }

    /// <summary>How many statements each pooled connection keeps prepared when the connection string does not say.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>
    /// The service's pool. The few statements a service runs for every event are prepared on each pooled connection
    /// after their fifth use (Npgsql's automatic preparation), so PostgreSQL parses and plans them once per connection
    /// instead of once per call. A connection string that sets <c>Max Auto Prepare</c> itself wins: 0 turns it off, as
    /// a pooler in transaction mode (PgBouncer before 1.21) needs.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        return NpgsqlDataSource.Create(builder);
    }

    /// <summary>Applies the SQL files embedded in <paramref name="migrations"/> before the service takes work; waits for PostgreSQL rather than failing.</summary>
    public static Task MigrateGeoDatabaseAsync(this WebApplication app, Assembly migrations) =>
        new Migrator(app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Postgres, migrations, app.Logger)
            .MigrateWithRetryAsync(app.Lifetime.ApplicationStopping);
}
