using Microsoft.Extensions.Configuration;

namespace Geo.Events.Core.Configuration;

public static class GeoConfiguration
{
    /// <summary>
    /// The order every Geo.Events process reads settings in: appsettings.json, then environment variables
    /// prefixed <c>GEO_</c> (<c>GEO_RabbitMq__Host</c>), then the command line (<c>--RabbitMq:Host=...</c>).
    /// </summary>
    public static IConfigurationBuilder AddGeoSources(this IConfigurationBuilder configuration, string[] args) =>
        configuration
            .AddEnvironmentVariables("GEO_")
            .AddCommandLine(args);

    /// <summary>
    /// The settings of a command that runs without a host (geo-admin, <c>geo-primary admin-token</c>,
    /// <c>geo-secondary authorized-keys</c>): appsettings.json beside the binary, then <c>GEO_</c> variables.
    /// </summary>
    public static IConfigurationRoot ForCommand() =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddGeoSources([])
            .Build();
}
