using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Core.Storage;

/// <summary>Section <c>ConnectionStrings</c>: the service's own PostgreSQL database.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "ConnectionStrings";

    /// <summary><c>ConnectionStrings:Postgres</c>, an Npgsql connection string.</summary>
    public string Postgres { get; set; } = "";

    public sealed class Validator : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options) => GeoOptions.Result(
            string.IsNullOrWhiteSpace(options.Postgres) ? ["ConnectionStrings:Postgres is not set (GEO_ConnectionStrings__Postgres)"] : []);
    }
}
