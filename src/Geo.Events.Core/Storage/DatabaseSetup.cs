using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Geo.Events.Core.Storage;

/// <summary>How each service reaches its own PostgreSQL database: ConnectionStrings:Postgres, pooled.</summary>
public static class DatabaseSetup
{
    public static void AddGeoDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = ConnectionString(builder.Configuration);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
    }

    /// <summary>Applies the SQL files embedded in <paramref name="migrations"/> before the service takes work; waits for PostgreSQL rather than failing.</summary>
    public static Task MigrateGeoDatabaseAsync(this WebApplication app, Assembly migrations) =>
        new Migrator(ConnectionString(app.Configuration), migrations, app.Logger).MigrateWithRetryAsync(app.Lifetime.ApplicationStopping);

    private static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (GEO_ConnectionStrings__Postgres)");
}
