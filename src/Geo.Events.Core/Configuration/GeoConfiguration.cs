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
}
