using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using Prometheus;

namespace Geo.Events.Core.Observability;

/// <summary>
/// <c>/health/live</c> (the process answers), <c>/health/ready</c> (PostgreSQL and RabbitMQ answer, and
/// whatever else the service adds; a 503 names each failure) and <c>/metrics</c> for Prometheus.
/// </summary>
public static class HealthEndpoints
{
    public static void MapGeoHealthAndMetrics(this WebApplication app, Func<IServiceProvider, IEnumerable<string>>? extraFailures = null)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health/ready", async (NpgsqlDataSource db, IBusControl bus, IServiceProvider services, CancellationToken cancellationToken) =>
        {
            var failures = new List<string>();
            try
            {
                await using var command = db.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                failures.Add($"postgresql: {e.Message}");
            }

            var health = bus.CheckHealth();
            if (health.Status != BusHealthStatus.Healthy)
            {
                failures.Add($"rabbitmq: {health.Description}");
            }

            failures.AddRange(extraFailures?.Invoke(services) ?? []);
            return failures.Count == 0
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = "not ready", failures }, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        app.MapMetrics("/metrics");
    }
}
