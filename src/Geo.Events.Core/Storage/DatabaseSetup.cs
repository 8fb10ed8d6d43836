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
        builder.Services.AddSingleton(services => NpgsqlDataSource.Create(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Postgres));
    }

    /// <summary>Applies the SQL files embedded in <paramref name="migrations"/> before the service takes work; waits for PostgreSQL rather than failing.</summary>
    public static Task MigrateGeoDatabaseAsync(this WebApplication app, Assembly migrations) =>
        new Migrator(app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Postgres, migrations, app.Logger)
            .MigrateWithRetryAsync(app.Lifetime.ApplicationStopping);
}
