using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Core.Storage;

/// <summary>Section <c>ConnectionStrings</c>: the service's own PostgreSQL database.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "ConnectionStrings";

    /// <summary><c>ConnectionStrings:Postgres</c>, an Npgsql connection string.</summary>
    public string Postgres { get; set; } = "";

    /// <summary>
    /// Opens a connection of its own, outside the pool, for a session that must last as long as its holder (an
    /// advisory lock that belongs to the session, a LISTEN). TCP keepalive every <paramref name="keepAliveSeconds"/>
    /// notices a server that went away; the caller disposes the connection, which ends the session.
    /// </summary>
    public async Task<NpgsqlConnection> OpenDedicatedAsync(string applicationName, int keepAliveSeconds, CancellationToken cancellationToken, int? commandTimeoutSeconds = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(Postgres)
        {
            Pooling = false,
            ApplicationName = applicationName,
            KeepAlive = keepAliveSeconds,
        };
        if (commandTimeoutSeconds is { } timeout)
        {
            builder.CommandTimeout = timeout;
        }

        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public sealed class Validator : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options) => GeoOptions.Result(
            string.IsNullOrWhiteSpace(options.Postgres) ? ["ConnectionStrings:Postgres is not set (GEO_ConnectionStrings__Postgres)"] : []);
    }
}
